// Aligned weights (src/gpu/aligned-weights.ts): Q4_0, Q8_0 and Q6_K matrices repacked at load into groups of 8
// blocks, the scales in one 16-byte word and each block's other bytes in whole words. The repacking streams (chunks of
// any length, a stack of tensors across group boundaries) to the bytes the CPU twin of the shaders' addressing
// (test/reference/quant.ts's unpackAligned) reads back as the file's; a model loads to the same ids and logits, bit
// for bit, with and without it (the same values summed in the same order), in row blocks too, and its GPU bytes are
// the estimate's. The kernels' cases: test/kernels (every weight kernel on both aligned types, partial groups).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALIGNED_GROUP, AlignedRepacker, alignedBufferBytes, gpuWeightDType, repackAligned } from '../src/gpu/aligned-weights';
import { alignedDTypes, weightDTypes, weightLayouts } from '../src/gpu/quant-types';
import type { AlignedDType } from '../src/gpu/shaders';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { GPU_PREFILL_BATCH } from '../src/gpu/profile';
import { loadModel } from '../src/model/load';
import { readGGUF } from '../src/model/gguf';
import { estimateGpuMemory } from '../src/model/memory';
import { readModelConfig } from '../src/model/read-config';
import { MemorySource } from '../src/io/byte-source';
import { unpackAligned } from './reference/quant';
import { randomBlockBytes } from './helpers/quantize';
import { seededRng } from './helpers/seeded';
import { quantizeModel } from './helpers/quantized-models';
import { tinyModelSpec } from './helpers/tiny-models';
import { writeGGUF } from './helpers/gguf-writer';
import { gridModel } from './helpers/quant-grid';
import { greedyLogits } from './helpers/greedy-logits';

describe('repacking', () => {
  for (const dtype of alignedDTypes as AlignedDType[]) {
    const { blockBytes, repackOf } = weightLayouts[dtype];
    test(`${dtype}: a stream in chunks of any length repacks to the whole's bytes, which the shaders' addressing reads back as the file's`, () => {
      const rng = seededRng(blockBytes);
      for (const blocks of [1, 7, 8, 9, 777]) {
        const file = randomBlockBytes(repackOf!, blocks, rng);
        const whole = repackAligned(dtype, file);
        assert.equal(whole.byteLength, alignedBufferBytes(dtype, file.byteLength));
        assert.equal(whole.byteLength % (ALIGNED_GROUP * blockBytes), 0, 'whole groups');
        assert.deepEqual(unpackAligned(dtype, whole, blocks * weightLayouts[dtype].blockElements), file, `${blocks} blocks`);
        const repacker = new AlignedRepacker(dtype);
        const parts: Uint8Array[] = [];
        for (let at = 0; at < file.byteLength;) {
          const length = Math.min(file.byteLength - at, 1 + Math.floor(rng() * 3 * blockBytes * ALIGNED_GROUP));
          parts.push(repacker.push(file.subarray(at, at + length)));
          at += length;
        }
        parts.push(repacker.finish());
        assert.deepEqual(Buffer.concat(parts), Buffer.from(whole), `${blocks} blocks streamed`);
        // The last group's missing blocks are zero: their scales and quants.
        const missing = (ALIGNED_GROUP - (blocks % ALIGNED_GROUP)) % ALIGNED_GROUP;
        if (missing > 0) {
          const last = whole.subarray(whole.byteLength - ALIGNED_GROUP * blockBytes);
          assert.ok(last.subarray(2 * (ALIGNED_GROUP - missing), 16).every((b) => b === 0), 'missing scales are zero');
          assert.ok(last.subarray(16 + (ALIGNED_GROUP - missing) * (blockBytes - 2)).every((b) => b === 0), 'missing quants are zero');
        }
      }
    });
  }

  test('which types have an aligned layout, and why a row block bound at a 256-byte offset starts a group', () => {
    assert.deepEqual(weightDTypes.filter((d) => gpuWeightDType(d, true) !== d).map((d) => [d, gpuWeightDType(d, true)]), [['q8_0', 'q8_0_aligned'], ['q4_0', 'q4_0_aligned'], ['q6_k', 'q6_k_aligned']]);
    assert.ok(weightDTypes.every((d) => gpuWeightDType(d, false) === d));
    assert.equal(alignedBufferBytes('q4_k', 1000), 1000, 'other types keep their bytes');
    // The Dispatcher binds row blocks at offsets that are multiples of 256 on a block boundary: for 18- and 34-byte
    // blocks those are multiples of 128 blocks, so whole groups.
    for (const dtype of alignedDTypes) {
      const { blockBytes } = weightLayouts[dtype];
      for (let blocks = 1; blocks < 4096; blocks++) if ((blocks * blockBytes) % 256 === 0) assert.equal(blocks % ALIGNED_GROUP, 0, `${dtype}: ${blocks} blocks`);
    }
    assert.throws(() => { const r = new AlignedRepacker('q4_0_aligned'); r.push(new Uint8Array(20)); r.finish(); }, RangeError);
  });
});

describe('a model with aligned weights (Node, lavapipe, the GPU profile)', () => {
  let gpu: AcquiredDevice;
  let dir: string;
  let path: string;
  let bytes: Uint8Array;
  let f32Path: string;
  let q4kmPath: string;
  before(async () => {
    gpu = await acquireDevice();
    dir = mkdtempSync(join(tmpdir(), 'hearth-aligned-'));
    path = join(dir, 'llama-q4_0-q8_0.gguf');
    // Q4_0 with a Q8_0 attn_v and attn_output (q/k/v in two matrices of two types); the tied embedding's 293 × 3
    // blocks end in a partial group (of 7 blocks), which the row blocks of a 12 KiB binding limit bind last.
    const spec = tinyModelSpec('llama', { dim: 96, layers: 2, heads: 3, kvHeads: 1, ff: 160, vocab: 293, contextLength: 64, seed: 11 });
    bytes = quantizeModel(spec, (t) => (/attn_(v|output)/.test(t.name) ? 'q8_0' : 'q4_0')).quantized;
    writeFileSync(path, bytes);
    f32Path = join(dir, 'llama-f32.gguf');
    writeFileSync(f32Path, writeGGUF(spec));
    // Q4_K_M: a Q6_K tied embedding of 300 super-blocks (a last group of 4) beside Q4_K/Q5_K/Q6_K layers.
    q4kmPath = join(dir, 'llama-q4_k_m.gguf');
    writeFileSync(q4kmPath, gridModel(tinyModelSpec('llama', { dim: 256, layers: 1, heads: 4, kvHeads: 2, ff: 512, vocab: 300, contextLength: 64, seed: 12 }), 'q4_k_m').quantized);
  });
  after(() => {
    gpu?.device.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = async (alignedWeights: boolean, precision: 'f32' | 'q8', bindingLimit?: number, forced?: number[], quantize?: 'q4_0' | 'q8_0', model = path) => {
    const sources: string[] = [];
    const device = gpu.device;
    const create = device.createShaderModule.bind(device);
    device.createShaderModule = (d: GPUShaderModuleDescriptor) => { sources.push(d.code); return create(d); };
    try {
      const loaded = await loadModel(gpu, quantize ? f32Path : model, { contextLength: 64, precision, kvCache: 'f32', bindingLimit, quantize, profile: { base: 'gpu', alignedWeights } });
      try {
        assert.equal(loaded.info.profile?.alignedWeights, alignedWeights);
        const prompt = Array.from({ length: 12 }, (_, i) => (1 + 5 * i + 3 * i * i) % loaded.config.vocabSize);
        return { gpuBytes: loaded.info.gpuBytes, aligned: sources.filter((s) => s.includes('fn aligned_block')).length, ...(await greedyLogits(loaded, prompt, 6, forced)) };
      } finally {
        loaded.destroy();
      }
    } finally {
      device.createShaderModule = create;
    }
  };

  for (const precision of ['f32', 'q8'] as const) {
    test(`precision ${precision}: the same greedy ids and logits, bit for bit, as the file's layout; in row blocks too; the GPU bytes are the estimate's`, async () => {
      const file = await run(false, precision);
      assert.equal(file.aligned, 0, 'no aligned kernel without alignedWeights');
      const gguf = await readGGUF(new MemorySource(bytes, 'llama-q4_0-q8_0.gguf'));
      const config = readModelConfig(gguf);
      for (const bindingLimit of [undefined, 12 * 1024]) {
        const aligned = await run(true, precision, bindingLimit, file.ids);
        assert.ok(aligned.aligned > 0, 'the products and the embedding read the aligned layouts');
        assert.deepEqual(aligned.ids, file.ids, `ids, binding limit ${bindingLimit}`);
        assert.deepEqual(aligned.logits, file.logits, `logits, binding limit ${bindingLimit}`);
        if (bindingLimit === undefined) {
          const options = { precision, kvCache: 'f32', prefillTokens: GPU_PREFILL_BATCH } as const;
          assert.equal(aligned.gpuBytes, estimateGpuMemory(config, gguf.tensors, 64, { ...options, alignedWeights: true }).total);
          assert.equal(file.gpuBytes, estimateGpuMemory(config, gguf.tensors, 64, options).total);
          assert.ok(aligned.gpuBytes > file.gpuBytes, 'partial last groups are held whole');
        }
      }
    });
  }

  test('Q4_K_M (its Q6_K matrices aligned): the same greedy ids and logits, bit for bit, as the file\'s layout', async () => {
    const file = await run(false, 'f32', undefined, undefined, undefined, q4kmPath);
    const aligned = await run(true, 'f32', undefined, file.ids, undefined, q4kmPath);
    assert.ok(aligned.aligned > 0 && file.aligned === 0);
    assert.deepEqual([aligned.ids, aligned.logits], [file.ids, file.logits]);
  });

  // Matrices quantized at load are held whole (no tensor reader): the same repacking from one piece.
  test('quantized at load to Q4_0 and to Q8_0: the same greedy ids and logits, bit for bit, as the file\'s layout', async () => {
    for (const quantize of ['q4_0', 'q8_0'] as const) {
      const file = await run(false, 'f32', undefined, undefined, quantize);
      const aligned = await run(true, 'f32', undefined, file.ids, quantize);
      assert.ok(aligned.aligned > 0 && file.aligned === 0, quantize);
      assert.deepEqual([aligned.ids, aligned.logits], [file.ids, file.logits], quantize);
    }
  });
});
