// Batched prefill: a prompt run through the model in batches (matrix-matrix products, causal attention
// within each batch) must leave exactly the KV cache that token-by-token decoding builds — matmul.wgsl sums
// like matvec.wgsl and attention for token t of a batch reads what a decode step at that position reads —
// so the next token's logits are compared bit for bit. Prompts longer than one batch end in a partial one.
// Also: prefill allocates nothing, records one encoder and one submit per batch, and reads nothing back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { loadModel, type LoadModelOptions } from '../src/model/load';
import { PREFILL_BATCH } from '../src/gpu/profile';
import { ATTENTION_CHUNK, DEFAULT_BINDING_LIMIT, prefillBatch } from '../src/model/memory';
import type { ModelConfig } from '../src/model/config';
import { Session } from '../src/engine/worker/session';
import { InvalidRequestError } from '../src/errors';
import { tinyLlamaSpec, writeGGUF } from './helpers/gguf-writer';
import { ARCH_CASES, tinyModelSpec } from './helpers/tiny-models';
import { fixturePath } from './helpers/fixtures';
import { seededRng, randomInt } from './helpers/seeded';

let gpu: AcquiredDevice;
before(async () => { gpu = await acquireDevice(); });
after(() => gpu?.device.destroy());

/** A BOS-led prompt of `n` pseudo-random ids (ids below 3 are control tokens in these vocabularies). */
function prompt(n: number, vocab: number, seed: number): number[] {
  const rng = seededRng(seed);
  return [1, ...Array.from({ length: n - 1 }, () => 3 + randomInt(rng, vocab - 3))];
}

/** Logits of the token after `ids`, once after a batched prefill and once decoding token by token. */
async function bothWays(model: string | Uint8Array, ids: number[], options: LoadModelOptions) {
  const loaded = await loadModel(gpu, model, { contextLength: 256, ...options });
  try {
    const { model: m } = loaded;
    m.prefill(ids.slice(0, -1), 0);
    const batched = await m.step(ids.at(-1)!, ids.length - 1, 'logits');
    for (let pos = 0; pos < ids.length - 1; pos++) await m.step(ids[pos]!, pos, 'none');
    const stepwise = await m.step(ids.at(-1)!, ids.length - 1, 'logits');
    return { batched, stepwise, batchSize: m.batchSize };
  } finally {
    loaded.destroy();
  }
}

function assertBitEqual(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length);
  let differing = 0;
  for (let i = 0; i < a.length; i++) if (Object.is(a[i], b[i]) === false) differing++;
  assert.equal(differing, 0, `${what}: ${differing} of ${a.length} logits differ between batched prefill and token-by-token decoding`);
}

describe('batched prefill equals token-by-token decoding, bit for bit', () => {
  // 'q8': matmul-q8 against matvec-q8 (Q4_0 throughout; Q4_K_M mixes Q8_0 products with float ones).
  const runs = [
    ...['stories260K.gguf', 'stories260K-Q4_K_M.gguf'].flatMap((file) => (['f32', 'auto'] as const).map((precision) => [file, precision] as const)),
    ['stories260K-Q4_0.gguf', 'q8'] as const, ['stories260K-Q4_K_M.gguf', 'q8'] as const,
  ];
  for (const [file, precision] of runs) {
    test(`${file}, precision ${precision}, 75-token prompt (${Math.ceil(74 / PREFILL_BATCH)} batches)`, async () => {
      const { batched, stepwise, batchSize } = await bothWays(fixturePath('models/stories260K', file), prompt(75, 512, 7), { precision });
      assert.equal(batchSize, PREFILL_BATCH);
      assertBitEqual(batched, stepwise, `${file} ${precision}`);
    });
  }
  test('a llama with an FFN of width 30 (not a multiple of 4): a batch of 1, token by token through the same path', async () => {
    const bytes = writeGGUF(tinyLlamaSpec({ dim: 16, heads: 2, kvHeads: 1, ff: 30, vocab: 64, init: 'scaled', seed: 5 }));
    const { batched, stepwise, batchSize } = await bothWays(bytes, prompt(20, 64, 5), { precision: 'f32' });
    assert.equal(batchSize, 1);
    assertBitEqual(batched, stepwise, 'batch of 1');
  });
  test(`split-K attention: stories260K with ${2 * ATTENTION_CHUNK} positions (2 chunks), a ${ATTENTION_CHUNK + 76}-token prompt crossing into the second`, async () => {
    const ids = prompt(ATTENTION_CHUNK + 76, 512, 13);
    const options = { precision: 'f32', contextLength: 2 * ATTENTION_CHUNK } as const;
    const split = await bothWays(fixturePath('models/stories260K/stories260K.gguf'), ids, { ...options, profile: { attention: 'split' } });
    assertBitEqual(split.batched, split.stepwise, 'split-K');
    // Against one workgroup per head over the whole context (the software profile's choice): the same softmax
    // merged in another order, so equal to rounding.
    const whole = await bothWays(fixturePath('models/stories260K/stories260K.gguf'), ids, { ...options, profile: { attention: 'whole' } });
    const scale = Math.max(...whole.batched.map(Math.abs));
    const worst = Math.max(...whole.batched.map((x, i) => Math.abs(x - split.batched[i]!)));
    assert.ok(worst <= 1e-5 * scale, `split-K logits differ from unsplit ones by ${worst} (max |logit| ${scale})`);
  });
  test('flash attention (the GPU profile): stories260K, a 300-token prompt over several tiles of tokens and keys, decoding over 5 chunks', async () => {
    const ids = prompt(300, 512, 17);
    const options = { precision: 'f32', contextLength: 2048 } as const;
    const flash = await bothWays(fixturePath('models/stories260K/stories260K.gguf'), ids, { ...options, profile: { attention: 'flash' } });
    const whole = await bothWays(fixturePath('models/stories260K/stories260K.gguf'), ids, { ...options, profile: { attention: 'whole' } });
    // Tiled sums: prefill and decoding (and the software profile's kernel) agree to rounding, not bit for bit.
    const scale = Math.max(...whole.batched.map(Math.abs));
    for (const [what, got] of [['flash prefill', flash.batched], ['flash decoding', flash.stepwise]] as const) {
      const worst = Math.max(...whole.batched.map((x, i) => Math.abs(x - got[i]!)));
      assert.ok(worst <= 1e-5 * scale, `${what} logits differ from attention.wgsl's by ${worst} (max |logit| ${scale})`);
    }
  });
  test("profile.attention must be 'flash', 'split' or 'whole'", async () => {
    await assert.rejects(loadModel(gpu, fixturePath('models/stories260K/stories260K.gguf'), { profile: { attention: 'yes' as unknown as 'split' } }),
      (e: unknown) => e instanceof InvalidRequestError && e.message === `profile.attention must be 'flash', 'split' or 'whole', got "yes"`);
  });
  // Every architecture feature on the batched path: biases broadcast over rows, fused projections split,
  // per-head norms over tokens × heads, learned positions and sliding windows per token.
  for (const c of ARCH_CASES.filter((a) => ['qwen2', 'phi3', 'gemma3', 'gpt2'].includes(a.arch) && !a.name.includes('LongRoPE'))) {
    test(`${c.name}: 40-token prompt`, async () => {
      const bytes = writeGGUF(tinyModelSpec(c.arch, c.options));
      const { batched, stepwise } = await bothWays(bytes, prompt(40, 256, 3), { precision: 'f32' });
      assertBitEqual(batched, stepwise, c.name);
    });
  }
});

/** Replaces `obj[name]` with a counting wrapper (`this` preserved); returns the counter and its undo. */
function count<T extends object>(obj: T, name: keyof T & string) {
  const counter = { calls: 0, restore: () => {} };
  const original = obj[name] as (...a: unknown[]) => unknown;
  (obj as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) { counter.calls++; return original.apply(this, args); };
  counter.restore = () => { (obj as Record<string, unknown>)[name] = original; };
  return counter;
}

test('prefill: no allocations, one encoder and one submit per batch, nothing read back', async () => {
  const loaded = await loadModel(gpu, fixturePath('models/stories260K/stories260K.gguf'), { contextLength: 128, precision: 'f32' });
  const session = new Session(loaded);
  await session.generate('Once', { maxTokens: 2 }, () => {}); // warm up
  const { device } = gpu;
  const created = ['createBuffer', 'createBindGroup', 'createComputePipeline', 'createComputePipelineAsync', 'createShaderModule']
    .map((name) => ({ name, counter: count(device, name as keyof GPUDevice & string) }));
  const encoders = count(device, 'createCommandEncoder');
  const submits = count(device.queue, 'submit');
  const maps = count(GPUBuffer.prototype, 'mapAsync');
  try {
    const ids = prompt(70, 512, 11);
    loaded.model.prefill(ids, 0);
    await device.queue.onSubmittedWorkDone();
    const batches = Math.ceil(ids.length / PREFILL_BATCH);
    for (const { name, counter } of created) assert.equal(counter.calls, 0, `${name} called during prefill`);
    assert.equal(encoders.calls, batches, 'command encoders per prefill batch');
    assert.equal(submits.calls, batches, 'submits per prefill batch');
    assert.equal(maps.calls, 0, 'prefill reads nothing back');
  } finally {
    for (const c of [...created.map((c) => c.counter), encoders, submits, maps]) c.restore();
    loaded.destroy();
  }
});

test('the prefill batch shrinks to what one binding of attention scores holds, and is 1 when matmul cannot run', () => {
  const shape = (dim: number, heads: number, headDim: number, ffn: number) =>
    ({ embeddingLength: dim, headCount: heads, headDim, feedForwardLength: ffn }) as ModelConfig;
  const llama1b = shape(2048, 32, 64, 8192);
  assert.equal(prefillBatch(llama1b, 2048), PREFILL_BATCH); // scores: 32 × 32 × 2048 × 4 B = 8 MiB
  assert.equal(prefillBatch(llama1b, 131072), 8); // 16 MiB of scores per token: 8 fit in 128 MiB
  assert.equal(prefillBatch(llama1b, 131072, 64 * 1024 * 1024), 4); // a lowered limit: 4
  assert.equal(prefillBatch(llama1b, 524288), 1); // 64 MiB per token: 2 fit, fewer than one tile of 4
  assert.equal(prefillBatch(llama1b, 2048, 4 * DEFAULT_BINDING_LIMIT), PREFILL_BATCH); // larger device limits change nothing
  assert.equal(prefillBatch(shape(64, 8, 8, 172), 256, 48 * 1024), 4); // the binding-split test's stories260K
  assert.equal(prefillBatch(shape(66, 6, 11, 172), 256), 1); // row length 66 (and 66 = 6 × 11): not a multiple of 4
});
