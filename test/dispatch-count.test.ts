// Dispatches per decode step, per architecture: the GPU profile's budget is 6 per layer + 3 per token (embedding,
// output head, argmax finish). The fused epilogues of the weight products (common/products.wgsl) make it: bias,
// rope and the K/V cache write in the q/k/v product, each single product's bias (main_bias), the ungated FFN's gelu
// in its up product, the residual add in the o and down products (after their bias, and after the 8-bit products
// too), and the wide argmax's partials in the output head's (common/matvec-lanes.wgsl's main_argmax), so that only
// their finish follows.
// q/k/v of two types (Q4_K_M files, llama-quantize's most used mix) run in one product too (main_qkv_mixed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import type { ModelConfig } from '../src/model/config';
import type { TransformerModel } from '../src/model/transformer';
import { ATTENTION_CHUNK } from '../src/model/memory';
import { openFileSource } from '../src/io/file-source';
import { readGGUF } from '../src/model/gguf';
import { fixturePath } from './helpers/fixtures';
import { gridArch, gridModel } from './helpers/quant-grid';
import { ARCH_CASES, tinyModelSpec, writeArchModel, type TinyArch } from './helpers/tiny-models';
import { countStep } from '../bench/hearth-run';

/** The dispatches `model.step` records for one greedy decode step (the bench's counter). */
async function stepDispatches(model: TransformerModel): Promise<number> {
  return (await countStep(model, () => model.step(1, 3, 'token'))).dispatches;
}

/**
 * Dispatches per layer beyond the GPU budget's 6, and why, for the architectures that cannot fuse everything:
 * what sits between a product and its epilogue keeps its own dispatch.
 */
function extraPerLayer(config: ModelConfig, kvCache: 'f16' | 'f32'): { extra: number; why: string[] } {
  const why: string[] = [];
  let extra = 0;
  if (config.qkNorm) {
    // q_norm, k_norm and rope q, rope k run between the q/k/v product and the cache: a cache copy splits the pass,
    // or, into an f16 cache, kv-store.wgsl converts k and v (one dispatch more).
    extra += kvCache === 'f16' ? 5 : 4;
    why.push(`q/k norms (then rope q and k as dispatches of their own${kvCache === 'f16' ? ', and the f16 cache write' : ''})`);
  }
  if (config.postNorms) {
    extra += 4; // each sub-block's post-norm and residual add
    why.push("post-norms before each residual add (Gemma)");
  }
  if (config.norm !== 'rms') {
    extra += 2; // attn_norm and ffn_norm: a layer norm is not fused into the products
    why.push('layer norms (not fused into the products)');
  }
  return { extra, why };
}

/**
 * q/k/v products per decode step beyond one per layer: a layer whose attn_q, attn_k and attn_v make three runs of
 * one type (q, k and v each of another type than the one before) runs one product per run. Two runs (Q4_K_M's
 * layers with a Q6_K attn_v: a [q; k] stack and v) take one dispatch on the GPU profile (main_qkv_mixed,
 * common/lane-qkv-mixed.wgsl). Read from the file's tensor table.
 */
async function extraQkvProducts(path: string): Promise<number> {
  const source = await openFileSource(path);
  try {
    const types = new Map((await readGGUF(source)).tensors.map((t) => [t.name, t.type]));
    let extra = 0;
    for (let l = 0; types.has(`blk.${l}.attn_q.weight`); l++) {
      const [q, k, v] = ['q', 'k', 'v'].map((p) => types.get(`blk.${l}.attn_${p}.weight`));
      const runs = 1 + (q !== k ? 1 : 0) + (k !== v ? 1 : 0); // matrices of one type each, in row order
      if (runs === 3) extra += 2;
    }
    return extra;
  } finally {
    await source.close?.();
  }
}

/**
 * Dispatches per token beyond the budget's 3, and why: what the embedding and the output head run besides their
 * products; what sits between the head's product and the argmax (an output bias, the final soft-cap) also keeps the
 * argmax partials out of the product's epilogue (one more: argmax.wgsl's partials pass).
 */
function extraPerToken(config: ModelConfig): { extra: number; why: string[] } {
  const why: string[] = [];
  let extra = 0;
  const add = (n: number, reason: string) => { extra += n; why.push(reason); };
  if (config.embeddingScale !== 1) add(1, 'the embedding scale (Gemma)');
  if (config.positionEmbedding) add(1, 'learned position embeddings');
  if (config.norm !== 'rms') add(1, 'the output layer norm (not fused into the head)');
  if (config.finalSoftcap > 0) add(2, 'the final logit soft-cap (then the argmax partials pass of its own)');
  if (config.biases.includes('output')) add(1, "the output head's bias (in its epilogue, but then the argmax partials pass of its own)");
  return { extra, why };
}

const cases = [
  ...ARCH_CASES.map((c) => ({ name: c.name, file: (dir: string) => writeArchModel(c, dir) })),
  ...['stories260K.gguf', 'stories260K-Q8_0.gguf', 'stories260K-Q4_K_M.gguf'].map((file) => ({ name: file, file: () => fixturePath('models/stories260K', file) })),
  // Q4_K_M as llama-quantize writes it for the grid's 2-layer models: layer 1's attn_v Q6_K, its q and k Q4_K.
  ...(['llama', 'qwen2'] as TinyArch[]).map((arch) => ({ name: `${arch} Q4_K_M`, file: (dir: string) => {
    const path = join(dir, `${arch}-q4_k_m.gguf`);
    writeFileSync(path, gridModel(tinyModelSpec(arch, gridArch(arch).options), 'q4_k_m').quantized);
    return path;
  } })),
];

let gpu: AcquiredDevice;
const dir = mkdtempSync(join(tmpdir(), 'hearth-dispatch-count-'));
test.before(async () => { gpu = await acquireDevice(); });
test.after(() => { gpu.device.destroy(); rmSync(dir, { recursive: true, force: true }); });

for (const c of cases) {
  test(`dispatches per decode step: ${c.name}`, async () => {
    const path = c.file(dir);
    const counts: Record<string, number> = {};
    let config: ModelConfig | undefined;
    let gpuKvCache: 'f16' | 'f32' = 'f32';
    // The GPU profile over a context long enough for split-K attention (its combine is one of the 6).
    for (const [name, options] of [['gpu', { profile: 'gpu', contextLength: 2 * ATTENTION_CHUNK }], ['software', { profile: 'software', contextLength: 256 }]] as const) {
      const loaded = await loadModel(gpu, path, options);
      try {
        config = loaded.config;
        if (name === 'gpu') gpuKvCache = loaded.info.kvCache; // 'auto': f16 where the adapter has shader-f16 (lavapipe does)
        counts[name] = await stepDispatches(loaded.model);
      } finally {
        loaded.destroy();
      }
    }
    const layers = config!.blockCount;
    const { extra, why } = extraPerLayer(config!, gpuKvCache);
    const perToken = extraPerToken(config!);
    const qkvProducts = await extraQkvProducts(path);
    const budget = (6 + extra) * layers + 3 + perToken.extra + qkvProducts;
    const exceptions = [...why, ...perToken.why, ...(qkvProducts ? [`${qkvProducts} more q/k/v products (three runs of types)`] : [])];
    console.log(`${c.name}: ${layers} layers, gpu ${counts.gpu}, software ${counts.software}${exceptions.length ? ` (exceptions: ${exceptions.join('; ')})` : ''}`);
    assert.ok(counts.gpu! <= budget, `GPU profile: ${counts.gpu} dispatches for ${layers} layers, budget ${budget}`);
  });
}
