// Cases for the kernels the non-Llama architectures use (test/reference/transformer-ops.ts has their
// CPU twins): layer norm, GELU, GeGLU, soft-capping, scaling, learned positions, per-head RMS norm, and
// attention with a custom scale, soft-capped scores and a sliding window. Environment-agnostic like cases.ts.
import type { KernelCache } from '../../src/gpu/kernels';
import { workgroups } from '../../src/gpu/kernels';
import { packF16 } from '../reference/f16';
import {
  attentionOptionsRef, gegluRef, geluRef, layernormRef, positionRef, rmsnormRowsRef, scaleRef, softcapRef,
  type AttentionOptions,
} from '../reference/transformer-ops';
import { randomFloats, type Rng } from '../helpers/seeded';
import { EXACT, runAttention, runKernel, storage, uniformWords, type Tolerance } from './harness';

interface OpCase {
  name: string;
  tol: Tolerance;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

// Measured errors with headroom (lavapipe and SwiftShader); inputs O(1) unless the case says otherwise.
const TOL = {
  norm: { atol: 1e-6, rtol: 1e-5 },
  // tanh is an approximate builtin on some drivers (a few ulp); the products keep errors relative.
  gelu: { atol: 2e-6, rtol: 1e-5 },
  softcap: { atol: 1e-5, rtol: 1e-5 },
  scale: EXACT, // one correctly rounded f32 product, like Math.fround(x·s)
  position: EXACT, // one correctly rounded f32 add of exactly decoded weights
  attention: { atol: 2e-6, rtol: 1e-5 },
} as const;

const f32 = (bytes: ArrayBuffer) => new Float32Array(bytes);

function rmsnormRowsCase(rows: number, n: number): OpCase {
  return {
    name: `rmsnorm rows=${rows} n=${n} (per-head q/k norm)`,
    tol: TOL.norm,
    async run(device, cache, rng) {
      const x = randomFloats(rng, rows * n, -3, 3);
      const weight = randomFloats(rng, n, 0.5, 1.5);
      const out = storage(device, x.byteLength);
      const got = await runKernel(device, cache, 'rmsnorm', { constants: { N: n, EPS: 1e-6 } },
        [storage(device, x), storage(device, weight), out], rows, out, x.byteLength);
      return { got: f32(got), want: rmsnormRowsRef(x, weight, n, 1e-6) };
    },
  };
}

function layernormCase(n: number, mean: number): OpCase {
  return {
    name: `layernorm n=${n} mean≈${mean}`,
    tol: TOL.norm,
    async run(device, cache, rng) {
      const x = randomFloats(rng, n, mean - 2, mean + 2);
      const weight = randomFloats(rng, n, 0.5, 1.5);
      const bias = randomFloats(rng, n, -0.5, 0.5);
      const out = storage(device, x.byteLength);
      const got = await runKernel(device, cache, 'layernorm', { constants: { N: n, EPS: 1e-5 } },
        [storage(device, x), storage(device, weight), storage(device, bias), out], 1, out, x.byteLength);
      return { got: f32(got), want: layernormRef(x, weight, bias, 1e-5) };
    },
  };
}

function geluCase(n: number, range: number): OpCase {
  return {
    name: `gelu n=${n} |x|<${range}`,
    tol: TOL.gelu,
    async run(device, cache, rng) {
      const x = randomFloats(rng, n, -range, range);
      const buffer = storage(device, x);
      const got = await runKernel(device, cache, 'gelu', { constants: { N: n } }, [buffer], workgroups(n), buffer, x.byteLength);
      return { got: f32(got), want: geluRef(x) };
    },
  };
}

function gegluCase(n: number, range: number): OpCase {
  return {
    name: `geglu n=${n} |gate|<${range}`,
    tol: TOL.gelu,
    async run(device, cache, rng) {
      const gate = randomFloats(rng, n, -range, range);
      const up = randomFloats(rng, n);
      const buffer = storage(device, gate);
      const got = await runKernel(device, cache, 'glu', { constants: { N: n, ACT: 1 } }, [buffer, storage(device, up)], workgroups(n), buffer, gate.byteLength);
      return { got: f32(got), want: gegluRef(gate, up) };
    },
  };
}

function softcapCase(n: number, cap: number, range: number): OpCase {
  return {
    name: `softcap n=${n} cap=${cap} |x|<${range}`,
    tol: TOL.softcap,
    async run(device, cache, rng) {
      const x = randomFloats(rng, n, -range, range);
      const buffer = storage(device, x);
      const got = await runKernel(device, cache, 'softcap', { constants: { N: n, CAP: cap } }, [buffer], workgroups(n), buffer, x.byteLength);
      return { got: f32(got), want: softcapRef(x, cap) };
    },
  };
}

function scaleCase(n: number, s: number): OpCase {
  return {
    name: `scale n=${n} by ${s.toPrecision(6)}`,
    tol: TOL.scale,
    async run(device, cache, rng) {
      const x = randomFloats(rng, n);
      const buffer = storage(device, x);
      const got = await runKernel(device, cache, 'scale', { constants: { N: n, SCALE: s } }, [buffer], workgroups(n), buffer, x.byteLength);
      return { got: f32(got), want: scaleRef(x, Math.fround(s)) };
    },
  };
}

function positionCase(dtype: 'f32' | 'f16', rows: number, dim: number, pos: number): OpCase {
  return {
    name: `position ${dtype} rows=${rows} dim=${dim} pos=${pos}`,
    tol: TOL.position,
    async run(device, cache, rng) {
      const values = randomFloats(rng, rows * dim);
      const table = dtype === 'f32' ? { data: values, seen: values } : (({ words, rounded }) => ({ data: words, seen: rounded }))(packF16(values));
      const x = randomFloats(rng, dim);
      const buffer = storage(device, x);
      const got = await runKernel(device, cache, 'position', { dtype, constants: { DIM: dim } },
        [uniformWords(device, [pos]), storage(device, table.data), buffer], workgroups(dim), buffer, x.byteLength);
      return { got: f32(got), want: positionRef(x, table.seen, dim, pos) };
    },
  };
}

/** `chunk`: split-K, partials over chunks of that many positions merged by attention-combine. */
function attentionCase(s: AttentionOptions, ctx: number, pos: number, qkRange = 1, chunk?: number): OpCase {
  return {
    name: `attention heads=${s.nHeads} kv_heads=${s.nKvHeads} head_dim=${s.headDim} scale=${s.scale.toPrecision(4)} softcap=${s.softcap} window=${s.window} pos=${pos}/${ctx}${chunk ? ` split-K chunk=${chunk}` : ''}`,
    tol: TOL.attention,
    async run(device, cache, rng) {
      const kvDim = s.nKvHeads * s.headDim;
      const q = randomFloats(rng, s.nHeads * s.headDim, -qkRange, qkRange);
      const k = randomFloats(rng, ctx * kvDim, -qkRange, qkRange);
      const v = randomFloats(rng, ctx * kvDim);
      // Poison outside the visible range: reading any of it would show up as a huge error.
      k.fill(1e4, (pos + 1) * kvDim);
      v.fill(1e4, (pos + 1) * kvDim);
      if (s.window > 0) {
        const first = Math.max(0, pos + 1 - s.window);
        k.fill(1e4, 0, first * kvDim);
        v.fill(1e4, 0, first * kvDim);
      }
      const constants = { N_HEADS: s.nHeads, N_KV_HEADS: s.nKvHeads, HEAD_DIM: s.headDim, CTX: ctx, SCALE: s.scale, SOFTCAP: s.softcap, WINDOW: s.window };
      const got = await runAttention(device, cache, constants,
        [uniformWords(device, [pos]), storage(device, q), storage(device, k), storage(device, v), storage(device, s.nHeads * ctx * 4)], 1, chunk);
      return { got: f32(got), want: attentionOptionsRef(q, k, v, pos, s) };
    },
  };
}

/** Attention as most models run it: scale 1/√headDim, no soft-cap, no window. */
const plainAttention = (s: { nHeads: number; nKvHeads: number; headDim: number }, ctx: number, pos: number, qkRange = 1) =>
  attentionCase({ ...s, scale: 1 / Math.sqrt(s.headDim), softcap: 0, window: 0 }, ctx, pos, qkRange);

export function transformerOpCases(): OpCase[] {
  const shape = { nHeads: 4, nKvHeads: 2, headDim: 32 };
  return [
    plainAttention({ nHeads: 4, nKvHeads: 4, headDim: 16 }, 32, 0),
    plainAttention({ nHeads: 4, nKvHeads: 4, headDim: 16 }, 32, 31),
    plainAttention({ nHeads: 8, nKvHeads: 4, headDim: 64 }, 200, 0),
    plainAttention({ nHeads: 8, nKvHeads: 4, headDim: 64 }, 200, 70),
    plainAttention({ nHeads: 8, nKvHeads: 4, headDim: 64 }, 200, 199),
    plainAttention({ nHeads: 2, nKvHeads: 1, headDim: 128 }, 100, 99),
    plainAttention({ nHeads: 6, nKvHeads: 6, headDim: 20 }, 80, 65),
    plainAttention({ nHeads: 4, nKvHeads: 2, headDim: 64 }, 128, 127, 4),
    // Past 512 positions each thread owns several runs of 8; 1101 positions end mid-run; head_dim 4 is one vec4.
    plainAttention({ nHeads: 2, nKvHeads: 1, headDim: 64 }, 1200, 1100),
    plainAttention({ nHeads: 3, nKvHeads: 3, headDim: 4 }, 600, 530),
    rmsnormRowsCase(1, 100), rmsnormRowsCase(8, 64), rmsnormRowsCase(5, 128),
    layernormCase(1, 0), layernormCase(100, 0), layernormCase(768, 50), layernormCase(4097, -3),
    geluCase(1, 3), geluCase(1000, 4), geluCase(1000, 40),
    gegluCase(100, 4), gegluCase(4097, 30),
    softcapCase(1000, 30, 100), softcapCase(152000, 50, 1000), softcapCase(7, 30, 1),
    scaleCase(100, Math.sqrt(256)), scaleCase(2049, Math.sqrt(2304)),
    positionCase('f32', 64, 96, 0), positionCase('f32', 64, 96, 63), positionCase('f16', 40, 130, 17),
    attentionCase({ ...shape, scale: 1 / 16, softcap: 0, window: 0 }, 80, 70),
    attentionCase({ ...shape, scale: 1 / Math.sqrt(32), softcap: 50, window: 0 }, 80, 70, 4),
    attentionCase({ ...shape, scale: 1 / Math.sqrt(32), softcap: 0, window: 16 }, 80, 70),
    attentionCase({ ...shape, scale: 1 / Math.sqrt(32), softcap: 0, window: 533 }, 1100, 1090), // window starts mid-run
    // Split-K: chunks of 256 (the model's are ATTENTION_CHUNK); the window ends mid-chunk, earlier chunks are empty.
    attentionCase({ ...shape, scale: 1 / Math.sqrt(32), softcap: 0, window: 533 }, 1100, 1090, 1, 256),
    attentionCase({ ...shape, scale: 1 / Math.sqrt(32), softcap: 50, window: 0 }, 1100, 1000, 4, 256),
    attentionCase({ ...shape, scale: 1 / 16, softcap: 0, window: 0 }, 1100, 100, 1, 256), // chunks past pos are empty
    attentionCase({ ...shape, scale: 1 / Math.sqrt(32), softcap: 0, window: 16 }, 80, 15),
    attentionCase({ ...shape, scale: 1 / Math.sqrt(32), softcap: 0, window: 1 }, 80, 40),
    attentionCase({ ...shape, scale: 1 / Math.sqrt(32), softcap: 20, window: 100 }, 200, 199, 4),
    attentionCase({ nHeads: 2, nKvHeads: 1, headDim: 128, scale: 1 / Math.sqrt(128), softcap: 0, window: 70 }, 200, 150),
  ];
}
