// Measures Hearth on one GGUF, the same code in Node (Dawn) and in a Chromium page (bench/browser/): load and
// pipeline-compile time, time to first token, prefill at each prompt length, greedy decode, dispatches and
// submits per decode step (counted on the device while a step records), GPU bytes, peak JS heap, and, where
// the device has 'timestamp-query', a per-kernel profile of one decode step. Speed targets live in the bench
// and the README, never in tests.
import type { AcquiredDevice } from '../src/gpu/device';
import { loadModel } from '../src/model/load';
import { openModel } from '../src/model/open';
import type { TransformerModel } from '../src/model/transformer';
import type { Dispatch } from '../src/model/dispatch';
import { run } from '../src/model/dispatch';
import type { Tokenizer } from '../src/tokenizer';

export interface HearthRunOptions {
  /** Prompt lengths (tokens, BOS included) whose prefill speed is measured; the first also gives the TTFT and precedes decode. */
  promptLengths: number[];
  decodeTokens: number;
  /** Repetitions of each prefill measurement (the best counts). */
  runs: number;
  contextLength: number;
  precision: 'auto' | 'f16' | 'f32' | 'q8';
  profile: boolean;
}

export interface KernelTime { kernel: string; dispatches: number; ms: number; share: number }

export interface HearthMetrics {
  adapter: string;
  precision: string;
  weightType: string;
  loadMs: number;
  compileMs: number;
  timeToFirstTokenMs: number;
  /** tokens/s by prompt length. */
  prefillTokensPerSecond: Record<string, number>;
  decodeTokensPerSecond: number;
  dispatchesPerToken: number;
  submitsPerToken: number;
  gpuBytes: number;
  /** Bytes of weights one decode step reads (every matrix but the token embedding, which is read one row at a time). */
  weightBytesPerToken: number;
  peakJsHeapBytes: number;
  /** Per-kernel GPU time of one decode step (timestamp queries, each dispatch in its own pass); null without 'timestamp-query'. */
  profile: { totalMs: number; kernels: KernelTime[] } | null;
  /** The same for one prefill pass of a full batch (model.batchSize tokens; embedding and layers, no head). */
  prefillProfile: { tokens: number; totalMs: number; kernels: KernelTime[] } | null;
}

/** Text of `length - 1` repeated words and its ids (BOS first): prompts of an exact length, the same text every peer gets. */
export function benchPrompt(tokenizer: Tokenizer, length: number, word = 'the'): { text: string; ids: number[] } {
  const text = Array.from({ length: length - 1 }, () => word).join(' ');
  const ids = tokenizer.encode(text, { addBos: true });
  if (ids.length !== length) throw new Error(`bench prompt: '${word}' × ${length - 1} is ${ids.length} tokens in this vocabulary, expected ${length}`);
  return { text, ids };
}

/** Keeps Dawn's GPU object alive while devices live (see src/gpu/device.ts). */
let nodeGPU: GPU | undefined;

export async function getGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!nodeGPU) {
    const moduleName = 'webgpu'; // hidden from bundlers
    const dawn = (await import(/* @vite-ignore */ moduleName)) as { create(flags: string[]): GPU; globals: object };
    Object.assign(globalThis, dawn.globals);
    nodeGPU = dawn.create([]);
  }
  return nodeGPU;
}

/** acquireDevice's device plus 'timestamp-query' where the adapter has it (only the bench asks for it). */
export async function acquireBenchDevice(): Promise<AcquiredDevice & { timestamps: boolean }> {
  const adapter = await (await getGPU()).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('No WebGPU adapter');
  const hasShaderF16 = adapter.features.has('shader-f16');
  const timestamps = adapter.features.has('timestamp-query');
  const requiredFeatures = [...(hasShaderF16 ? ['shader-f16'] : []), ...(timestamps ? ['timestamp-query'] : [])] as GPUFeatureName[];
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    label: 'hearth bench', requiredFeatures,
    requiredLimits: {
      maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage, maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    },
  });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  return {
    device, hasShaderF16, timestamps,
    adapterInfo: {
      vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', description: info?.description ?? '',
      isFallbackAdapter: (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? false,
    },
  };
}

/** Samples the JS heap (Node: process.memoryUsage; Chromium: performance.memory) until stopped; returns the peak. */
function heapSampler(): { sample(): void; stop(): number } {
  const used = (): number => {
    if (typeof process !== 'undefined' && process.memoryUsage) return process.memoryUsage().heapUsed;
    return (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
  };
  let peak = used();
  const sample = () => { peak = Math.max(peak, used()); };
  const timer = setInterval(sample, 20);
  return { sample, stop: () => { clearInterval(timer); sample(); return peak; } };
}

export async function measureHearth(gpu: AcquiredDevice & { timestamps: boolean }, source: string, o: HearthRunOptions): Promise<HearthMetrics> {
  const heap = heapSampler();
  // The header alone: which tensors a decode step reads.
  const opened = await openModel(source);
  const weightBytesPerToken = opened.file.tensors
    .filter((t) => t.name !== 'token_embd.weight' || !opened.file.tensorsByName.has('output.weight'))
    .reduce((s, t) => s + t.byteLength, 0);
  await opened.close();

  const t0 = performance.now();
  let compileStart = 0;
  let ready = 0;
  const loaded = await loadModel(gpu, source, {
    contextLength: o.contextLength, precision: o.precision,
    onProgress: (p) => { if (p.phase === 'compile' && !compileStart) compileStart = performance.now(); if (p.phase === 'ready') ready = performance.now(); },
  });
  const loadMs = performance.now() - t0;
  heap.sample();
  const { model, tokenizer, info } = loaded;
  try {
    const prompts = o.promptLengths.map((n, i) => benchPrompt(tokenizer, n, i % 2 ? 'and' : 'the'));
    const first = prompts[0]!.ids;

    // Time to first token: the first prompt through a freshly loaded model, first id read back. Decoding
    // goes on from there: greedy, one step per token (EOS does not stop it), the first step counted.
    let t = performance.now();
    model.prefill(first.slice(0, -1), 0);
    let token = await model.step(first.at(-1)!, first.length - 1, 'token');
    const timeToFirstTokenMs = performance.now() - t;
    let pos = first.length;
    const counts = await countStep(model, () => model.step(token, pos, 'token'));
    token = counts.result;
    pos++;
    t = performance.now();
    for (let i = 0; i < o.decodeTokens; i++) token = await model.step(token, pos++, 'token');
    const decodeTokensPerSecond = o.decodeTokens / ((performance.now() - t) / 1000);
    heap.sample();

    const prefillTokensPerSecond: Record<string, number> = {};
    for (const p of prompts) {
      let best = 0;
      for (let r = 0; r < o.runs; r++) {
        t = performance.now();
        model.prefill(p.ids, 0);
        await model.whenIdle();
        best = Math.max(best, p.ids.length / ((performance.now() - t) / 1000));
        heap.sample();
      }
      prefillTokensPerSecond[p.ids.length] = round(best);
    }

    const profile = o.profile && gpu.timestamps ? await profilePass(model, 1) : null;
    const prefillProfile = o.profile && gpu.timestamps && model.batchSize > 1 ? { tokens: model.batchSize, ...await profilePass(model, model.batchSize) } : null;
    return {
      adapter: info.adapter, precision: info.precision, weightType: info.weightType,
      loadMs: round(loadMs), compileMs: round(ready - compileStart), timeToFirstTokenMs: round(timeToFirstTokenMs),
      prefillTokensPerSecond, decodeTokensPerSecond: round(decodeTokensPerSecond),
      dispatchesPerToken: counts.dispatches, submitsPerToken: counts.submits,
      gpuBytes: info.gpuBytes, weightBytesPerToken, peakJsHeapBytes: heap.stop(), profile, prefillProfile,
    };
  } finally {
    heap.stop();
    loaded.destroy();
  }
}

/** Runs `f` (one decode step) while counting the compute dispatches it records and the submits it makes. */
async function countStep<T>(model: TransformerModel, f: () => Promise<T>): Promise<{ result: T; dispatches: number; submits: number }> {
  const { device } = model;
  const { queue } = device;
  let dispatches = 0;
  let submits = 0;
  const createEncoder = device.createCommandEncoder;
  const submit = queue.submit;
  device.createCommandEncoder = (descriptor?: GPUCommandEncoderDescriptor) => {
    const encoder = createEncoder.call(device, descriptor);
    const begin = encoder.beginComputePass;
    encoder.beginComputePass = (d?: GPUComputePassDescriptor) => {
      const pass = begin.call(encoder, d);
      const dispatch = pass.dispatchWorkgroups;
      pass.dispatchWorkgroups = (x: number, y?: number, z?: number) => { dispatches++; dispatch.call(pass, x, y, z); };
      return pass;
    };
    return encoder;
  };
  queue.submit = (buffers: Iterable<GPUCommandBuffer>) => { submits++; submit.call(queue, buffers); };
  try {
    return { result: await f(), dispatches, submits };
  } finally {
    device.createCommandEncoder = createEncoder;
    queue.submit = submit;
  }
}

/**
 * GPU time per kernel of one pass over `tokens` tokens: 1, a decode step (embedding, layers, head, argmax), or
 * more, a prefill batch (embedding and layers; batched dispatches where the kernel has them). The dispatches are
 * replayed in order, each in its own compute pass with timestamps at its start and end (the KV-cache copies
 * between passes are left out). Kernels are grouped by pipeline label (e.g. `matvec[q4_0 768x2048]`), best of
 * three replays.
 */
async function profilePass(model: TransformerModel, tokens: number): Promise<{ totalMs: number; kernels: KernelTime[] }> {
  // The model's prebuilt program, read through TypeScript's bracket escape: the bench only looks, never changes it.
  const layers = model['layers'];
  const program: Dispatch[] = [...model['embed'], ...layers.flatMap((l) => [...l.beforeCache, ...l.afterCache]), ...(tokens === 1 ? [...model['head'], model['argmax']] : [])];
  const { device } = model;
  const n = program.length;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * n });
  const resolve = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const best = new Float64Array(n).fill(Infinity);
  try {
    for (let rep = 0; rep < 3; rep++) {
      const encoder = device.createCommandEncoder({ label: 'profile' });
      program.forEach((d, i) => {
        const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        run(pass, d, tokens);
        pass.end();
      });
      encoder.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, readback, 0, 16 * n);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const ns = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      for (let i = 0; i < n; i++) best[i] = Math.min(best[i]!, Number(ns[2 * i + 1]! - ns[2 * i]!) / 1e6);
    }
  } finally {
    querySet.destroy(); resolve.destroy(); readback.destroy();
  }
  const byKernel = new Map<string, { dispatches: number; ms: number }>();
  program.forEach((d, i) => {
    const label = (tokens > 1 && d.batched ? d.batched : d).pipeline.label;
    const k = byKernel.get(label) ?? { dispatches: 0, ms: 0 };
    k.dispatches++;
    k.ms += best[i]!;
    byKernel.set(label, k);
  });
  const totalMs = best.reduce((a, b) => a + b, 0);
  const kernels = [...byKernel].map(([kernel, k]) => ({ kernel, dispatches: k.dispatches, ms: round(k.ms, 3), share: round(k.ms / totalMs, 3) }))
    .sort((a, b) => b.ms - a.ms);
  return { totalMs: round(totalMs, 3), kernels };
}

/**
 * The adapter's read bandwidth through the shader path: a plain kernel summing `bytes` of vec4<f32> (bound in
 * chunks of at most the binding limit), each thread one contiguous run of them, as a matvec thread walks its
 * rows; best of `reps` timed submits, in bytes/s. Not copyBufferToBuffer, which bypasses the shader path. On
 * SwiftShader contiguous runs read about 3× faster than a grid-stride loop (2.9 against 0.9 GB/s here), so this
 * is the faster, and the honest, ceiling for rooflineFraction.
 */
export async function measureReadBandwidth(device: GPUDevice, bytes = 256 << 20, reps = 5): Promise<number> {
  const limit = device.limits.maxStorageBufferBindingSize;
  const chunk = Math.min(bytes, limit - (limit % 256));
  const groups = 1024;
  const threads = groups * 64;
  const src = device.createBuffer({ label: 'bandwidth source', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const part = device.createBuffer({ label: 'bandwidth partial sums', size: threads * 16, usage: GPUBufferUsage.STORAGE });
  try {
    const ones = new Float32Array(4 << 20).fill(1);
    for (let off = 0; off < bytes; off += ones.byteLength) device.queue.writeBuffer(src, off, ones, 0, Math.min(ones.length, (bytes - off) / 4));
    const module = device.createShaderModule({
      label: 'read bandwidth',
      code: `@group(0) @binding(0) var<storage, read> s: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> part: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  var acc = vec4f(0.0);
  let span = arrayLength(&s) / ${threads}u; // vec4s per thread (the tail of a chunk, under ${threads}, is left out)
  let first = g.x * span;
  for (var i = first; i < first + span; i++) { acc += s[i]; }
  part[g.x] = part[g.x] + acc;
}`,
    });
    const pipeline = await device.createComputePipelineAsync({ label: 'read bandwidth', layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bindGroups: GPUBindGroup[] = [];
    for (let off = 0; off < bytes; off += chunk) {
      bindGroups.push(device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: src, offset: off, size: Math.min(chunk, bytes - off) } }, { binding: 1, resource: { buffer: part } }],
      }));
    }
    const once = async () => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      for (const bg of bindGroups) { pass.setBindGroup(0, bg); pass.dispatchWorkgroups(groups); }
      pass.end();
      const t = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t;
    };
    await once(); // warm-up
    let best = Infinity;
    for (let r = 0; r < reps; r++) best = Math.min(best, await once());
    return bytes / (best / 1000);
  } finally {
    src.destroy(); part.destroy();
  }
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
