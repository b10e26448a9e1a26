// How a prefill pass is cut into submits. A submit is what a GPU runs without the host in between: the OS resets
// a GPU whose work runs too long (Windows after 2 s: a lost device), and an abort can only land between submits.
// One pass of a large model over a full batch can take seconds on a slow GPU, so each pass is cut into groups of
// consecutive layers whose estimated time stays within SUBMIT_SECONDS, and a pass takes fewer tokens when one layer
// of a full batch would not. The estimate is the work of each layer (weight bytes read, 2 · parameters · tokens
// FLOPs, attention over the cached positions) at the throughput the adapter profile assumes of a slow device of
// its kind (AdapterProfile.throughput); a small model's pass stays one submit.
import type { Throughput } from '../gpu/profile';
import type { ModelConfig } from './config';
import type { LayerWeights } from './layer';

/** The longest a prefill submit is planned to run on the profile's slow device. */
export const SUBMIT_SECONDS = 0.5;

/** What one layer's products read (bytes as stored) and multiply (parameters). */
export interface LayerWork { bytes: number; params: number }

export class SubmitPlan {
  /** `work`: each layer's (layerWork). `throughput` undefined: no estimate, every pass one submit of `batchSize` tokens. */
  constructor(
    private readonly config: Pick<ModelConfig, 'headCount' | 'headCountKv' | 'headDim'>,
    private readonly work: readonly LayerWork[],
    private readonly batchSize: number,
    private readonly throughput: Throughput | undefined,
  ) {}

  /** Tokens the pass at `pos` runs, of `remaining`: a full batch unless one layer of it would exceed SUBMIT_SECONDS. */
  passTokens(pos: number, remaining: number): number {
    let n = this.batchSize;
    const heaviest = (tokens: number) => Math.max(...this.work.map((_, l) => this.layerSeconds(l, tokens, pos)));
    while (n > 4 && heaviest(Math.min(n, remaining)) > SUBMIT_SECONDS) n = 4 * Math.ceil(n / 8); // halved, a multiple of matmul's 4 tokens
    return Math.min(n, remaining);
  }

  /**
   * The layer groups of a pass of `n` tokens at `pos`, as each group's end (exclusive; the last is the layer count):
   * consecutive layers while their estimate stays within SUBMIT_SECONDS, at least one layer a group.
   */
  layerGroups(n: number, pos: number): number[] {
    const ends: number[] = [];
    let seconds = 0;
    for (let l = 0; l < this.work.length; l++) {
      const layer = this.layerSeconds(l, n, pos);
      if (l > 0 && seconds + layer > SUBMIT_SECONDS) {
        ends.push(l);
        seconds = 0;
      }
      seconds += layer;
    }
    ends.push(this.work.length);
    return ends;
  }

  /** Layer l's estimated seconds for `n` tokens at positions pos…pos + n - 1 (0 without a throughput). */
  layerSeconds(l: number, n: number, pos: number): number {
    if (!this.throughput) return 0;
    const { headCount, headCountKv, headDim } = this.config;
    const { bytes, params } = this.work[l]!;
    // Causal attention: token t attends pos + t + 1 positions, with a q·k and a weighted v of headDim each per head.
    const attended = n * pos + (n * (n + 1)) / 2;
    const flops = 2 * params * n + 4 * headCount * headDim * attended;
    const cacheBytes = 2 * 4 * headCountKv * headDim * (pos + n); // f32 keys and values read
    return flops / this.throughput.flopsPerSecond + (bytes + cacheBytes) / this.throughput.bytesPerSecond;
  }
}

export function layerWork(w: LayerWeights): LayerWork {
  const matrices = [...w.qkv.matrices, w.o.weight, ...w.ffnIn.matrices, w.down.weight];
  return {
    bytes: matrices.reduce((sum, m) => sum + m.buffer.size, 0),
    params: matrices.reduce((sum, m) => sum + m.rows * m.cols, 0),
  };
}
