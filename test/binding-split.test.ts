// Matrices larger than one storage binding are bound in row blocks (big vocabularies exceed
// lavapipe's and browsers' 128 MiB binding limit). A lowered limit exercises the same path on
// stories260K: the output must not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { Session } from '../src/engine/worker/session';
import { ResourceError } from '../src/errors';
import { fixturePath } from './helpers/fixtures';
import { writeGGUF } from './helpers/gguf-writer';
import { tinyModelSpec } from './helpers/tiny-models';

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

test("GPT-2's biased products in row blocks (their biases bound by block, gelu and the residual add in the epilogue): logits bit for bit", async () => {
  const gpu = await acquireDevice();
  const dir = mkdtempSync(join(tmpdir(), 'hearth-binding-split-'));
  try {
    const path = join(dir, 'gpt2.gguf');
    writeFileSync(path, writeGGUF(tinyModelSpec('gpt2', { dim: 128, heads: 2, ff: 256, layers: 1 })));
    const logits = async (bindingLimit?: number) => {
      const labels: string[] = [];
      const createBindGroup = gpu.device.createBindGroup.bind(gpu.device);
      gpu.device.createBindGroup = (d: GPUBindGroupDescriptor) => { labels.push(d.label ?? ''); return createBindGroup(d); };
      const loaded = await loadModel(gpu, path, { contextLength: 64, bindingLimit, precision: 'f32' });
      gpu.device.createBindGroup = createBindGroup;
      try {
        loaded.model.prefill([1, 7, 42], 0);
        return { labels, logits: [await loaded.model.step(9, 3, 'logits'), await loaded.model.step(11, 4, 'logits')] };
      } finally {
        loaded.destroy();
      }
    };
    const whole = await logits();
    // ffn_up [256, 128] f32 (128 KiB, biased, gelu'd) and ffn_down in two blocks each; q, k and v unstacked, each biased.
    const split = await logits(64 * 1024);
    assert.ok(split.labels.includes('0.up [rows 0+128]') && split.labels.includes('0.up [rows 128+128]'), split.labels.filter((l) => l.startsWith('0.')).join(', '));
    assert.ok(!whole.labels.some((l) => l.includes('[rows')), 'the unsplit load binds every matrix whole');
    for (const [i, l] of split.logits.entries()) assert.deepEqual(new Uint32Array(l.buffer), new Uint32Array(whole.logits[i]!.buffer), `step ${i}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
