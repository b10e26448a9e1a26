// The CPU quantizers behind quantize-at-load (src/model/quantize.ts) against gguf-py's quants.py, which is
// bit-exact with ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref (llama-quantize's choice without an
// importance matrix): random rows at many scales plus the edge cases (zero blocks, ties for the largest magnitude,
// halves to round, f16 scale overflow and subnormals). F16/BF16 conversions against their definitions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bfloatToFloat, floatToHalf, quantizeQ4_0, quantizeQ8_0, toFloats } from '../src/model/quantize';
import { f32ToF16 } from './reference/f16';
import { ggufPyUnavailable, openGgufPy, type GgufPy } from './reference/quant-gguf-py';
import { randomFloats, seededRng } from './helpers/seeded';

/** Rows that exercise every branch of the two quantizers, 32-element blocks each. */
function testRows(): Float32Array {
  const rng = seededRng(7);
  const blocks: Float32Array[] = [];
  for (const scale of [1e-8, 1e-5, 0.01, 1, 30, 1e4, 7e4]) blocks.push(...Array.from({ length: 8 }, () => randomFloats(rng, 32, -scale, scale)));
  blocks.push(new Float32Array(32)); // all zero: d = 0
  blocks.push(Float32Array.from({ length: 32 }, (_, i) => (i % 2 ? -4 : 4))); // ±max ties: the first wins (Q4_0)
  blocks.push(Float32Array.from({ length: 32 }, (_, i) => (i - 16) * 0.5)); // exact halves after scaling
  blocks.push(Float32Array.from({ length: 32 }, (_, i) => (i === 5 ? -127 : i - 16))); // q = ±127 exactly
  blocks.push(Float32Array.from({ length: 32 }, (_, i) => (i === 0 ? 1e9 : 1))); // d overflows f16 (inf scale)
  const out = new Float32Array(blocks.length * 32);
  blocks.forEach((b, i) => out.set(b, 32 * i));
  return out;
}

describe('quantize-at-load quantizers are bit-identical to gguf-py', { skip: !process.env.CI && ggufPyUnavailable() }, () => {
  let py: GgufPy;
  before(() => { py = openGgufPy(); });
  after(() => py?.dispose());

  test('Q8_0', () => assert.deepEqual(quantizeQ8_0(testRows()), py.quantize(testRows(), 'Q8_0')));
  test('Q4_0', () => assert.deepEqual(quantizeQ4_0(testRows()), py.quantize(testRows(), 'Q4_0')));
});

test('f32 → f16 rounds to nearest even like the reference encoder; f16/bf16 bytes decode exactly', () => {
  const rng = seededRng(3);
  const values = [...randomFloats(rng, 2000, -70000, 70000), ...randomFloats(rng, 2000, -1e-4, 1e-4), 65504, 65520, 6e-8, 2 ** -25, -0, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
  for (const v of values) assert.equal(floatToHalf(v), f32ToF16(v), `f16 of ${v}`);
  const halves = new Uint8Array(Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7bff).buffer);
  assert.deepEqual(Array.from(toFloats(halves, 'F16')), [1, -2, 2 ** -24, 65504]);
  const bf = new Uint8Array(Uint16Array.of(0x3f80, 0xc040, 0x0001).buffer);
  assert.deepEqual(Array.from(toFloats(bf, 'BF16')), [1, -3, bfloatToFloat(1)]);
  assert.equal(bfloatToFloat(1), 2 ** -133);
});
