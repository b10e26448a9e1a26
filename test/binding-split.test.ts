// Matrices larger than one storage binding are bound in row blocks (big vocabularies exceed
// lavapipe's and browsers' 128 MiB binding limit). A lowered limit exercises the same path on
// stories260K: the output must not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { acquireDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { Session } from '../src/engine/worker/session';
import { ResourceError } from '../src/errors';
import { fixturePath } from './helpers/fixtures';

interface Ref { prompt: string | null; generated_token_ids: number[] }
const refs: Ref[] = JSON.parse(readFileSync(fixturePath('models/stories260K/refs.json'), 'utf8')).refs;
const model = fixturePath('models/stories260K/stories260K.gguf');

test('a 48 KiB binding limit splits the 128 KiB embedding/output table into row blocks; greedy ids unchanged', async () => {
  const gpu = await acquireDevice();
  try {
    const labels: string[] = [];
    const createBindGroup = gpu.device.createBindGroup.bind(gpu.device);
    gpu.device.createBindGroup = (d: GPUBindGroupDescriptor) => { labels.push(d.label ?? ''); return createBindGroup(d); };
    const loaded = await loadModel(gpu, model, { contextLength: 256, bindingLimit: 48 * 1024, precision: 'f32' }); // f32: ids compared with llama2.c's
    // token_embd [512 rows of 256 bytes] doubles as the output matrix: 3 blocks of ≤ 192 rows each.
    // (Blocks compile concurrently, so bind groups are made in any order; sort before comparing.)
    assert.deepEqual(labels.filter((l) => l.startsWith('embedding')).sort(), ['embedding [rows 0+192]', 'embedding [rows 192+192]', 'embedding [rows 384+128]']);
    assert.deepEqual(labels.filter((l) => l.startsWith('output ')).sort(), ['output [rows 0+192]', 'output [rows 192+192]', 'output [rows 384+128]']);
    const session = new Session(loaded);
    for (const r of refs.slice(0, 3)) {
      session.reset();
      const result = await session.generate(r.prompt ?? '', { maxTokens: r.generated_token_ids.length }, () => {});
      assert.deepEqual(result.tokens, r.generated_token_ids, `prompt ${JSON.stringify(r.prompt)}`);
    }
    loaded.destroy();
  } finally {
    gpu.device.destroy();
  }
});

test('a matrix whose smallest row block exceeds the binding limit is a ResourceError', async () => {
  const gpu = await acquireDevice();
  try {
    await assert.rejects(loadModel(gpu, model, { contextLength: 64, bindingLimit: 4 * 1024 }), (e: unknown) => {
      assert.ok(e instanceof ResourceError, String(e));
      assert.match(e.message, /binding limit|binds at most/);
      return true;
    });
  } finally {
    gpu.device.destroy();
  }
});
