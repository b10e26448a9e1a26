// dispose() and unload() release everything on the GPU: every buffer destroyed (bytes back to zero), the device
// destroyed, and no device, buffer, shader module, pipeline, bind group or command encoder left reachable from
// JavaScript once collected (Dawn frees a destroyed device's memory only when its last object is collected).
// Also after a failed load, a load disposed midway, reload and JSON-constrained sampling. RSS itself is
// measured by scripts/memory-cycles.ts (README: memory across create/dispose cycles), not asserted here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, FormatError } from '../src/index';
import { acquireDevice } from '../src/gpu/device';
import { fixturePath } from './helpers/fixtures';
import { trackGpuObjects, type GpuObjectTracker } from './helpers/gpu-objects';

const STORIES = fixturePath('models/stories260K/stories260K.gguf');
const NONE = { device: 0, buffer: 0, shaderModule: 0, pipeline: 0, bindGroup: 0, commandEncoder: 0 };

let objects: GpuObjectTracker;
before(async () => {
  (await acquireDevice()).device.destroy(); // Dawn's globals (GPUDevice, ...) exist from the first device on
  objects = trackGpuObjects();
});
after(() => objects?.uninstall());

async function assertAllReleased(what: string): Promise<void> {
  assert.equal(objects.undestroyedDevices(), 0, `${what}: devices not destroyed`);
  assert.deepEqual(objects.undestroyedBuffers(), { count: 0, bytes: 0 }, `${what}: buffers not destroyed`);
  assert.deepEqual(await objects.reachable(), NONE, `${what}: GPU objects still reachable`);
}

test('create, generate (sampled, logprobs, JSON), dispose — five times: nothing on the GPU is left', async () => {
  for (let i = 0; i < 5; i++) {
    const engine = await createEngine(STORIES, { contextLength: 64 });
    await engine.generate('Once upon a time', { maxTokens: 6, temperature: 0.8, seed: i, logprobs: true, topLogprobs: 2 }).result;
    await engine.generate('{', { maxTokens: 6, responseFormat: { type: 'json_object' } }).result;
    const held = objects.undestroyedBuffers();
    assert.ok(held.bytes >= engine.model.gpuBytes, `the model's ${engine.model.gpuBytes} bytes are counted (${held.bytes})`);
    assert.equal(objects.undestroyedDevices(), 1);
    await engine.dispose();
    await assertAllReleased(`cycle ${i}`);
  }
});

test('unload releases it all; reload and dispose too', async () => {
  const engine = await createEngine(STORIES, { contextLength: 64 });
  await engine.generate('Once', { maxTokens: 4 }).result;
  await engine.unload();
  await assertAllReleased('unload');
  await engine.reload();
  await engine.generate('Once', { maxTokens: 4, temperature: 1, seed: 1 }).result;
  await engine.dispose();
  await assertAllReleased('reload, dispose');
});

test('a failed load and a load disposed midway leave nothing either', async () => {
  await assert.rejects(createEngine(new Uint8Array(64)), (e: unknown) => e instanceof FormatError);
  await assertAllReleased('failed load');
  const engine = await createEngine(STORIES, { contextLength: 64 });
  const reloading = engine.reload(STORIES, { contextLength: 128 });
  await engine.dispose();
  await reloading.catch(() => {});
  await assertAllReleased('disposed while reloading');
});
