// The f16 KV cache (LoadOptions.kvCache 'f16'; its kernels: test/kernels/kv-f16-cases.ts) on whole models. Every
// tiny architecture model and stories260K, f32 arithmetic, in the GPU profile (flash attention, the tiled and lane
// products' epilogues, or kv-store.wgsl where they cannot write the cache: q/k norms, unstacked projections), and
// stories260K in the software profile too (attention.wgsl): greedy ids equal to the f32 cache's, logits
// within LOGIT_TOLERANCE of the largest. The load allocates half the cache bytes, as memory.ts says. A packed
// embedding model gives the f32 cache's vectors. And a long greedy run on stories260K against llama.cpp with its
// default F16 cache (node-llama-cpp). Needs 'shader-f16' (lavapipe has it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { kernelNames, kvCacheKernels, shaderSource, weightKernels, type KvCacheType } from '../src/gpu/shaders';
import type { ProfileOption } from '../src/gpu/profile';
import { embedTokens, modelPooling } from '../src/model/embed';
import { loadModel } from '../src/model/load';
import { gpuBufferSize, kvCacheLayerBytes } from '../src/model/memory';
import { fixturePath } from './helpers/fixtures';
import { writeGGUF } from './helpers/gguf-writer';
import { greedyLogits, maxRelativeDiff } from './helpers/greedy-logits';
import { closeLlamaCpp, compareWithLlamaCpp, formatReport } from './helpers/llama-cpp';
import { archModelFiles } from './helpers/tiny-models';
import { tinyQwen3EmbeddingSpec } from './helpers/tiny-embedding-models';

/**
 * Per-step max |Δlogit| of the f16 cache against the f32 one, relative to the step's largest |logit|. Each key and
 * value is rounded once (relative 2^-11 ≈ 4.9e-4); a score moves by about that times |q|·|k|, an attention output
 * by that times |v|, and the layers pass it on without growing it much. 1e-2 is precision 'f16's bound
 * (test/precision.test.ts), with room over what lavapipe measures (README.md, Memory).
 */
const LOGIT_TOLERANCE = 1e-2;
const STEPS = 12;
const CONTEXT = 128;

let gpu: AcquiredDevice;
let dir: string;
before(async () => {
  gpu = await acquireDevice();
  dir = mkdtempSync(join(tmpdir(), 'hearth-kv-cache-'));
});
after(async () => {
  gpu?.device.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await closeLlamaCpp();
});

test('the kernels that touch the KV cache get its element type (f32 by default; f16 with `enable f16;` opening the module); the others reject f16', () => {
  assert.deepEqual([...kvCacheKernels].sort(), ['attention', 'attention-decode', 'attention-prefill', 'kv-store', 'matmul', 'matmul-q8', 'matmul-tiled', 'matvec', 'matvec-q8', 'matvec-q8-subgroup', 'matvec-q8-workgroup', 'matvec-subgroup', 'matvec-workgroup']);
  for (const name of kernelNames) {
    const dtype = weightKernels.has(name) ? 'q4_0' : undefined;
    if (!kvCacheKernels.has(name)) {
      assert.throws(() => shaderSource(name, dtype, 'f32', 'f16'), /does not touch the KV cache/, name);
      continue;
    }
    assert.equal(shaderSource(name, dtype), shaderSource(name, dtype, 'f32', 'f32'), name);
    assert.match(shaderSource(name, dtype), /^(?![\s\S]*enable f16)[\s\S]*alias KvScalar = f32;/, name);
    for (const precision of ['f32', 'f16'] as const) {
      const source = shaderSource(name, dtype, precision, 'f16');
      // Directives first: only comments and other directives precede the first declaration.
      assert.match(source.slice(0, source.indexOf('alias ')), /^(\s*(\/\/.*|enable \w+;)\n)*\s*$/, `${name}: directives must open the module`);
      assert.match(source, /^(enable subgroups;\n)?enable f16;\n[\s\S]*alias KvScalar = f16;/, name);
    }
  }
  assert.throws(() => shaderSource('attention', undefined, 'f32', 'bf16' as never), /Unknown KV cache type "bf16"/);
});

const models: [string, () => string][] = [
  ['stories260K.gguf', () => fixturePath('models/stories260K/stories260K.gguf')],
  ...archModelFiles(() => dir, (c) => ({ contextLength: Math.max(CONTEXT, c.options.contextLength ?? 0) })),
];

describe('kvCache f16 against f32 on every tiny architecture model (Node, lavapipe)', () => {
  for (const [name, file] of models) {
    // The GPU profile (where 'auto' picks f16) on every model; the software profile's kernels with an f16 cache
    // (attention.wgsl, the rows products' epilogue) on stories260K, and as kernel cases.
    const profiles = name === 'stories260K.gguf' ? ['gpu', 'software'] as const : ['gpu'] as const;
    test(`${name}: f16 cache, ${profiles.join(' and ')} profile: the f32 cache's greedy ids, logits within ${LOGIT_TOLERANCE} of the largest, half the cache bytes`, async (t) => {
      const path = file();
      const run = async (kvCache: KvCacheType, profile: ProfileOption) => {
        const loaded = await loadModel(gpu, path, { contextLength: CONTEXT, precision: 'f32', kvCache, profile });
        try {
          assert.equal(loaded.info.kvCache, kvCache);
          // A 40-token prompt: several prefill tiles and pairs, and decoding past them.
          const prompt = Array.from({ length: 40 }, (_, i) => (1 + 3 * i + 7 * i * i) % loaded.config.vocabSize);
          return { ...(await greedyLogits(loaded, prompt, STEPS)), gpuBytes: loaded.info.gpuBytes, config: loaded.config };
        } finally {
          loaded.destroy();
        }
      };
      const reference = await run('f32', 'gpu');
      for (const profile of profiles) {
        const half = await run('f16', profile);
        assert.deepEqual(half.ids, reference.ids, `${profile} profile: greedy ids with the f16 cache`);
        const rel = maxRelativeDiff(reference.logits, half.logits);
        t.diagnostic(`${profile} profile: f16-cache logits within ${rel.toExponential(2)} of the largest`);
        assert.ok(rel <= LOGIT_TOLERANCE, `${profile} profile: f16-cache logits differ by ${rel} of the largest`);
        if (profile === 'gpu') {
          // Same kernels, half the cache: the loads differ by half the f32 cache's bytes (memory.ts's count).
          const cacheBytes = (type: KvCacheType) => 2 * reference.config.blockCount * gpuBufferSize(kvCacheLayerBytes(reference.config, CONTEXT, type));
          assert.equal(cacheBytes('f32'), 2 * cacheBytes('f16'));
          assert.equal(reference.gpuBytes - half.gpuBytes, cacheBytes('f32') - cacheBytes('f16'));
        }
      }
    });
  }

  test('qwen3-embedding: packed sequences over an f16 cache (the flash and whole attention kernels) give the f32 cache\'s vectors within 1e-3 of the largest', async () => {
    const path = join(dir, 'qwen3-embedding.gguf');
    writeFileSync(path, writeGGUF(tinyQwen3EmbeddingSpec()));
    const embed = async (kvCache: KvCacheType, attention: 'flash' | 'whole') => {
      const loaded = await loadModel(gpu, path, { embeddings: true, contextLength: 64, precision: 'f32', kvCache, profile: { attention } });
      try {
        const inputs = [[1, 5, 9, 2], [1, 7, 3, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 2], [1, 2]].map((ids) => ids.map((id) => id % loaded.config.vocabSize));
        return await embedTokens(loaded.model, inputs, modelPooling(loaded.config));
      } finally {
        loaded.destroy();
      }
    };
    const reference = await embed('f32', 'whole');
    for (const attention of ['whole', 'flash'] as const) {
      const rel = maxRelativeDiff(reference, await embed('f16', attention));
      assert.ok(rel <= 1e-3, `${attention}: f16-cache embeddings differ by ${rel} of the largest`);
    }
  });
});

/**
 * Hearth's f16 cache against llama.cpp's (its default): llama.cpp also rounds q and the softmax probabilities to f16
 * where they meet the cache (ggml's CPU products convert the f32 operand to the f16 one's type), Hearth only keys
 * and values, so the two differ by more than either f32 run does (1e-4 in test/oracle-llama.test.ts).
 */
const ORACLE_TOLERANCE = { rel: 1e-2 };

test('stories260K, f16 KV cache: 120 greedy steps equal llama.cpp\'s with its default F16 cache; logits of the same contexts within 1e-2 of the largest', async (t) => {
  const r = await compareWithLlamaCpp(fixturePath('models/stories260K/stories260K.gguf'), {
    prompt: 'Once upon a time', steps: 120, kvCache: 'f16', oracle: { kvCacheType: 'f16' }, logitTolerance: ORACLE_TOLERANCE,
  });
  const summary = formatReport(r);
  t.diagnostic(summary);
  assert.ok(r.withinTolerance, `logits outside tolerance: ${summary}`);
  assert.deepEqual(r.hearthIds, r.oracleIds, `Hearth greedy ids differ from llama.cpp's: ${summary}`);
  assert.deepEqual(r.engine?.ids, r.engine?.expectedIds, `createEngine's greedy ids differ: ${summary}`);
});
