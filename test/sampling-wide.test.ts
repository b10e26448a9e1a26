// Argmax and the GPU sampler over many workgroups (profile sampling 'wide', the GPU profile's) against the
// one-workgroup kernels (the software profile's) on stories260K: the same seeded tokens. Greedy is exact (both
// take the largest logit, lowest id on ties); a draw sums the same masses in another order, so a pick could
// differ only where r falls within rounding (~1e-7 of the mass) of a boundary between two tokens — these seeds
// never do. Top-k's radix select keeps the same set (integer histograms); top-p requests take sample.wgsl on
// either profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { Session } from '../src/engine/worker/session';
import type { GenerateOptions } from '../src/engine/types';
import { fixturePath } from './helpers/fixtures';

test("sampling 'wide' gives the tokens of sampling 'single': greedy, temperature, min-p with penalties, top-k, top-k with top-p", async () => {
  const gpu = await acquireDevice();
  try {
    const path = fixturePath('models/stories260K/stories260K.gguf');
    const sessions = [];
    const loads = [];
    for (const sampling of ['single', 'wide'] as const) {
      const loaded = await loadModel(gpu, path, { contextLength: 256, profile: { sampling } });
      assert.equal(loaded.info.profile?.sampling, sampling);
      loads.push(loaded);
      sessions.push(new Session(loaded));
    }
    const requests: GenerateOptions[] = [
      {},
      { temperature: 1, seed: 3 },
      { temperature: 0.7, minP: 0.05, repetitionPenalty: 1.3, frequencyPenalty: 0.2, logitBias: { 13: 1.5 }, seed: 11 },
      { temperature: 0.9, topK: 20, seed: 5 },
      { temperature: 0.9, topK: 20, topP: 0.9, seed: 5 },
    ];
    for (const options of requests) {
      const ids = [];
      for (const session of sessions) {
        session.reset();
        ids.push((await session.generate('Once upon a time', { maxTokens: 60, ...options }, () => {})).tokens);
      }
      assert.ok(ids[0]!.length >= 20, `${ids[0]!.length} tokens`);
      assert.deepEqual(ids[1], ids[0], `tokens for ${JSON.stringify(options)}`);
    }
    for (const session of sessions) await session.dispose();
    for (const loaded of loads) loaded.destroy();
  } finally {
    gpu.device.destroy();
  }
});
