// The fused and GPU-only kernels as the model runs them, against the model without them: stacked q/k/v and
// gate/up products (one dispatch each) and RMSNorm fused into the products give the same logits bit for bit
// (they compute the same sums); the subgroup matvec, which sums in another order, gives them to rounding and
// the reference greedy ids. Kernel-level cases: test/kernels/fused-cases.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { loadModel, type LoadModelOptions } from '../src/model/load';
import { Session } from '../src/engine/worker/session';
import { InvalidRequestError } from '../src/errors';
import { fixturePath } from './helpers/fixtures';
import { tinyLlamaSpec, writeGGUF } from './helpers/gguf-writer';
import { quantizeModel } from './helpers/quantized-models';

let gpu: AcquiredDevice;
before(async () => { gpu = await acquireDevice(); });
after(() => gpu?.device.destroy());

const stories = (file: string) => fixturePath('models/stories260K', file);
/** BOS, then 13 ids in [3, vocab). */
const prompt = (vocab: number) => [1, ...Array.from({ length: 13 }, (_, i) => 3 + ((97 * i + 11) % (vocab - 3)))];

/**
 * Logits after a 14-token prompt (prefilled in one batch, the last token decoded), and the labels of the bind
 * groups the load made (dispatch labels: '0.q+k+v' for a stacked product, '0.attn_norm' for a norm dispatch).
 */
async function run(model: string | Uint8Array, options: LoadModelOptions, vocab = 512): Promise<{ logits: Float32Array; labels: string[] }> {
  const labels: string[] = [];
  const createBindGroup = gpu.device.createBindGroup.bind(gpu.device);
  gpu.device.createBindGroup = (d: GPUBindGroupDescriptor) => { labels.push(d.label ?? ''); return createBindGroup(d); };
  try {
    const loaded = await loadModel(gpu, typeof model === 'string' ? stories(model) : model, { contextLength: 64, ...options });
    try {
      const ids = prompt(vocab);
      loaded.model.prefill(ids.slice(0, -1), 0);
      return { logits: await loaded.model.step(ids.at(-1)!, ids.length - 1, 'logits'), labels };
    } finally {
      loaded.destroy();
    }
  } finally {
    gpu.device.createBindGroup = createBindGroup;
  }
}

function assertBitEqual(a: Float32Array, b: Float32Array, what: string): void {
  const differing = a.filter((v, i) => !Object.is(v, b[i])).length;
  assert.equal(a.length, b.length);
  assert.equal(differing, 0, `${what}: ${differing} of ${a.length} logits differ`);
}

describe('fused products give the unfused model\'s logits bit for bit', () => {
  for (const [file, precision] of [['stories260K.gguf', 'f32'], ['stories260K-Q4_0.gguf', 'q8'], ['stories260K-Q4_0.gguf', 'f32'], ['stories260K-Q4_K_M.gguf', 'q8']] as const) {
    test(`${file}, precision ${precision}: RMSNorm fused into the products (or into quantize-q8) or dispatched on its own`, async () => {
      const fused = await run(file, { precision, profile: { fuseNorm: true } }); // forced: the software profile does not fuse
      const unfused = await run(file, { precision, profile: { fuseNorm: false } });
      assert.ok(!fused.labels.some((l) => l.endsWith('_norm')) && unfused.labels.includes('0.attn_norm') && unfused.labels.includes('output_norm'),
        'the fused load has no norm dispatch, the unfused one has them all');
      assertBitEqual(fused.logits, unfused.logits, `${file} ${precision} fuseNorm`);
    });
  }
  // A lowered binding limit keeps a stack apart (projectionLayouts stacks only what fits one binding).
  test('stories260K: gate and up stacked (one product with swiglu) or separate (a 44 KiB binding limit)', async () => {
    const stacked = await run('stories260K.gguf', { precision: 'f32', profile: { fuseNorm: true } });
    const separate = await run('stories260K.gguf', { precision: 'f32', profile: { fuseNorm: true }, bindingLimit: 44 * 1024 });
    assert.ok(stacked.labels.includes('0.q+k+v') && stacked.labels.includes('0.gate+up'), `stacked: ${stacked.labels.join(', ')}`);
    assert.ok(['0.gate', '0.up', '0.swiglu'].every((l) => separate.labels.includes(l)), `separate: ${separate.labels.join(', ')}`);
    assertBitEqual(stacked.logits, separate.logits, 'stacked vs separate gate/up');
  });
  test('a llama with 192 q/k/v rows of 64: stacked, or separate (a 32 KiB binding limit)', async () => {
    const bytes = writeGGUF(tinyLlamaSpec({ dim: 64, heads: 4, kvHeads: 4, ff: 32, vocab: 40, init: 'scaled', seed: 9 }));
    const stacked = await run(bytes, { precision: 'f32', profile: { fuseNorm: true } }, 40);
    const separate = await run(bytes, { precision: 'f32', profile: { fuseNorm: true }, bindingLimit: 32 * 1024 }, 40);
    assert.ok(stacked.labels.includes('0.q+k+v'), `stacked: ${stacked.labels.join(', ')}`);
    assert.ok(['0.q', '0.k', '0.v', '0.gate+up'].every((l) => separate.labels.includes(l)), `separate: ${separate.labels.join(', ')}`);
    assertBitEqual(stacked.logits, separate.logits, 'stacked vs separate q/k/v');
  });
});

describe('matvec-subgroup in the model (forced on this CPU adapter, which has subgroups)', () => {
  test('logits equal matvec.wgsl\'s to rounding, and the greedy ids are llama2.c\'s', async (t) => {
    if (!gpu.adapter.subgroups) return t.skip('this adapter has no subgroups');
    const plain = await run('stories260K.gguf', { precision: 'f32', profile: { fuseNorm: true } });
    const subgroup = await run('stories260K.gguf', { precision: 'f32', profile: { fuseNorm: true, matvec: 'subgroup' } }); // as a GPU runs it
    const scale = Math.max(...plain.logits.map(Math.abs));
    const worst = Math.max(...plain.logits.map((v, i) => Math.abs(v - subgroup.logits[i]!)));
    assert.ok(worst <= 1e-5 * scale, `subgroup logits differ by ${worst} (max |logit| ${scale})`);
    const refs: { prompt: string | null; generated_token_ids: number[] }[] = JSON.parse(readFileSync(stories('refs.json'), 'utf8')).refs;
    const loaded = await loadModel(gpu, stories('stories260K.gguf'), { contextLength: 256, precision: 'f32', profile: { matvec: 'subgroup' } });
    try {
      const session = new Session(loaded);
      for (const r of refs.slice(0, 2)) {
        session.reset();
        const result = await session.generate(r.prompt ?? '', { maxTokens: r.generated_token_ids.length }, () => {});
        assert.deepEqual(result.tokens, r.generated_token_ids, `prompt ${JSON.stringify(r.prompt)}`);
      }
    } finally {
      loaded.destroy();
    }
  });
  test("profile.fuseNorm must be a boolean and profile.matvec a variant; matvec 'subgroup' needs the feature", async () => {
    await assert.rejects(loadModel(gpu, stories('stories260K.gguf'), { profile: { fuseNorm: 1 as unknown as boolean } }),
      (e: unknown) => e instanceof InvalidRequestError && e.message === 'profile.fuseNorm must be true or false, got 1');
    await assert.rejects(loadModel(gpu, stories('stories260K.gguf'), { profile: { matvec: true as unknown as 'rows' } }),
      (e: unknown) => e instanceof InvalidRequestError && e.message === "profile.matvec must be 'subgroup', 'workgroup' or 'rows', got true");
    await assert.rejects(loadModel({ ...gpu, adapter: { ...gpu.adapter, subgroups: false } }, stories('stories260K.gguf'), { profile: { matvec: 'subgroup' } }),
      (e: unknown) => e instanceof InvalidRequestError && /'subgroups'/.test(e.message));
  });
});

// q, k and v of mixed types: the loader stacks each run of one type and every matrix's main_qkv rotates and writes the
// cache itself; on the GPU profile two matrices (two types) take one dispatch, main_qkv_mixed, and a prompt's
// batched products one per matrix. F16 weights hold values an F32 file can hold too (quantizeModel's dequantized
// twin), and the f32 products sum them alike, so a file with some of q/k/v in F16 must give the logits of its
// all-F32 twin, whose one [q; k; v] stack runs one main_qkv, bit for bit.
describe('q/k/v of mixed types: one product per run of one type (two types on the GPU profile: one), each with the epilogue, give the one stack\'s logits bit for bit', () => {
  const spec = tinyLlamaSpec({ dim: 64, heads: 4, kvHeads: 2, ff: 32, vocab: 40, init: 'scaled', seed: 5 });
  for (const [layout, f16] of [['q+k, v', 'v'], ['q, k+v', 'kv'], ['q, k, v', 'k']] as const) {
    for (const profile of ['software', 'gpu'] as const) {
      test(`${layout} (${[...f16].join(' and ')} F16), the ${profile} profile`, async () => {
        const pair = quantizeModel(spec, (t) => (new RegExp(`attn_[${f16}]\\.weight$`).test(t.name) ? 'f16' : null));
        const options = { precision: 'f32', kvCache: 'f32', profile } as const;
        const mixed = await run(pair.quantized, options, 40);
        const twin = await run(pair.dequantized, options, 40);
        const runs = layout.split(', ');
        // Two runs on the GPU profile: the one-token main_qkv_mixed, and each matrix's batched product (F32 first, F16 second).
        const labels = profile === 'gpu' && runs.length === 2 ? ['0.q+k+v', '0.q+k+v [f32] (batched)', '0.q+k+v [f16] (batched)'] : runs.map((part) => `0.${part}`);
        assert.ok(labels.every((l) => mixed.labels.includes(l)) && !mixed.labels.some((l) => /rope|kv store/.test(l)), `mixed: ${mixed.labels.join(', ')}`);
        assert.ok(twin.labels.includes('0.q+k+v'), `twin: ${twin.labels.join(', ')}`);
        assertBitEqual(mixed.logits, twin.logits, `${layout} against one stack`);
      });
    }
  }
});
