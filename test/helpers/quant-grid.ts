// The (architecture × tensor type) grid against llama.cpp (issue 4's oracle): each tiny random model of
// test/helpers/tiny-models.ts with its weight matrices in one GGUF type (or a Q4_K_M-like mix), checked
//   (b) Hearth on the quantized file against llama.cpp on an F32 file of the same weights dequantized
//       (test/reference/quant.ts, bit-identical to ggml): greedy ids exact, logits within F32-level bounds;
//   (c) Hearth on the quantized file against llama.cpp on that same file: looser bounds, because
//       llama.cpp's CPU matmuls round the activations to the weights' "vec_dot_type" (see gridTolerance);
//   (d) Hearth's f16 arithmetic (precision 'f16', where the device has shader-f16) against its f32 path;
//   and GPU memory: the bytes the loader allocates against the file's tensor bytes plus the KV cache.
// (a), the dequantizers themselves, is test/quant.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice, type AcquiredDevice } from '../../src/gpu/device';
import { weightDTypeForGGML, weightLayouts, type FileWeightDType, type WeightDType } from '../../src/gpu/quant-types';
import { ALIGNED_GROUP, gpuWeightDType, isAligned } from '../../src/gpu/aligned-weights';
import { chooseProfile } from '../../src/gpu/profile';
import { loadModel, type LoadModelOptions } from '../../src/model/load';
import { readGGUF } from '../../src/model/gguf';
import { MemorySource } from '../../src/io/byte-source';
import { u32, type GGUFSpec, type TensorSpec } from './gguf-writer';
import { closeLlamaCpp, compareStep, openOracle, type StepReport } from './llama-cpp';
import { quantizeModel, type QuantizedPair } from './quantized-models';
import { ARCH_CASES, tinyModelSpec, type TinyArch, type TinyModelOptions } from './tiny-models';

/**
 * A tensor type of the grid: one ggml type for every weight matrix, or one of llama-quantize's mixes (the
 * files the hub serves as Q4_K_M, Q3_K_M, Q2_K and IQ4_XS).
 */
export type GridMix = 'q4_k_m' | 'q3_k_s' | 'q3_k_m' | 'q3_k_l' | 'q2_k_mix' | 'iq4_xs_mix';
export type GridType = FileWeightDType | GridMix;
export const GRID_TYPES: GridType[] = [
  'f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q4_k', 'q5_k', 'q6_k', 'q4_k_m',
  'q2_k', 'q3_k', 'iq4_nl', 'iq4_xs', 'q3_k_s', 'q3_k_m', 'q3_k_l', 'q2_k_mix', 'iq4_xs_mix',
];

/**
 * Per mix, the type of each kind of matrix as llama-quantize (src/llama-quant.cpp, llama_tensor_get_type_impl)
 * gives it in a model like the grid's: 2 layers, fewer than 4 query heads per KV head (n_gqa ≥ 4 would give
 * attn_v Q4_K in Q2_K and Q5_K in IQ4_XS), not Falcon, no experts, every row a multiple of 256 (real files fall
 * back to Q4_0/Q5_0/IQ4_NL/Q8_0 where one is not). `output` is output.weight, or token_embd where the output is
 * tied to it; `moreBits` replaces attn_v and ffn_down on the layers use_more_bits picks (Q4_K_M: the last of 2).
 */
interface MixRecipe { base: WeightDType; output: WeightDType; attnV?: WeightDType; ffnDown?: WeightDType; attnOutput?: WeightDType; attnQkv?: WeightDType; moreBits?: WeightDType }
const MIXES: Record<GridMix, MixRecipe> = {
  q4_k_m: { base: 'q4_k', output: 'q6_k', attnQkv: 'q5_k', moreBits: 'q6_k' },
  q3_k_s: { base: 'q3_k', output: 'q6_k' },
  // attn_v: Q5_K on the first two (here: both) layers; ffn_down: Q5_K on the first 16th (none here), else Q4_K.
  q3_k_m: { base: 'q3_k', output: 'q6_k', attnV: 'q5_k', ffnDown: 'q4_k', attnOutput: 'q4_k', attnQkv: 'q4_k' },
  q3_k_l: { base: 'q3_k', output: 'q6_k', attnV: 'q5_k', ffnDown: 'q5_k', attnOutput: 'q5_k', attnQkv: 'q4_k' },
  q2_k_mix: { base: 'q2_k', output: 'q6_k', attnV: 'q3_k', ffnDown: 'q3_k', attnOutput: 'q3_k' },
  // ffn_down: Q5_K on the first 8th of the layers (none at 2 layers).
  iq4_xs_mix: { base: 'iq4_xs', output: 'q6_k' },
};

/**
 * The type llama-quantize gives tensor `name` of a `layers`-layer model: 1-D tensors (norms, biases, rope
 * factors) and GPT-2's position_embd stay F32 (null); every other matrix, token_embd included, gets `type`,
 * or for a mix the type its recipe (MIXES) names.
 */
export function gridTensorType(type: GridType, t: Pick<TensorSpec, 'name' | 'dims'>, layers: number, tied: boolean): WeightDType | null {
  if (t.dims.length < 2 || t.name === 'position_embd.weight') return null;
  if (!Object.hasOwn(MIXES, type)) return type as WeightDType;
  const mix = MIXES[type as GridMix];
  if (t.name === 'output.weight' || (tied && t.name === 'token_embd.weight')) return mix.output;
  const layer = /^blk\.(\d+)\./.exec(t.name)?.[1];
  const role = /\.(attn_v|ffn_down|attn_output|attn_qkv)\.weight$/.exec(t.name)?.[1];
  if (layer !== undefined && mix.moreBits && (role === 'attn_v' || role === 'ffn_down') && useMoreBits(Number(layer), layers)) return mix.moreBits;
  const byRole = { attn_v: mix.attnV, ffn_down: mix.ffnDown, attn_output: mix.attnOutput, attn_qkv: mix.attnQkv };
  return (role && byRole[role as keyof typeof byRole]) || mix.base;
}

/** llama-quantize's use_more_bits: the first and last eighth of the layers and every third in between. */
function useMoreBits(layer: number, layers: number): boolean {
  return layer < Math.floor(layers / 8) || layer >= Math.floor((7 * layers) / 8) || (layer - Math.floor(layers / 8)) % 3 === 2;
}

/** The grid model of `spec` (all F32) in `type`: quantized and dequantized GGUF bytes (see quantizeModel). */
export function gridModel(spec: GGUFSpec, type: GridType): QuantizedPair & { types: string } {
  const tensors = spec.tensors ?? [];
  const layers = new Set(tensors.map((t) => /^blk\.(\d+)\./.exec(t.name)?.[1]).filter(Boolean)).size;
  const tied = !tensors.some((t) => t.name === 'output.weight');
  const counts = new Map<string, number>();
  const pair = quantizeModel(spec, (t) => {
    const dtype = gridTensorType(type, t, layers, tied);
    const name = dtype ? weightLayouts[dtype].ggmlName : 'F32';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return dtype;
  });
  return { ...pair, types: [...counts].map(([n, c]) => `${n} ${c}`).join(', ') };
}

/** One architecture of the grid: tiny-models' first case of it, at 2 layers and FFN 512 (every row a multiple of 256). */
export interface GridArch { arch: TinyArch; options: TinyModelOptions; prompt: string }

export function gridArch(arch: TinyArch): GridArch {
  const c = ARCH_CASES.find((a) => a.arch === arch)!;
  const options: TinyModelOptions = { ...c.options, layers: 2, ff: 512, contextLength: 64 };
  // Gemma 3 at 2 layers: a windowed layer, then a global one.
  if (arch === 'gemma3') options.metadata = { ...options.metadata, 'gemma3.attention.sliding_window_pattern': u32(2) };
  return { arch, prompt: 'the cat sat on a mat', options };
}

export const STEPS = 32;

const specs = new WeakMap<GridArch, GGUFSpec>();
/** The arch's F32 model, made once for all its types (random weights take a while in JS). */
function f32Spec(g: GridArch): GGUFSpec {
  let spec = specs.get(g);
  if (!spec) specs.set(g, (spec = tinyModelSpec(g.arch, g.options)));
  return spec;
}

/**
 * Hearth's logits for the contexts promptIds + forced[0..s), s = 0 … steps − 1 (one load of `path`): the
 * prompt but its last token in one prefill batch (the matrix-matrix kernels), then one token per step
 * (matrix-vector), as the engine runs a prompt.
 */
async function hearthLogits(gpu: AcquiredDevice, path: string, promptIds: number[], forced: number[], options: LoadModelOptions): Promise<{ logits: Float32Array[]; gpuBytes: number }> {
  const loaded = await loadModel(gpu, path, { contextLength: promptIds.length + forced.length, ...options });
  try {
    const { model } = loaded;
    model.prefill(promptIds.slice(0, -1), 0);
    const tokens = [promptIds.at(-1)!, ...forced];
    const logits: Float32Array[] = [];
    for (let s = 0; s < forced.length; s++) logits.push(await model.step(tokens[s]!, promptIds.length - 1 + s, 'logits'));
    return { logits, gpuBytes: loaded.info.gpuBytes };
  } finally {
    loaded.destroy();
  }
}

/** Per-step comparison of `got` with `ref` (reference picks `refIds`), bound rel·max|ref logit|. */
function compareRun(ref: Float32Array[], refIds: number[], got: Float32Array[], rel: number): StepReport[] {
  return ref.map((r, s) => compareStep(s, s, refIds[s]!, r, got[s]!, 0, rel));
}

export interface RunSummary {
  steps: StepReport[];
  /** max over steps of maxAbsDiff / max|logit|. */
  maxRelDiff: number;
  maxAbsDiff: number;
  /** Steps where the reference's top-2 margin exceeds 2·bound, so logits in bounds fix the argmax. */
  decided: number;
  /** Steps (of the decided ones) where the two argmaxes differ. */
  argmaxMismatches: number[];
}

export function summarize(steps: StepReport[]): RunSummary {
  const decidedSteps = steps.filter((s) => s.margin > 2 * s.bound);
  return {
    steps,
    maxRelDiff: Math.max(...steps.map((s) => s.maxAbsDiff / s.maxAbsLogit)),
    maxAbsDiff: Math.max(...steps.map((s) => s.maxAbsDiff)),
    decided: decidedSteps.length,
    argmaxMismatches: decidedSteps.filter((s) => s.hearthToken !== s.oracleToken).map((s) => s.step),
  };
}

export interface GridResult {
  arch: TinyArch;
  type: GridType;
  types: string;
  promptIds: number[];
  /** llama.cpp greedy on the dequantized F32 file. */
  oracleIds: number[];
  /** (b) Hearth (f32 arithmetic, quantized file) vs llama.cpp (dequantized F32 file). */
  dequantized: RunSummary;
  /** (c) Hearth (f32 arithmetic) vs llama.cpp on the quantized file, same contexts; absent for F32. */
  quantized?: RunSummary;
  /** (d) Hearth f16 arithmetic vs Hearth f32 arithmetic, same contexts; absent without the option. */
  f16?: RunSummary;
  /** Bytes on the GPU after the f32 load, and the independent expectation (tensor bytes + KV cache). */
  /** `groupBytes`: Σ over the matrices held in an aligned layout of its group's bytes (their last group is held whole). */
  memory: { gpuBytes: number; tensorBytes: number; kvBytes: number; tensorCount: number; groupBytes: number };
  ms: number;
}

/** Per-step logit bounds, each as a fraction of that step's max |reference logit|. */
export interface GridTolerance { dequantized: number; quantized: number; f16: number }

/**
 * (b) Hearth on the quantized file vs llama.cpp on the dequantized F32 file: both dequantize exactly, so
 * this is the F32 arch tests' bound (test/helpers/tiny-models.ts): 1e-4 (measured ≤ 1.7e-6 over the whole
 * grid), 1e-3 where llama.cpp's GELU rounds through f16 (gemma2, gemma3, gpt2; measured ≤ 4.7e-4).
 *
 * (c) Hearth vs llama.cpp on the quantized file itself. llama.cpp's CPU matmuls first convert the
 * activations to the weight type's vec_dot_type: f16 for F16, bf16 for BF16, blocks of 32 int8 with one
 * scale (q8_0/q8_1) for Q8_0…Q5_1, blocks of 256 (q8_K) for the K-quants; the weights themselves are
 * read exactly (check (b)). Hearth keeps activations f32, so the logits differ by what that rounding does
 * after two layers of a random model (random models are sensitive: real ones differ less). Measured max
 * over the 7 architectures (rel. to max |logit|) and the bound, 1.6–2× that (they move by ~30% when a
 * model's weights change, e.g. other rope factors):
 *
 *   type     measured  bound        type     measured  bound
 *   F16      1.2e-3    2.5e-3       Q5_1     3.1e-2    6e-2
 *   BF16     1.1e-2    2e-2         Q4_K     4.6e-2    8e-2
 *   Q8_0     3.7e-2    6e-2         Q5_K     4.6e-2    8e-2
 *   Q4_0     2.9e-2    6e-2         Q6_K     4.6e-2    8e-2
 *   Q4_1     2.9e-2    6e-2         Q4_K_M   3.8e-2    8e-2
 *   Q5_0     2.8e-2    6e-2
 *
 *   Q2_K     4.7e-2    8e-2         Q3_K_S   4.1e-2    8e-2
 *   Q3_K     4.0e-2    8e-2         Q3_K_M   4.0e-2    8e-2
 *   IQ4_NL   3.2e-2    6e-2         Q3_K_L   4.1e-2    8e-2
 *   IQ4_XS   5.1e-2    8e-2         Q2_K mix 5.0e-2    8e-2
 *                                   IQ4_XS mix 4.3e-2  8e-2
 *
 * (Q8_0's weights are the most precise, but its error here is the activations' 8-bit rounding, as for
 * every 32-block type, IQ4_NL's included; q8_K's 256-element blocks have a coarser scale, hence the larger
 * bound of the K-quants and IQ4_XS, whose vec_dot_type it is.)
 * These are loose bounds, not the proof of the kernels: (b) is. They catch a file llama.cpp reads
 * differently from Hearth (a wrong layout moves logits by O(1)).
 *
 * (d) Hearth's f16 arithmetic vs its f32 arithmetic on the same file: see F16_TOLERANCE.
 */
export function gridTolerance(arch: TinyArch, type: GridType): GridTolerance {
  const gelu = arch === 'gemma2' || arch === 'gemma3' || arch === 'gpt2';
  const quantized: Record<GridType, number> = {
    f32: 0, f16: 2.5e-3, bf16: 2e-2, q8_0: 6e-2, q4_0: 6e-2, q4_1: 6e-2, q5_0: 6e-2, q5_1: 6e-2,
    q4_k: 8e-2, q5_k: 8e-2, q6_k: 8e-2, q4_k_m: 8e-2,
    q2_k: 8e-2, q3_k: 8e-2, iq4_nl: 6e-2, iq4_xs: 8e-2, q3_k_s: 8e-2, q3_k_m: 8e-2, q3_k_l: 8e-2, q2_k_mix: 8e-2, iq4_xs_mix: 8e-2,
  };
  return { dequantized: gelu ? 1e-3 : 1e-4, quantized: quantized[type], f16: F16_TOLERANCE };
}

/**
 * (d) Hearth's f16 arithmetic (precision 'f16') against its f32 arithmetic on the same file and contexts:
 * measured 1.0e-3 … 5.5e-3 of max |logit| over the grid on lavapipe (largest for the types with a min
 * offset, Q4_K/Q5_K/Q4_1/Q5_1; GPT-2 smallest); bound 1e-2.
 */
export const F16_TOLERANCE = 1e-2;

/**
 * Writes the grid model of (arch, type) into `dir`; runs llama.cpp greedy for STEPS steps from the arch's
 * prompt on the dequantized F32 file, then llama.cpp on the quantized file and Hearth on it (f32 arithmetic,
 * and f16 where the device has shader-f16) fed the same tokens; returns the measurements.
 */
export async function runGridCase(gpu: AcquiredDevice, dir: string, g: GridArch, type: GridType, tol: GridTolerance): Promise<GridResult> {
  const t0 = performance.now();
  const model = gridModel(f32Spec(g), type);
  const qPath = join(dir, `${g.arch}-${type}.gguf`);
  const dPath = join(dir, `${g.arch}-${type}-dequantized-f32.gguf`);
  writeFileSync(qPath, model.quantized);
  if (type !== 'f32') writeFileSync(dPath, model.dequantized);

  const fOracle = await openOracle(type === 'f32' ? qPath : dPath);
  let promptIds: number[], ref: { ids: number[]; logits: Float32Array[] };
  try {
    promptIds = fOracle.tokenize(g.prompt, true);
    ref = await fOracle.greedy(promptIds, STEPS);
  } finally {
    await fOracle.close();
  }
  let quantizedRef: { ids: number[]; logits: Float32Array[] } | undefined;
  if (type !== 'f32') {
    const qOracle = await openOracle(qPath);
    try {
      quantizedRef = await qOracle.greedy(promptIds, STEPS, { forcedIds: ref.ids });
    } finally {
      await qOracle.close();
    }
  }

  const f32Run = await hearthLogits(gpu, qPath, promptIds, ref.ids, { precision: 'f32' });
  const f16Run = gpu.adapter.shaderF16 ? await hearthLogits(gpu, qPath, promptIds, ref.ids, { precision: 'f16' }) : undefined;

  const { dims, layers, kvHeads, heads, ctx } = shapeOf(g);
  // From the file's own tensor table (what llama.cpp and the loader read), not from src/model/memory.ts.
  const tensorTable = (await readGGUF(new MemorySource(model.quantized, qPath))).tensors;
  const tensorBytes = tensorTable.reduce((s, t) => s + t.byteLength, 0);
  const { alignedWeights } = chooseProfile(gpu.adapter); // the profile hearthLogits loads with
  const groupBytes = tensorTable.reduce((s, t) => {
    const dtype = weightDTypeForGGML(t.type);
    return dtype && t.dims.length === 2 && isAligned(gpuWeightDType(dtype, alignedWeights)) ? s + ALIGNED_GROUP * weightLayouts[dtype].blockBytes : s;
  }, 0);
  return {
    arch: g.arch, type, types: model.types, promptIds, oracleIds: ref.ids,
    dequantized: summarize(compareRun(ref.logits, ref.ids, f32Run.logits, tol.dequantized)),
    quantized: quantizedRef && summarize(compareRun(quantizedRef.logits, quantizedRef.ids, f32Run.logits, tol.quantized)),
    f16: f16Run && summarize(compareRun(f32Run.logits, f32Run.logits.map(argmax), f16Run.logits, tol.f16)),
    memory: { gpuBytes: f32Run.gpuBytes, tensorBytes, kvBytes: 2 * layers * Math.min(ctx, promptIds.length + STEPS) * kvHeads * (dims / heads) * 4, tensorCount: tensorTable.length, groupBytes },
    ms: performance.now() - t0,
  };
}

function shapeOf(g: GridArch) {
  const o = g.options;
  const heads = o.heads ?? 4;
  return { dims: o.dim ?? 256, layers: o.layers ?? 2, heads, kvHeads: o.kvHeads ?? (g.arch === 'gpt2' ? heads : 2), ctx: o.contextLength ?? 64 };
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** One line per case for the test's diagnostics. */
export function formatGridResult(r: GridResult): string {
  const run = (name: string, s?: RunSummary) => s ? `${name} rel ${s.maxRelDiff.toExponential(2)} (abs ${s.maxAbsDiff.toExponential(2)}, ${s.decided}/${s.steps.length} decided)` : `${name} -`;
  const m = r.memory;
  return `${r.arch} ${r.type} [${r.types}]: ${run('(b)', r.dequantized)}; ${run('(c)', r.quantized)}; ${run('(d)', r.f16)}; ` +
    `GPU ${m.gpuBytes} B = tensors ${m.tensorBytes} + KV ${m.kvBytes} + ${m.gpuBytes - m.tensorBytes - m.kvBytes}; ${r.ms.toFixed(0)} ms`;
}

/**
 * Runs one grid case and asserts it:
 *  (b) at every step Hearth's argmax is llama.cpp's greedy pick: Hearth was fed llama.cpp's picks, so by
 *      induction Hearth's own greedy decoding gives the same 32 ids; logits within the (b) bound.
 *  (c) logits within the type's (c) bound at every step, and the same argmax wherever llama.cpp's top-2
 *      margin exceeds twice the bound (elsewhere its quantized activations may legitimately flip the
 *      pick: it does at 0–5 of the 32 steps here).
 *  (d) the same for Hearth's f16 arithmetic against its f32 arithmetic.
 *  Memory: the GPU holds at least the file's tensor bytes plus the KV cache; the rest (activations,
 *      rope tables, readbacks) is returned for the caller to compare across types.
 */
export async function checkGridCase(gpu: AcquiredDevice, dir: string, g: GridArch, type: GridType): Promise<GridResult> {
  const r = await runGridCase(gpu, dir, g, type, gridTolerance(g.arch, type));
  const line = formatGridResult(r);
  const outside = (s: RunSummary) => s.steps.filter((x) => !(x.maxAbsDiff <= x.bound)).map((x) => x.step);
  assert.deepEqual(r.dequantized.steps.filter((x) => x.hearthToken !== x.oracleToken).map((x) => x.step), [], `(b) Hearth's greedy pick differs from llama.cpp's on the dequantized file at these steps: ${line}`);
  assert.deepEqual(outside(r.dequantized), [], `(b) logits outside the bound at these steps: ${line}`);
  if (type !== 'f32') {
    assert.ok(r.quantized, line);
    assert.deepEqual(outside(r.quantized), [], `(c) logits outside the bound against llama.cpp on the quantized file: ${line}`);
    assert.deepEqual(r.quantized.argmaxMismatches, [], `(c) argmax differs where llama.cpp's margin is clear: ${line}`);
  }
  if (r.f16) {
    assert.deepEqual(outside(r.f16), [], `(d) f16 arithmetic outside the bound of f32: ${line}`);
    assert.deepEqual(r.f16.argmaxMismatches, [], `(d) f16 arithmetic changes a clear argmax: ${line}`);
  }
  assert.ok(r.memory.gpuBytes >= r.memory.tensorBytes + r.memory.kvBytes, `GPU bytes below tensors + KV cache: ${line}`);
  return r;
}

/**
 * GPU bytes beyond the file's tensors and the KV cache (activations, rope tables, readbacks): the same for
 * every tensor type of one architecture, up to BufferPool's rounding of each buffer to 16 bytes (fused
 * tensors are split into up to 3 buffers) and the last group of 8 blocks of a matrix in an aligned layout
 * (held whole: src/gpu/aligned-weights.ts), i.e. weights are held at their stored size.
 */
export function memoryOverhead(r: GridResult): { bytes: number; slack: number } {
  const m = r.memory;
  return { bytes: m.gpuBytes - m.tensorBytes - m.kvBytes, slack: 3 * 16 * m.tensorCount + m.groupBytes };
}

/** The architectures of the grid, in the order gridTypesOf rotates over (llama gets Q4_K_M, the most common file). */
const GRID_ARCHS: readonly TinyArch[] = ['gemma2', 'llama', 'qwen3', 'phi3', 'qwen2', 'gemma3', 'gpt2'];

/**
 * The grid's types for one architecture: F32 (every architecture's memory baseline) and every third other type,
 * rotating with the architecture, so each type meets two or three architectures of different layouts and each
 * architecture about seven types. The weight kernels themselves are checked for every type against their CPU
 * twins (test/kernels); this grid checks the model around them, where a third of the cross product covers
 * every architecture and every type.
 */
export function gridTypesOf(arch: TinyArch): GridType[] {
  const i = GRID_ARCHS.indexOf(arch);
  return GRID_TYPES.filter((_, j) => j === 0 || (i + j) % 3 === 0);
}

/**
 * Registers one test per (architecture × grid type) of gridTypesOf for `archs` (a test file each, so they run
 * in files of moderate length): every check of checkGridCase, plus GPU bytes beyond tensors + KV cache that do
 * not depend on the weight type.
 */
export function defineGridTests(archs: TinyArch[]): void {
  let dir: string;
  let gpu: AcquiredDevice;
  before(async () => { dir = mkdtempSync(join(tmpdir(), 'hearth-quant-grid-')); gpu = await acquireDevice(); });
  after(async () => { rmSync(dir, { recursive: true, force: true }); gpu?.device.destroy(); await closeLlamaCpp(); });

  for (const arch of archs) {
    const g = gridArch(arch);
    let f32Overhead: number | undefined;
    for (const type of gridTypesOf(arch)) {
      test(`${arch} × ${type.toUpperCase()}: llama.cpp on the dequantized and the quantized file, f16 arithmetic, GPU memory`, async (t) => {
        const r = await checkGridCase(gpu, dir, g, type);
        t.diagnostic(formatGridResult(r));
        const { bytes, slack } = memoryOverhead(r);
        if (type === 'f32') f32Overhead = bytes;
        else if (f32Overhead !== undefined) {
          assert.ok(Math.abs(bytes - f32Overhead) <= slack, `GPU bytes beyond tensors + KV cache depend on the weight type: ${bytes} here, ${f32Overhead} for F32`);
        }
      });
    }
  }
}
