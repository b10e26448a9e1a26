// Running one kernel dispatch on real buffers and comparing the result with its CPU twin.
// Environment-agnostic (Node, page, Worker): no node-only imports here.
import { KernelCache, workgroups, type KernelOptions } from '../../src/gpu/kernels';
import type { KernelName, KvCacheType } from '../../src/gpu/shaders';

export interface KernelCaseResult {
  name: string;
  /** max |gpu − cpu| over all elements. */
  maxAbsErr: number;
  /** max |gpu − cpu| / max(|cpu|, atol): relative error, with near-zero references measured against atol. */
  maxRelErr: number;
  atol: number;
  rtol: number;
  /** Every element satisfies |gpu − cpu| ≤ atol + rtol·|cpu| (numpy's allclose), and the kernel ran. */
  ok: boolean;
  /** The worst element, or the error that stopped the case. */
  detail: string;
  /** Why the case did not run on this device (a missing feature); `ok` is then false, never a silent pass. */
  skipped?: string;
  /** Wall time of the whole case (inputs, compile, run, reference), for finding slow cases. */
  ms?: number;
}

export interface Tolerance { atol: number; rtol: number }
export const EXACT: Tolerance = { atol: 0, rtol: 0 };

/** A zero-filled or initialised storage buffer; sizes round up to 16 bytes (bindings need multiples of 4). */
export function storage(device: GPUDevice, init: ArrayBufferView | number, label = 'test'): GPUBuffer {
  const byteLength = typeof init === 'number' ? init : init.byteLength;
  const buffer = device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  if (typeof init !== 'number') device.queue.writeBuffer(buffer, 0, init.buffer, init.byteOffset, init.byteLength);
  return buffer;
}

/** A 16-byte uniform buffer holding up to four u32 words (Step { pos }, random's { seed, offset }). */
export function uniformWords(device: GPUDevice, words: number[], label = 'uniform'): GPUBuffer {
  const buffer = device.createBuffer({ label, size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, new Uint32Array([...words, 0, 0, 0, 0].slice(0, 4)));
  return buffer;
}

/**
 * The bindings of a float product (matvec, matmul): weights, x, out, and the fused norm's weight (binding 3, in
 * their layout whether or not NORM is set: without a norm it is bound to x, as the model does), then main_qkv's
 * out_k and out_v.
 */
export function productBindings(w: GPUBuffer, x: GPUBuffer, out: GPUBuffer, norm?: GPUBuffer, kv: GPUBuffer[] = []): GPUBuffer[] {
  return [w, x, out, norm ?? x, ...kv];
}

/**
 * Compiles (through the cache), binds `bindings` to @binding(0..) (null: a binding number the kernel lacks), dispatches `groups` workgroups, and
 * reads `output` back. Validation errors are captured and thrown instead of silently yielding zeros.
 */
export async function runKernel(
  device: GPUDevice,
  cache: KernelCache,
  name: KernelName,
  opts: KernelOptions,
  bindings: (GPUBuffer | null)[],
  /** Workgroups: x, or [x, y] for kernels over a batch of tokens (y = token). */
  groups: number | readonly [number, number],
  output: GPUBuffer,
  outputBytes: number,
): Promise<ArrayBuffer> {
  const pipeline = await cache.get(name, opts);
  device.pushErrorScope('validation');
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: bindings.flatMap((buffer, binding) => (buffer ? [{ binding, resource: { buffer } }] : [])),
  });
  const readback = device.createBuffer({ size: output.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  if (typeof groups === 'number') pass.dispatchWorkgroups(groups);
  else pass.dispatchWorkgroups(groups[0], groups[1]);
  pass.end();
  encoder.copyBufferToBuffer(output, 0, readback, 0, output.size);
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error running ${pipeline.label}: ${error.message}`);
  await readback.mapAsync(GPUMapMode.READ);
  const bytes = readback.getMappedRange().slice(0, outputBytes);
  readback.unmap();
  readback.destroy();
  for (const b of bindings) b?.destroy();
  return bytes;
}

/**
 * attention.wgsl over `tokens` tokens (`inputs`: step, q, k cache, v cache, and the scores scratch, which must hold
 * `pairs ? tokens rounded up to even : tokens` rows; `constants` as the model sets them): one workgroup per (head,
 * token), or with `pairs` per (head, pair of tokens) as prefill runs it (the last pair of an odd batch has a
 * phantom second token, as in the model, whose rows exist but are not compared); with `chunk`, split-K as the
 * model runs long contexts: ceil(CTX / chunk) partials per (head, token), read back, then merged by
 * attention-combine.wgsl. Returns the output [tokens, heads, headDim] f32.
 */
export async function runAttention(device: GPUDevice, cache: KernelCache, constants: Record<string, number>, inputs: GPUBuffer[], tokens: number, chunk?: number, pairs = false,
  kvCache?: KvCacheType): Promise<ArrayBuffer> {
  const heads = constants.N_HEADS!, headDim = constants.HEAD_DIM!;
  const perGroup = pairs ? 2 : 1;
  const rows = Math.ceil(tokens / perGroup) * perGroup; // phantom rows are written too: they must exist
  const outBytes = 4 * tokens * heads * headDim;
  const out = storage(device, 4 * rows * heads * headDim, 'attention out');
  const grid = (x: number) => [x, rows / perGroup] as const;
  const kernel = { ...constants, TOKENS: perGroup };
  if (chunk === undefined) return runKernel(device, cache, 'attention', { constants: kernel, kvCache }, [...inputs, out], grid(heads), out, outBytes);
  const splits = Math.ceil(constants.CTX! / chunk);
  const partialBytes = 4 * tokens * heads * splits * (headDim + 4);
  const partials = storage(device, 4 * rows * heads * splits * (headDim + 4), 'attention partials');
  const partialWords = await runKernel(device, cache, 'attention', { constants: { ...kernel, SPLITS: splits, CHUNK: chunk }, kvCache },
    [...inputs, partials], grid(heads * splits), partials, partialBytes);
  return runKernel(device, cache, 'attention-combine', { constants: { N_HEADS: heads, HEAD_DIM: headDim, SPLITS: splits } },
    [storage(device, new Uint8Array(partialWords), 'attention partials'), out], [workgroups((heads * headDim) / 4), tokens], out, outBytes);
}

/** Compares got with want element by element under atol + rtol·|want|. */
export function compare(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): KernelCaseResult {
  let maxAbsErr = 0;
  let maxRelErr = 0;
  let ok = got.length === want.length;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const err = Math.abs(g - w);
    const bad = !(err <= tol.atol + tol.rtol * Math.abs(w)); // also catches NaN
    if (bad) ok = false;
    maxAbsErr = Math.max(maxAbsErr, err); // Math.max keeps a NaN
    maxRelErr = Math.max(maxRelErr, err / Math.max(Math.abs(w), tol.atol, Number.MIN_VALUE));
    const excess = Number.isNaN(err) ? Infinity : err - (tol.atol + tol.rtol * Math.abs(w));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  const detail = got.length !== want.length
    ? `length ${got.length}, expected ${want.length}`
    : worst < 0 ? 'empty' : `worst at [${worst}]: gpu ${got[worst]} vs cpu ${want[worst]}`;
  return { name, maxAbsErr, maxRelErr, atol: tol.atol, rtol: tol.rtol, ok, detail };
}

/** A case that does not apply to this device (it lacks a feature the case needs): reported, not passed. */
export function notApplicable(name: string, reason: string, tol: Tolerance): KernelCaseResult {
  return { name, maxAbsErr: NaN, maxRelErr: NaN, atol: tol.atol, rtol: tol.rtol, ok: false, detail: reason, skipped: reason };
}

/** A case that could not run at all (compile or validation error). */
export function failed(name: string, error: unknown, tol: Tolerance): KernelCaseResult {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { name, maxAbsErr: NaN, maxRelErr: NaN, atol: tol.atol, rtol: tol.rtol, ok: false, detail: message };
}
