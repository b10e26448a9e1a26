// The sampler on the GPU: logit processors (logit-process.wgsl), truncation and the seeded draw (sample.wgsl, or
// sample-wide.wgsl's passes over many workgroups for a request without top-k and top-p where the model's profile
// samples 'wide') and, when asked, log-probabilities (logprobs.wgsl) run in the decode step's own pass, after the
// output head.
// A request writes its parameters, logit bias and penalty history once; a step writes nothing more (the
// draw counter and the output counts advance on the GPU) and reads back only the chosen id — plus the
// logprobs when the request wants them, and the JSON grammar's token mask goes up before each step in JSON mode.
// Everything here is made once per loaded model, on the first request that samples.
import { BufferPool } from '../gpu/buffers';
import { reductionParts, workgroups } from '../gpu/kernels';
import type { ReductionEntryPoint } from '../gpu/shaders';
import { Dispatcher, type Dispatch } from '../model/dispatch';
import type { TokenPicker, TransformerModel } from '../model/transformer';
import { MAX_TOP_LOGPROBS, type GenerateRequest } from '../engine/options';

/** Bits of Sampling.flags (shaders/common/sampling.wgsl, the preamble of the three sampler kernels). */
const SAMPLING_FLAGS = { mask: 1, bias: 2, penalties: 4, greedy: 8 } as const;
/** min_p_log meaning "no min-p": below every finite score. */
const MIN_P_OFF = -3.4e38;
/** Prompt tokens carry this bit in the history (repetition penalty); the low bits count output occurrences. */
export const IN_PROMPT = 0x80000000;

/** The Sampling uniform (12 words) of a request, as the kernels read it. */
export function samplingUniform(r: GenerateRequest, masked: boolean): ArrayBuffer {
  const s = r.sampling;
  const buffer = new ArrayBuffer(48);
  const f = new Float32Array(buffer);
  const u = new Uint32Array(buffer);
  f[0] = s.temperature > 0 ? 1 / s.temperature : 1;
  f[1] = s.repetitionPenalty;
  f[2] = s.frequencyPenalty;
  f[3] = s.presencePenalty;
  f[4] = s.topP;
  f[5] = s.minP > 0 ? Math.log(s.minP) : MIN_P_OFF;
  u[6] = s.topK;
  u[7] = s.seed >>> 0;
  u[8] = (masked ? SAMPLING_FLAGS.mask : 0) | (s.logitBias.length > 0 ? SAMPLING_FLAGS.bias : 0)
    | (hasPenalties(r) ? SAMPLING_FLAGS.penalties : 0) | (s.temperature === 0 ? SAMPLING_FLAGS.greedy : 0);
  u[9] = r.logprobs ?? 0;
  return buffer;
}

function hasPenalties(r: GenerateRequest): boolean {
  const s = r.sampling;
  return s.repetitionPenalty !== 1 || s.frequencyPenalty !== 0 || s.presencePenalty !== 0;
}

/** What a step's draw did, for tests: sample.wgsl's `report`. */
export interface DrawReport { keptCount: number; keptMass: number; r: number; topPKey: number }

/** The log-probability of the chosen token and the most likely ones (ids, logprob), largest first. */
export interface StepLogprobs { logprob: number; top: [number, number][] }

interface Pickers { plain: TokenPicker; withLogprobs: TokenPicker }

/**
 * Which draw a request takes where the profile samples 'wide': sample.wgsl for top-p (its radix select on mass
 * stays in one workgroup), sample-wide's top-k passes for top-k, else sample-wide alone. Greedy ignores both.
 */
function wideDraw(r: GenerateRequest, vocabSize: number): 'single' | 'topK' | 'all' {
  const s = r.sampling;
  if (s.temperature === 0) return 'all';
  if (s.topP < 1) return 'single';
  return s.topK > 0 && s.topK < vocabSize ? 'topK' : 'all';
}

/** sample-wide.wgsl's passes after logit-process, without and with the top-k ones (buffers bound as each entry point uses them). */
async function wideDraws(d: Dispatcher, N: number, b: Record<'params' | 'scores' | 'history' | 'state' | 'report' | 'parts' | 'hist', GPUBuffer> & { token: GPUBufferBinding }) {
  const PARTS = reductionParts(N);
  const make = (entry: ReductionEntryPoint, groups: number, buffers: (GPUBuffer | GPUBufferBinding | null)[], constants: Record<string, number> = {}) =>
    d.make(`sample ${entry}${constants.ROUND === undefined ? '' : ` ${constants.ROUND}`}`, 'sample-wide', { N, PARTS, ...constants }, groups, buffers, undefined, entry);
  const { params, scores, history, state, token, report, parts, hist } = b;
  const sliceMax = await make('slice_max', PARTS, [null, scores, null, null, null, null, parts, hist]);
  const rounds = await Promise.all([0, 1, 2, 3].map((ROUND) => make('khist', PARTS, [params, scores, null, null, null, null, null, hist], { ROUND })));
  const ties = await make('kties', PARTS, [params, scores, null, null, null, null, parts, hist]);
  const cut = await make('kcut', 1, [params, scores, null, null, null, null, parts, hist]);
  const mass = await make('slice_mass', PARTS, [params, scores, null, null, null, null, parts]);
  const draw = await make('draw', 1, [params, scores, history, state, token, report, parts]);
  return { all: [sliceMax, mass, draw], topK: [sliceMax, ...rounds, ties, cut, mass, draw] };
}

export class GpuSampler {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    private readonly vocabSize: number,
    private readonly b: { params: GPUBuffer; bias: GPUBuffer; history: GPUBuffer; mask: GPUBuffer; state: GPUBuffer; report: GPUBuffer; parts: GPUBuffer; logprobs: GPUBuffer; logprobsReadback: GPUBuffer; reportReadback: GPUBuffer },
    /**
     * [process, sample] and [process, sample, logprobs] (with the logprobs copy); `wide`: the same with
     * sample-wide's passes in place of sample, where the profile samples 'wide' (`topK`: with its top-k passes).
     */
    private readonly pickers: Pickers & { wide: { all: Pickers; topK: Pickers } | null },
  ) {}

  static async create(device: GPUDevice, model: TransformerModel): Promise<GpuSampler> {
    const N = model.config.vocabSize;
    const pool = new BufferPool(device);
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const read = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    const logprobsBytes = 4 * (1 + 2 * MAX_TOP_LOGPROBS);
    const PARTS = reductionParts(N);
    const b = {
      params: pool.create('sampling params', 48, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      bias: pool.create('logit bias', 4 * N, storage), // [N] f32
      history: pool.create('token history', 4 * N, storage), // [N] u32: IN_PROMPT | output count
      mask: pool.create('grammar mask', 4 * Math.ceil(N / 32), storage), // [N / 32] u32 bits
      scores: pool.create('sampling scores', 4 * N, storage), // [N] f32: processed logits
      state: pool.create('sampling state', 4, storage), // [1] u32: draws so far
      report: pool.create('draw report', 16, storage), // [4] u32
      parts: pool.create('sampling partials', 4 * (6 * PARTS + 2), storage), // sample-wide's per-slice max, id, mass, count, last, ties; k-th key, kcut
      hist: pool.create('top-k histograms', 4 * 4 * 256, storage), // [4 rounds][256] u32
      logprobs: pool.create('logprobs', logprobsBytes, storage), // [1 + 2 · 20]
      logprobsReadback: pool.create('logprobs readback', logprobsBytes, read),
      reportReadback: pool.create('draw report readback', 16, read),
    };
    try {
      const d = new Dispatcher(device);
      const logits = model.logitsBuffer;
      const token = model.tokenBuffer;
      const process = await d.make('logit-process', 'logit-process', { N }, workgroups(N), [b.params, logits, b.bias, b.history, b.mask, b.scores]);
      const sample = await d.make('sample', 'sample', { N }, 1, [b.params, b.scores, b.history, b.state, { buffer: token, offset: 0, size: 4 }, b.report]);
      const logprobs = await d.make('logprobs', 'logprobs', { N }, 1, [b.params, logits, { buffer: token, offset: 0, size: 4 }, b.logprobs]);
      const wide = model.wideSampling ? await wideDraws(d, N, { ...b, token: { buffer: token, offset: 0, size: 4 } }) : null;
      await d.ready(); // they compile in parallel
      const copyLogprobs = (encoder: GPUCommandEncoder) => encoder.copyBufferToBuffer(b.logprobs, 0, b.logprobsReadback, 0, logprobsBytes);
      const pickers = (draw: Dispatch[]): Pickers => ({
        plain: { dispatches: [process, ...draw] },
        withLogprobs: { dispatches: [process, ...draw, logprobs], afterPass: copyLogprobs },
      });
      return new GpuSampler(device, pool, N, b, { ...pickers([sample]), wide: wide && { all: pickers(wide.all), topK: pickers(wide.topK) } });
    } catch (e) {
      pool.destroy();
      throw e;
    }
  }

  /** GPU bytes of the sampler's buffers. */
  get bytes(): number { return this.pool.bytes; }

  /**
   * Sets up one request: its parameters, logit bias and penalty history (prompt tokens marked), and the draw
   * counter back to 0. Returns what model.step runs in place of argmax. `masked`: a grammar mask will be
   * written (setMask) before every step.
   */
  begin(request: GenerateRequest, promptTokens: readonly number[], masked: boolean): TokenPicker {
    const { device, b, vocabSize } = this;
    device.queue.writeBuffer(b.params, 0, samplingUniform(request, masked));
    if (request.sampling.logitBias.length > 0) {
      const bias = new Float32Array(vocabSize);
      for (const [id, value] of request.sampling.logitBias) bias[id] = value;
      device.queue.writeBuffer(b.bias, 0, bias);
    }
    if (hasPenalties(request)) {
      const history = new Uint32Array(vocabSize);
      for (const id of promptTokens) history[id] = IN_PROMPT;
      device.queue.writeBuffer(b.history, 0, history);
    }
    device.queue.writeBuffer(b.state, 0, new Uint32Array([0]));
    const draw = this.pickers.wide ? wideDraw(request, vocabSize) : 'single';
    const pickers = draw === 'single' ? this.pickers : this.pickers.wide![draw];
    return request.logprobs === null ? pickers.plain : pickers.withLogprobs;
  }

  /** The tokens the next step may pick: bit i % 32 of word i / 32 for token i. */
  setMask(words: Uint32Array): void {
    this.device.queue.writeBuffer(this.b.mask, 0, words as Uint32Array<ArrayBuffer>);
  }

  /** The logprobs of the step just run (requests with logprobs; the step copied them for reading). */
  async readLogprobs(topN: number): Promise<StepLogprobs> {
    const rb = this.b.logprobsReadback;
    await rb.mapAsync(GPUMapMode.READ);
    const words = new Uint32Array(rb.getMappedRange().slice(0));
    rb.unmap();
    const f = new Float32Array(words.buffer);
    const top: [number, number][] = [];
    for (let n = 0; n < topN; n++) top.push([words[1 + 2 * n]!, f[2 + 2 * n]!]);
    return { logprob: f[0]!, top };
  }

  /** What the last draw kept and drew (tests). */
  async readReport(): Promise<DrawReport> {
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.b.report, 0, this.b.reportReadback, 0, 16);
    this.device.queue.submit([encoder.finish()]);
    await this.b.reportReadback.mapAsync(GPUMapMode.READ);
    const words = new Uint32Array(this.b.reportReadback.getMappedRange().slice(0));
    this.b.reportReadback.unmap();
    const f = new Float32Array(words.buffer);
    return { keptCount: words[0]!, keptMass: f[1]!, r: f[2]!, topPKey: words[3]! };
  }

  destroy(): void {
    this.pool.destroy();
  }
}
