// A loaded model's greedy continuation with every step's logits, in Node or in a test page (no Node imports).
import type { LoadedModel } from '../../src/model/load';

/**
 * Prefills `promptIds` but the last, then `steps` decode steps: greedy on the model's own argmax, or fed `forced`
 * (another run's ids) so two loads see the same context however they round.
 */
export async function greedyLogits(loaded: LoadedModel, promptIds: number[], steps: number, forced?: number[]): Promise<{ ids: number[]; logits: Float32Array[] }> {
  loaded.model.prefill(promptIds.slice(0, -1), 0);
  const ids: number[] = [];
  const logits: Float32Array[] = [];
  let token = promptIds.at(-1)!;
  for (let s = 0; s < steps; s++) {
    const l = await loaded.model.step(token, promptIds.length - 1 + s, 'logits');
    logits.push(l);
    ids.push(l.reduce((best, x, i) => (x > l[best]! ? i : best), 0));
    token = forced ? forced[s]! : ids[s]!;
  }
  return { ids, logits };
}

/** max over steps of max_i |a_i − b_i| / max_i |a_i|: how far one run's logits are from a reference's. */
export function maxRelativeDiff(reference: ArrayLike<number>[], other: ArrayLike<number>[]): number {
  let worst = 0;
  reference.forEach((want, s) => {
    const got = other[s]!;
    let diff = 0, scale = 0;
    for (let i = 0; i < want.length; i++) {
      diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
      scale = Math.max(scale, Math.abs(want[i]!));
    }
    worst = Math.max(worst, diff / scale);
  });
  return worst;
}
