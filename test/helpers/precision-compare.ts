// f16 arithmetic against f32 on one model: both precisions fed the same tokens (the f32 path's greedy
// continuation of a prompt), per-step logits compared, plus how far each precision's own greedy run agrees.
import { acquireDevice } from '../../src/gpu/device';
import { loadModel } from '../../src/model/load';
import type { ModelSource } from '../../src/engine/types';
import type { LoadQuantization } from '../../src/model/quantize';
import type { KvCacheOption, ProfileOption } from '../../src/gpu/profile';

/**
 * How both runs load and feed the model: the kernel profile, the KV cache (default 'f32', so that only the
 * arithmetic differs; the f16 cache is compared in test/kv-cache.test.ts), and the prompt in one prefill pass
 * instead of step by step.
 */
export interface CompareOptions { profile?: ProfileOption; kvCache?: KvCacheOption; prefill?: boolean }

export interface PrecisionComparison {
  /** ModelInfo.precision of the two loads: the f32 reference and the other (what 'auto' chose, when asked for). */
  chosen: { f32: string; other: string };
  promptIds: number[];
  /** f32 greedy ids: the context both precisions are fed. */
  f32Ids: number[];
  /**
   * Leading greedy ids a free-running f16 generation shares with f32's: both see the same context until the
   * first step whose argmaxes differ, so this is the number of leading steps with `argmaxAgrees`.
   */
  greedyAgree: number;
  /** Per step: max_i |f16_i − f32_i|, max_i |f32_i|, f32's top-1 minus top-2, and whether the argmaxes agree. */
  steps: { maxAbsDiff: number; maxAbsLogit: number; margin: number; argmaxAgrees: boolean }[];
  /** max over steps of maxAbsDiff / maxAbsLogit. */
  maxRelDiff: number;
}

/**
 * Runs `model` at f32 and at `other` ('auto', 'f16' or 'q8') over `steps` greedy steps after `prompt` (tokenized
 * with BOS); `quantize` quantizes float weights at load for both runs.
 */
export async function comparePrecisions(model: ModelSource, prompt: string, steps: number, other: 'auto' | 'f16' | 'q8' = 'auto', quantize?: LoadQuantization,
  options: CompareOptions = {}): Promise<PrecisionComparison> {
  const gpu = await acquireDevice();
  try {
    /** Logits of `steps` steps after the prompt: greedy on its own argmax, or fed `forced`. */
    const run = async (precision: 'f32' | 'auto' | 'f16' | 'q8', forced?: number[]) => {
      const loaded = await loadModel(gpu, model instanceof Uint8Array ? model.slice() : model, { contextLength: 128, precision, quantize, profile: options.profile, kvCache: options.kvCache ?? 'f32' });
      try {
        const promptIds = loaded.tokenizer.encode(prompt, { addBos: true });
        if (options.prefill) loaded.model.prefill(promptIds.slice(0, -1), 0);
        else for (let pos = 0; pos < promptIds.length - 1; pos++) await loaded.model.step(promptIds[pos]!, pos, 'none');
        const ids: number[] = [];
        const logits: Float32Array[] = [];
        let token = promptIds[promptIds.length - 1]!;
        for (let s = 0; s < steps; s++) {
          logits.push(await loaded.model.step(token, promptIds.length - 1 + s, 'logits'));
          ids.push(argmax(logits[s]!));
          token = forced ? forced[s]! : ids[s]!;
        }
        return { promptIds, ids, logits, precision: loaded.info.precision };
      } finally {
        loaded.destroy();
      }
    };
    const ref = await run('f32');
    const alt = await run(other, ref.ids);
    const stepsReport = ref.logits.map((want, s) => {
      const got = alt.logits[s]!;
      let maxAbsDiff = 0, maxAbsLogit = 0, top1 = -Infinity, top2 = -Infinity;
      for (let i = 0; i < want.length; i++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i]! - want[i]!));
        maxAbsLogit = Math.max(maxAbsLogit, Math.abs(want[i]!));
        if (want[i]! > top1) { top2 = top1; top1 = want[i]!; } else if (want[i]! > top2) top2 = want[i]!;
      }
      return { maxAbsDiff, maxAbsLogit, margin: top1 - top2, argmaxAgrees: alt.ids[s] === ref.ids[s] };
    });
    const firstDiffering = stepsReport.findIndex((r) => !r.argmaxAgrees);
    return {
      chosen: { f32: ref.precision, other: alt.precision },
      promptIds: ref.promptIds, f32Ids: ref.ids, greedyAgree: firstDiffering < 0 ? steps : firstDiffering, steps: stepsReport,
      maxRelDiff: Math.max(...stepsReport.map((r) => r.maxAbsDiff / r.maxAbsLogit)),
    };
  } finally {
    gpu.device.destroy();
  }
}

function argmax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}
