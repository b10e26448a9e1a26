// Measures Hearth on one GGUF, the same code in Node (Dawn) and in a Chromium page (bench/browser/): load and
// pipeline-compile time, time to first token, prefill at each prompt length, greedy decode, dispatches and
// submits per decode step (counted on the device while a step records), GPU bytes, peak JS heap, and, where
// the device has 'timestamp-query', a per-kernel profile of one decode step. Speed targets live in the bench
// and the README, never in tests.
import type { BenchDevice } from './adapter';
import { loadModel } from '../src/model/load';
import type { ProfileOption } from '../src/gpu/profile';
import { openModel } from '../src/model/open';
import type { TransformerModel } from '../src/model/transformer';
import type { Dispatch } from '../src/model/dispatch';
import { run } from '../src/model/dispatch';
import type { Tokenizer } from '../src/tokenizer';

export { acquireBenchDevice, measureReadBandwidth } from './adapter';

export interface HearthRunOptions {
  /**
   * Prompt lengths (tokens, BOS included) whose prefill speed and time to first token are measured; the first
   * also gives the cold TTFT and precedes decode.
   */
  promptLengths: number[];
  decodeTokens: number;
  /** Repetitions of each prefill measurement (the best counts). */
  runs: number;
  contextLength: number;
  precision: 'auto' | 'f16' | 'f32' | 'q8';
  profile: boolean;
  /** Kernel choices overridden on the adapter's profile (loadModel's `profile` option), e.g. { laneSteps: 1 }. */
  kernels?: Exclude<ProfileOption, string>;
  /**
   * Further positions to measure decode after, e.g. [1024, 8192]: a prompt of that length is prefilled (never
   * decoded up to it), then `decodeTokens` steps are timed; attention grows with the cache. The context must hold
   * at + decodeTokens positions.
   */
  decodeAt?: number[];
}

export interface KernelTime { kernel: string; dispatches: number; ms: number; share: number }

export interface HearthMetrics {
  adapter: string;
  precision: string;
  weightType: string;
  loadMs: number;
  compileMs: number;
  /** The first prompt through the freshly loaded model, first id read back (pipelines' first use included). */
  timeToFirstTokenMs: number;
  /**
   * By prompt length: the prompt but its last token prefilled, then the step that reads the first id back, on the
   * warm model (as a chat's second message meets it).
   */
  timeToFirstTokenMsByLength: Record<string, number>;
  /** tokens/s by prompt length. */
  prefillTokensPerSecond: Record<string, number>;
  /** After the first prompt (its length: promptLengths[0]). */
  decodeTokensPerSecond: number;
  /** Decode tokens/s by the position it starts at: the first prompt's length and each of decodeAt. */
  decodeTokensPerSecondByPosition: Record<string, number>;
  dispatchesPerToken: number;
  submitsPerToken: number;
  /**
   * Times a decode step waits on the host for the GPU's newest work (a mapAsync of what the last submit copied
   * into, onSubmittedWorkDone), leaving the GPU idle until the host submits again. 0: decode is pipelined (step
   * N + 1 is submitted before step N's id is read).
   */
  hostWaitsPerToken: number;
  gpuBytes: number;
  /** Of gpuBytes, the KV cache's buffers (every layer's K and V for the loaded context length). */
  kvCacheBytes: number;
  contextLength: number;
  /** Bytes of weights one decode step reads (every matrix but the token embedding, which is read one row at a time). */
  weightBytesPerToken: number;
  peakJsHeapBytes: number;
  /** Per-kernel GPU time of one decode step (timestamp queries, each dispatch in its own pass); null without 'timestamp-query'. */
  profile: { totalMs: number; kernels: KernelTime[] } | null;
  /** Why there is no profile (null when there is one). */
  profileSkipped: string | null;
  /** The same for one prefill pass of a full batch (model.batchSize tokens; embedding and layers, no head). */
  prefillProfile: { tokens: number; totalMs: number; kernels: KernelTime[] } | null;
}

/**
 * The context a run needs: the longest prompt or decode position plus its decode steps (and the two steps the
 * first prompt's dispatch count takes), e.g. 8322 positions to decode 128 tokens at 8192.
 */
export function contextFor(o: Pick<HearthRunOptions, 'promptLengths' | 'decodeAt' | 'decodeTokens'>, atLeast = 0): number {
  return Math.max(atLeast, ...[...o.promptLengths, ...o.decodeAt ?? []].map((n) => n + o.decodeTokens + 2));
}

/** Text of `length - 1` repeated words and its ids (BOS first): prompts of an exact length, the same text every peer gets. */
export function benchPrompt(tokenizer: Tokenizer, length: number, word = 'the'): { text: string; ids: number[] } {
  const text = Array.from({ length: length - 1 }, () => word).join(' ');
  const ids = tokenizer.encode(text, { addBos: true });
  if (ids.length !== length) throw new Error(`bench prompt: '${word}' × ${length - 1} is ${ids.length} tokens in this vocabulary, expected ${length}`);
  return { text, ids };
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

export async function measureHearth(gpu: BenchDevice, source: string, o: HearthRunOptions): Promise<HearthMetrics> {
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
    contextLength: o.contextLength, precision: o.precision, profile: o.kernels,
    onProgress: (p) => { if (p.phase === 'compile' && !compileStart) compileStart = performance.now(); if (p.phase === 'ready') ready = performance.now(); },
  });
  const loadMs = performance.now() - t0;
  heap.sample();
  const { model, tokenizer, info } = loaded;
  try {
    const prompts = o.promptLengths.map((n, i) => benchPrompt(tokenizer, n, i % 2 ? 'and' : 'the'));
    const first = prompts[0]!.ids;

    // Time to first token: the first prompt through a freshly loaded model, first id read back. Decoding
    // goes on from there: greedy and pipelined as Session's decode loop runs it (EOS does not stop it), one
    // step of its steady state counted: step N + 1 submitted, then step N's id read.
    const t = performance.now();
    model.prefill(first.slice(0, -1), 0);
    let token = await model.step(first.at(-1)!, first.length - 1, 'token');
    const timeToFirstTokenMs = performance.now() - t;
    let pos = first.length;
    let pending = model.submitStep(token, pos);
    const counts = await countStep(model, async () => {
      const ahead = model.submitStep('previous', pos + 1);
      const id = await pending.read();
      pending = ahead;
      return id;
    });
    token = await pending.read();
    pos += 2;
    const decode = async (from: number, start: number) => {
      const t0 = performance.now();
      await greedyDecode(model, start, from, o.decodeTokens);
      return round(o.decodeTokens / ((performance.now() - t0) / 1000));
    };
    const decodeTokensPerSecond = await decode(pos, token);
    const decodeTokensPerSecondByPosition: Record<string, number> = { [first.length]: decodeTokensPerSecond };
    for (const at of o.decodeAt ?? []) {
      if (at + o.decodeTokens > info.contextLength) throw new Error(`decode after ${at} positions needs a context of ${at + o.decodeTokens}, the bench loads ${info.contextLength}`);
      const ids = benchPrompt(tokenizer, at).ids;
      model.prefill(ids.slice(0, -1), 0);
      const next = await model.step(ids.at(-1)!, at - 1, 'token');
      decodeTokensPerSecondByPosition[at] = await decode(at, next);
    }
    heap.sample();

    const { prefillTokensPerSecond, timeToFirstTokenMsByLength } = await measurePrompts(model, prompts.map((p) => p.ids), o.runs, heap.sample);

    const profileSkipped = !o.profile ? '--no-profile' : gpu.timestamps ? null : "the adapter has no 'timestamp-query'";
    const profile = profileSkipped ? null : await profilePass(model, 1);
    const prefillProfile = o.profile && gpu.timestamps && model.batchSize > 1 ? { tokens: model.batchSize, ...await profilePass(model, model.batchSize) } : null;
    return {
      adapter: info.adapter, precision: info.precision, weightType: info.weightType,
      loadMs: round(loadMs), compileMs: round(ready - compileStart), timeToFirstTokenMs: round(timeToFirstTokenMs), timeToFirstTokenMsByLength,
      prefillTokensPerSecond, decodeTokensPerSecond, decodeTokensPerSecondByPosition,
      dispatchesPerToken: counts.dispatches, submitsPerToken: counts.submits, hostWaitsPerToken: counts.hostWaits,
      gpuBytes: info.gpuBytes, kvCacheBytes: kvCacheBytes(model), contextLength: info.contextLength, weightBytesPerToken, peakJsHeapBytes: heap.stop(), profile, profileSkipped, prefillProfile,
    };
  } finally {
    heap.stop();
    loaded.destroy();
  }
}

/**
 * Per prompt: prefill tokens/s (the whole prompt, best of `runs`), then the time to first token (the prompt but
 * its last token prefilled, then the step that reads the first id back).
 */
async function measurePrompts(model: TransformerModel, prompts: number[][], runs: number, sample: () => void): Promise<Pick<HearthMetrics, 'prefillTokensPerSecond' | 'timeToFirstTokenMsByLength'>> {
  const prefillTokensPerSecond: Record<string, number> = {};
  const timeToFirstTokenMsByLength: Record<string, number> = {};
  for (const ids of prompts) {
    let best = 0;
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      model.prefill(ids, 0);
      await model.whenIdle();
      best = Math.max(best, ids.length / ((performance.now() - t) / 1000));
      sample();
    }
    prefillTokensPerSecond[ids.length] = round(best);
    const t = performance.now();
    model.prefill(ids.slice(0, -1), 0);
    await model.step(ids.at(-1)!, ids.length - 1, 'token');
    timeToFirstTokenMsByLength[ids.length] = round(performance.now() - t);
  }
  return { prefillTokensPerSecond, timeToFirstTokenMsByLength };
}

/** Bytes of the loaded model's KV cache buffers (read through TypeScript's bracket escape, as profilePass does). */
function kvCacheBytes(model: TransformerModel): number {
  const buffers = new Set(model['layers'].flatMap((l) => [l.kCache, l.vCache]));
  return [...buffers].reduce((s, b) => s + b.size, 0);
}

/**
 * Greedy decode of `n` tokens from `token` at `pos`, pipelined like Session's decode loop: each step is
 * submitted before the id of the one before is read. Returns the last id.
 */
async function greedyDecode(model: TransformerModel, token: number, pos: number, n: number): Promise<number> {
  let pending = model.submitStep(token, pos);
  for (let i = 1; ; i++) {
    const ahead = i < n ? model.submitStep('previous', pos + i) : null;
    const id = await pending.read();
    if (!ahead) return id;
    pending = ahead;
  }
}

/**
 * Runs `f` (one decode step) while counting the compute dispatches it records, the submits it makes and its host
 * waits: onSubmittedWorkDone, or a mapAsync of a buffer the newest submit copied into (nothing queued behind it).
 */
export async function countStep<T>(model: TransformerModel, f: () => Promise<T>): Promise<{ result: T; dispatches: number; submits: number; hostWaits: number }> {
  const { device } = model;
  const { queue } = device;
  let dispatches = 0;
  let submits = 0;
  let hostWaits = 0;
  const bufferProto = (globalThis as unknown as { GPUBuffer: { prototype: GPUBuffer } }).GPUBuffer.prototype;
  const mapAsync = bufferProto.mapAsync;
  const workDone = queue.onSubmittedWorkDone;
  // Copy destinations of the encoders recorded, and of the newest submit.
  const copiedInto = new Map<GPUCommandBuffer | GPUCommandEncoder, Set<GPUBuffer>>();
  let newest = new Set<GPUBuffer>();
  bufferProto.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) { if (newest.has(this)) hostWaits++; return mapAsync.apply(this, args); };
  queue.onSubmittedWorkDone = () => { hostWaits++; return workDone.call(queue); };
  const createEncoder = device.createCommandEncoder;
  const submit = queue.submit;
  device.createCommandEncoder = (descriptor?: GPUCommandEncoderDescriptor) => {
    const encoder = createEncoder.call(device, descriptor);
    const targets = new Set<GPUBuffer>();
    copiedInto.set(encoder, targets);
    const copy = encoder.copyBufferToBuffer;
    encoder.copyBufferToBuffer = (...args: unknown[]) => { targets.add((typeof args[1] === 'number' ? args[2] : args[1]) as GPUBuffer); (copy as (...a: unknown[]) => void).apply(encoder, args); };
    const finish = encoder.finish;
    encoder.finish = (d?: GPUCommandBufferDescriptor) => { const commands = finish.call(encoder, d); copiedInto.set(commands, targets); return commands; };
    const begin = encoder.beginComputePass;
    encoder.beginComputePass = (d?: GPUComputePassDescriptor) => {
      const pass = begin.call(encoder, d);
      const dispatch = pass.dispatchWorkgroups;
      pass.dispatchWorkgroups = (x: number, y?: number, z?: number) => { dispatches++; dispatch.call(pass, x, y, z); };
      return pass;
    };
    return encoder;
  };
  queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    submits++;
    const list = [...buffers];
    newest = new Set(list.flatMap((b) => [...copiedInto.get(b) ?? []]));
    submit.call(queue, list);
  };
  try {
    return { result: await f(), dispatches, submits, hostWaits };
  } finally {
    device.createCommandEncoder = createEncoder;
    queue.submit = submit;
    bufferProto.mapAsync = mapAsync;
    queue.onSubmittedWorkDone = workDone;
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
  const program: Dispatch[] = [...model['embed'], ...layers.flatMap((l) => l.dispatches), ...(tokens === 1 ? [...model['head'], ...model['argmax']] : [])];
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

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
