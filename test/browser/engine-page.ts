// Test page: the public API as a user imports it, plus test-only access to first-step logits.
import { hearth } from './webgpu-default';
import { acquireDevice } from '../../src/gpu/device';
import { loadModel } from '../../src/model/load';
import type { ProfileOption } from '../../src/gpu/profile';
import { greedyLogits } from '../helpers/greedy-logits';

/** First-step logits for BOS, computed on this page's own device (not in the worker). */
async function bosLogits(url: string): Promise<number[]> {
  const gpu = await acquireDevice();
  try {
    const loaded = await loadModel(gpu, url, { contextLength: 64 });
    const logits = await loaded.model.step(loaded.tokenizer.bosId!, 0, 'logits');
    loaded.destroy();
    return Array.from(logits);
  } finally {
    gpu.device.destroy();
  }
}

/**
 * A greedy run on this page's own device under `profile` (precision f32, so only the kernel variants differ):
 * the profile the load reports, its ids, and every step's logits; fed `forced` instead of its own ids when given.
 */
async function profileRun(url: string, profile: ProfileOption, promptIds: number[], steps: number, forced?: number[]) {
  const gpu = await acquireDevice();
  try {
    const loaded = await loadModel(gpu, url, { contextLength: 2048, precision: 'f32', profile });
    try {
      const { ids, logits } = await greedyLogits(loaded, promptIds, steps, forced);
      return { profile: loaded.info.profile, ids, logits: logits.map((l) => Array.from(l)) };
    } finally {
      loaded.destroy();
    }
  } finally {
    gpu.device.destroy();
  }
}

/** Tries to load a model through the public API; reports how it failed as plain data. */
async function tryLoad(model: string | Uint8Array, options: { precision?: 'auto' | 'f16' | 'f32' } = {}) {
  try {
    const engine = await hearth.createEngine(model, options);
    await engine.dispose();
    return { ok: true };
  } catch (e) {
    const err = e as Error & { code?: string; status?: number; retryable?: boolean };
    return { ok: false, name: err.name, code: err.code, message: err.message, isHearth: err instanceof hearth.HearthError, status: err.status, retryable: err.retryable };
  }
}

/** The embedded default model's bytes, for making broken copies. */
async function defaultModelBytes(): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch('/public/stories260K.gguf')).arrayBuffer());
}

Object.assign(window, { hearth, hearthTest: { bosLogits, profileRun, tryLoad, defaultModelBytes }, hearthReady: true });
