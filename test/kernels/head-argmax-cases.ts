// The output head's argmax epilogue (main_argmax, common/matvec-lanes.wgsl, the GPU profile's greedy step): the lane kernels
// (matvec-subgroup, matvec-workgroup) write the logits and, per workgroup of four rows, the (max, index) of its
// rows; argmax.wgsl's `finish` alone then picks the token. Each case checks, inside it, that the logits are bit
// for bit the plain product's, that no slot past the head's partials (nor another row block's) is written, and
// that the id is the argmax of those logits (today's winner: ties to the lowest index); the id is compared
// exactly with its CPU twin, the argmax of the CPU product. The heads plant a dominant row sign(x) (its sum
// Σ|x| stands far above the random rows', so rounding cannot reorder the top) and ties as copies of it (equal
// rows give equal sums, on the GPU and the CPU). Shapes: vocabularies that are not a multiple of 4 (the last
// workgroup's missing rows must not win), ties across and within workgroups, all rows equal, a 262148-row head
// (65537 workgroups: a 2-D grid), a 2-D grid under a lowered limit (whole workgroups past the rows), and a head
// bound in two row blocks (ROW_START: each block's slots and indices in the whole head's).
// Environment-agnostic like cases.ts.
import { headArgmaxParts, workgroupGrid } from '../../src/gpu/kernels';
import type { WeightDType } from '../../src/gpu/shaders';
import { argmaxRef, matvecRef } from '../reference/kernels';
import { randomFloats } from '../helpers/seeded';
import { EXACT, productBindings, runKernel, storage } from './harness';
import { assertSameBits, featureOf, label, type FusedCase } from './fused-cases';
import { testWeights, weights } from './test-weights';

type LaneKernel = 'matvec-subgroup' | 'matvec-workgroup';
const ROWS_PER_WORKGROUP = 4;
/** What a slot holds until a kernel writes it. */
const UNWRITTEN = 0xdeadbeef;

/** Sets row `r` of a [rows, cols] matrix to sign(x): the head's dominant row. */
const dominant = (r: number) => (w: Float32Array, x: Float32Array) => {
  const cols = x.length;
  for (let c = 0; c < cols; c++) w[r * cols + c] = x[c]! < 0 ? -1 : 1;
};
/** Copies row `from` onto each row of `to`. */
const copies = (from: number, ...to: number[]) => (w: Float32Array, x: Float32Array) => {
  const cols = x.length;
  for (const r of to) w.copyWithin(r * cols, from * cols, (from + 1) * cols);
};
const both = (...plants: ((w: Float32Array, x: Float32Array) => void)[]) => (w: Float32Array, x: Float32Array) => plants.forEach((p) => p(w, x));

/** A tie for the maximum at rows a < b: the dominant row at b, copied to a. */
const tie = (a: number, b: number) => both(dominant(b), copies(b, a));

interface HeadShape {
  rows: number;
  cols: number;
  what: string;
  plant: (w: Float32Array, x: Float32Array) => void;
  /** Rows per binding block (a multiple of 64): the head in row blocks, one dispatch each. */
  blockRows?: number;
  /** The per-dimension limit its grid is laid out under (a 2-D grid), not the device's. */
  gridLimit?: number;
}

function headArgmaxCase(kernel: LaneKernel, dtype: WeightDType, s: HeadShape): FusedCase {
  const { rows, cols, blockRows = rows, gridLimit } = s;
  const layout = `${blockRows < rows ? ` in row blocks of ${blockRows}` : ''}${gridLimit ? ` (2-D grid, ${gridLimit} per dimension)` : ''}`;
  return {
    name: `${label(kernel, dtype)} main_argmax ${rows}x${cols} ${s.what}${layout} (vs CPU twin's argmax, the logits bit for bit main's)`,
    tol: EXACT,
    feature: featureOf(kernel),
    async run(device, cache, rng) {
      if (kernel === 'matvec-subgroup' && !device.features.has('subgroups')) throw new Error("matvec-subgroup needs the device feature 'subgroups'");
      const values = testWeights(rng, rows * cols, dtype);
      const x = randomFloats(rng, cols);
      s.plant(values, x);
      const PARTS = headArgmaxParts(rows);
      const limit = gridLimit ?? device.limits.maxComputeWorkgroupsPerDimension;
      // One product dispatch over rows [start, start + n) of the head, reading back `read`: its logits, or the
      // partials buffer (2 · PARTS slots and 4 more, all UNWRITTEN before).
      const whole = weights(values, dtype);
      const product = async (start: number, n: number, argmax: boolean, read: 'logits' | 'parts'): Promise<ArrayBuffer> => {
        const w = n === rows ? whole : weights(values.subarray(start * cols, (start + n) * cols), dtype);
        const out = storage(device, 4 * n);
        const parts = argmax ? storage(device, new Uint32Array(2 * PARTS + 4).fill(UNWRITTEN)) : null;
        const constants = { ROWS: n, COLS: cols, ...(argmax ? { ARGMAX_PARTS: PARTS, ROW_START: start } : {}) };
        const bindings = [...productBindings(storage(device, w.data), storage(device, x), out), ...(parts ? [null, null, null, null, null, parts] : [])];
        const grid = workgroupGrid(Math.ceil(n / ROWS_PER_WORKGROUP), limit);
        if (gridLimit && grid[1] < 2) throw new Error(`the case means a 2-D grid, got ${grid.join(' × ')}`);
        const [output, bytes] = read === 'parts' && parts ? [parts, parts.size] : [out, 4 * n];
        return runKernel(device, cache, kernel, { dtype, constants, entryPoint: argmax ? 'main_argmax' : 'main' }, bindings, grid, output, bytes);
      };

      const logits = new Float32Array(rows);
      const parts = new Uint32Array(2 * PARTS + 4).fill(UNWRITTEN);
      for (let start = 0; start < rows; start += blockRows) {
        const n = Math.min(blockRows, rows - start);
        logits.set(new Float32Array(await product(start, n, true, 'logits')), start);
        const written = new Uint32Array(await product(start, n, true, 'parts')).subarray(0, 2 * PARTS + 4);
        const [first, end] = [start / ROWS_PER_WORKGROUP, (start + n) / ROWS_PER_WORKGROUP];
        written.forEach((word, k) => {
          const slot = k < PARTS ? k : k - PARTS;
          const own = k < 2 * PARTS && slot >= first && slot < Math.ceil(end);
          if (own) parts[k] = word;
          else if (word !== UNWRITTEN) throw new Error(`the block of rows ${start}+${n} wrote word ${k} of the partials, outside its slots ${first}…${Math.ceil(end) - 1}`);
        });
      }
      assertSameBits('logits', logits, new Float32Array(await product(0, rows, false, 'logits')));
      const token = storage(device, new Uint32Array([UNWRITTEN]));
      const finish = { constants: { N: rows, PARTS }, entryPoint: 'finish' };
      const id = new Uint32Array(await runKernel(device, cache, 'argmax', finish, [null, token, storage(device, parts)], 1, token, 4))[0]!;
      const today = argmaxRef(logits);
      if (id !== today) throw new Error(`finish picked ${id}, argmax.wgsl (its CPU twin) picks ${today} from the same logits`);
      return { got: [id], want: [argmaxRef(matvecRef(whole.seen, x, rows, cols))] };
    },
  };
}

export function headArgmaxCases(): FusedCase[] {
  const shapes: [WeightDType, HeadShape][] = [
    ['q4_0', { rows: 1001, cols: 64, what: 'tie at 5 and 998', plant: tie(5, 998) }],
    ['f16', { rows: 1003, cols: 70, what: 'tie within a workgroup at 9 and 11', plant: tie(9, 11) }],
    ['f32', { rows: 1003, cols: 33, what: 'max at the last row', plant: dominant(1002) }],
    ['q8_0', { rows: 302, cols: 32, what: 'all rows equal', plant: copies(0, ...Array.from({ length: 301 }, (_, i) => i + 1)) }],
    ['f32', { rows: 1000, cols: 40, what: 'tie at 997 and 998', plant: tie(997, 998), gridLimit: 16 }],
    ['f32', { rows: 200, cols: 40, what: 'tie at 150 and 190', plant: tie(150, 190), blockRows: 128 }],
    ['q4_0', { rows: 262148, cols: 32, what: 'tie at 3 and 262147', plant: tie(3, 262147) }],
  ];
  return (['matvec-subgroup', 'matvec-workgroup'] as const).flatMap((kernel) => shapes.map(([dtype, s]) => headArgmaxCase(kernel, dtype, s)));
}
