// Quantized GGUF weights: the ggml type → weight dtype mapping, the CPU dequantizers (the GPU kernels'
// twins) proven bit-identical to gguf-py — on every tensor of the real quantized stories260K files and on
// synthetic tensors of every supported type — and the test quantizers' layouts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileSource } from '../src/io/file-source';
import { readGGUF, readTensorBytes } from '../src/model/gguf';
import { GGMLType, ggmlTypeInfo, ggmlTypeName } from '../src/model/ggml-types';
import {
  supportedWeightTypes, weightBufferSize, weightByteLength, weightDTypeForGGML, weightDTypes, weightLayouts, type FileWeightDType,
} from '../src/gpu/quant-types';
import { shaderSource } from '../src/gpu/shaders';
import { dequantize } from './reference/quant';
import { ggufPyUnavailable, openGgufPy, type GgufPy } from './reference/quant-gguf-py';
import { quantize, randomBlockBytes } from './helpers/quantize';
import { writeGGUF, type TensorSpec } from './helpers/gguf-writer';
import { randomFloats, seededRng, seedFromString, type Rng } from './helpers/seeded';
import { fixturePath } from './helpers/fixtures';

/** First index where a and b differ bit for bit (so −0 ≠ +0), or −1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

function assertBitIdentical(got: Float32Array, want: Float32Array, what: string): void {
  const i = firstBitDifference(got, want);
  assert.equal(i, -1, `${what}: element ${i} is ${got[i]} here but ${want[i]} in gguf-py (lengths ${got.length}, ${want.length})`);
}

describe('weight dtypes for GGUF tensor types', () => {
  test('every supported ggml type maps to its dtype, with ggml\'s block layout', () => {
    for (const dtype of weightDTypes) {
      const layout = weightLayouts[dtype];
      assert.equal(weightDTypeForGGML(layout.ggmlType), dtype);
      assert.equal(ggmlTypeName(layout.ggmlType), layout.ggmlName);
      const info = ggmlTypeInfo(layout.ggmlType)!;
      assert.equal(layout.blockElements, info.blockSize, dtype);
      assert.equal(layout.blockBytes, info.bytesPerBlock, dtype);
      assert.equal(layout.rowMultiple % layout.blockElements, 0, dtype);
      assert.match(shaderSource('matvec', dtype), /fn weight8[\s\S]*fn main/);
    }
    assert.deepEqual(supportedWeightTypes(), ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q4_K', 'Q5_K', 'Q6_K', 'Q2_K', 'Q3_K', 'IQ4_NL', 'IQ4_XS']);
  });
  test('unsupported and unknown types map to undefined', () => {
    for (const type of [GGMLType.Q8_1, GGMLType.Q8_K, GGMLType.IQ2_XXS, GGMLType.IQ3_S, GGMLType.TQ2_0, GGMLType.I32, 4, 999]) {
      assert.equal(weightDTypeForGGML(type), undefined, ggmlTypeName(type));
    }
  });
  test('byte lengths and buffer sizes', () => {
    assert.equal(weightByteLength('q8_0', 64), 68);
    assert.equal(weightByteLength('q6_k', 512), 420);
    assert.equal(weightByteLength('q2_k', 512), 168);
    assert.equal(weightByteLength('q3_k', 512), 220);
    assert.equal(weightByteLength('iq4_nl', 64), 36);
    assert.equal(weightByteLength('iq4_xs', 512), 272);
    assert.equal(weightByteLength('f16', 3), 6);
    assert.equal(weightBufferSize(34), 36);
    assert.equal(weightBufferSize(36), 36);
  });
});

const REAL_FILES = ['F16', 'Q8_0', 'Q4_0', 'Q4_0-pure', 'Q4_K_M'].map((q) => fixturePath('models', 'stories260K', `stories260K-${q}.gguf`));

/**
 * Values to quantize: blocks of uniform noise at magnitudes from 1e-5 (f16 scales become subnormal)
 * to 1e3, an all-zero block, a constant block and one-sided blocks (K-quant mins of 0).
 */
function testValues(n: number, rng: Rng): Float32Array {
  const values = randomFloats(rng, n);
  const magnitudes = [1, 1e-5, 3e-4, 1e3, 0, 0.5];
  for (let b = 0; b < n / 32; b++) {
    const block = values.subarray(32 * b, 32 * b + 32);
    const m = magnitudes[b % magnitudes.length]!;
    for (let i = 0; i < 32; i++) block[i] = Math.fround(block[i]! * m);
    if (b % 7 === 3) block.fill(0.25);
    if (b % 5 === 2) block.forEach((x, i) => { block[i] = Math.abs(x); });
  }
  return values;
}

// Without python3 + numpy the proof is skipped locally (with the reason), but in CI it must run.
const ggufPyMissing = ggufPyUnavailable();
if (ggufPyMissing && process.env.CI) throw new Error(`test/quant.test.ts needs gguf-py in CI: ${ggufPyMissing}`);

describe('dequantization is bit-identical to gguf-py (llama.cpp)', { skip: ggufPyMissing }, () => {
  let py: GgufPy;
  let dir: string;
  before(() => {
    py = openGgufPy();
    dir = mkdtempSync(join(tmpdir(), 'hearth-quant-'));
  });
  after(() => {
    py?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every tensor of the quantized stories260K files (F32, F16, Q8_0, Q4_0, Q5_0)', async (t) => {
    const want = py.dequantizeFiles(REAL_FILES);
    const seen = new Map<string, number>();
    for (const [index, path] of REAL_FILES.entries()) {
      const source = await openFileSource(path);
      try {
        const file = await readGGUF(source);
        for (const tensor of file.tensors) {
          const dtype = weightDTypeForGGML(tensor.type);
          assert.ok(dtype, `${path}: ${tensor.name} has unsupported type ${ggmlTypeName(tensor.type)}`);
          const elements = tensor.dims.reduce((a, b) => a * b, 1);
          const got = dequantize(dtype, await readTensorBytes(file, tensor), elements);
          assertBitIdentical(got, want.get(`${index}/${tensor.name}`)!, `${path} ${tensor.name} (${dtype})`);
          seen.set(dtype, (seen.get(dtype) ?? 0) + 1);
        }
      } finally {
        await source.close?.();
      }
    }
    t.diagnostic(`tensors compared per type: ${[...seen].map(([d, n]) => `${d} ${n}`).join(', ')}`);
    for (const dtype of ['f32', 'f16', 'q8_0', 'q4_0', 'q5_0'] as const) assert.ok(seen.has(dtype), `no ${dtype} tensor in the real files`);
  });

  test('synthetic tensors of every type: quantized noise at many scales, and random block bytes', () => {
    const rng = seededRng(seedFromString('quant synthetic'));
    const tensors: TensorSpec[] = [];
    for (const dtype of weightDTypes) {
      const { ggmlType, blockElements } = weightLayouts[dtype];
      const n = Math.max(8, 2048 / blockElements) * blockElements; // ≥ 8 K-quant super-blocks
      tensors.push({ name: `${dtype}.quantized`, dims: [n], type: ggmlType, data: quantize(dtype, testValues(n, rng)) });
      const blocks = dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' ? 4096 : 64;
      tensors.push({ name: `${dtype}.random`, dims: [blocks * blockElements], type: ggmlType, data: randomBlockBytes(dtype, blocks, rng) });
    }
    const path = join(dir, 'synthetic.gguf');
    writeFileSync(path, writeGGUF({ metadata: { 'general.architecture': 'test' }, tensors }));
    const want = py.dequantizeFiles([path]);
    for (const tensor of tensors) {
      const dtype = weightDTypeForGGML(tensor.type)!;
      assertBitIdentical(dequantize(dtype, tensor.data as Uint8Array, tensor.dims[0]!), want.get(`0/${tensor.name}`)!, tensor.name);
    }
  });
});

describe('test quantizers', () => {
  // Worst |x − dequant(quant(x))| relative to the block's largest |x|: half a step for round-to-nearest,
  // a whole step where ggml's scale choice clips the far end (Q4_0/Q5_0 span −8d..7d with the largest
  // value at −8d; Q3_K −4d..3d), and about one more for the K-quants' 6-bit scale and min rounding
  // (Q2_K's 4-bit ones round coarser); IQ4's codebook spans −127d..113d, its widest gap at the ends.
  const bound: Record<FileWeightDType, number> = {
    f32: 0, f16: 2 ** -11, bf16: 2 ** -8, q8_0: 0.5 / 127 + 1e-3, q4_0: 1 / 8 + 1e-3, q4_1: 1 / 15 + 1e-3,
    q5_0: 1 / 16 + 1e-3, q5_1: 1 / 31 + 1e-3, q4_k: 3 / 15, q5_k: 3 / 31, q6_k: 2 / 32,
    q2_k: 0.4, q3_k: 0.3, iq4_nl: 14 / 127 + 1e-3, iq4_xs: 0.15,
  };
  for (const dtype of weightDTypes) {
    test(`${dtype}: dequantize(quantize(x)) ≈ x`, () => {
      const { blockElements } = weightLayouts[dtype];
      const n = Math.max(16, 4096 / blockElements) * blockElements;
      const x = randomFloats(seededRng(seedFromString(dtype)), n, -2, 1.5);
      const y = dequantize(dtype, quantize(dtype, x), n);
      const group = Math.max(32, blockElements);
      let worst = 0;
      for (let b = 0; b < n; b += group) {
        let amax = 0;
        for (let i = b; i < b + group; i++) amax = Math.max(amax, Math.abs(x[i]!));
        for (let i = b; i < b + group; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / amax);
      }
      assert.ok(worst <= bound[dtype], `${dtype}: worst relative error ${worst} > ${bound[dtype]}`);
      if (dtype !== 'f32') assert.ok(worst > 0, `${dtype}: quantization lost nothing — suspicious`);
    });
  }
});
