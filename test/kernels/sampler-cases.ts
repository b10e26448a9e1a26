// The GPU sampler's kernels against their CPU twins (test/reference/sampler.ts), each processor on its own and
// combined, on fixed random logits: logit-process (mask, bias, penalties, temperature) within one f32 rounding;
// sample's kept set exactly and its draw equal to the CPU's (a pick may differ only when r lies within 1e-5 of
// the boundary between two tokens, which these inputs never hit); logprobs within 1e-5.
import type { KernelCache } from '../../src/gpu/kernels';
import { reductionParts, workgroups } from '../../src/gpu/kernels';
import { IN_PROMPT, samplingUniform } from '../../src/sampler/gpu-sampler';
import { normalizeRequest, type RequestOptions } from '../../src/engine/options';
import { decodeUniform, logprobsRef, processLogitsRef, sampleRef } from '../reference/sampler';
import { randomFloats, randomInt, type Rng } from '../helpers/seeded';
import { storage, type Tolerance } from './harness';

interface Case {
  name: string;
  tol: Tolerance;
  run(device: GPUDevice, cache: KernelCache, rng: Rng): Promise<{ got: ArrayLike<number>; want: ArrayLike<number> }>;
}

function uniform(device: GPUDevice, data: ArrayBuffer): GPUBuffer {
  const buffer = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** Runs `dispatches` (pipeline, buffers, groups) in one pass and reads back `outputs`. */
async function dispatch(device: GPUDevice, steps: { pipeline: GPUComputePipeline; buffers: (GPUBuffer | null)[]; groups: number }[], outputs: GPUBuffer[]): Promise<ArrayBuffer[]> {
  device.pushErrorScope('validation');
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const s of steps) {
    pass.setPipeline(s.pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: s.pipeline.getBindGroupLayout(0), entries: s.buffers.flatMap((buffer, binding) => (buffer ? [{ binding, resource: { buffer } }] : [])) }));
    pass.dispatchWorkgroups(s.groups);
  }
  pass.end();
  const readbacks = outputs.map((o) => {
    const rb = device.createBuffer({ size: o.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(o, 0, rb, 0, o.size);
    return rb;
  });
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  return Promise.all(readbacks.map(async (rb) => {
    await rb.mapAsync(GPUMapMode.READ);
    const bytes = rb.getMappedRange().slice(0);
    rb.unmap();
    rb.destroy();
    return bytes;
  }));
}

interface Inputs { logits: Float32Array; bias: Float32Array; history: Uint32Array; mask: Uint32Array; params: ArrayBuffer }

function inputs(rng: Rng, n: number, options: RequestOptions, opts: { masked?: boolean; prompt?: number[]; outputCounts?: number; spread?: number } = {}): Inputs {
  const logits = randomFloats(rng, n, -(opts.spread ?? 8), opts.spread ?? 8);
  const request = normalizeRequest(options, n);
  const bias = new Float32Array(n);
  for (const [id, v] of request.sampling.logitBias) bias[id] = v;
  const history = new Uint32Array(n);
  for (const id of opts.prompt ?? []) history[id] = IN_PROMPT;
  for (let j = 0; j < (opts.outputCounts ?? 0); j++) history[randomInt(rng, n)]! += 1;
  const mask = new Uint32Array(Math.ceil(n / 32));
  for (let i = 0; i < n; i++) if (!opts.masked || rng() < 0.3) mask[i >>> 5]! |= 1 << (i & 31);
  return { logits, bias, history, mask, params: samplingUniform(request, opts.masked ?? false) };
}

function logitProcessCase(name: string, n: number, options: RequestOptions, opts: Parameters<typeof inputs>[3] = {}): Case {
  return {
    name: `logit-process ${name} N=${n}`,
    tol: { atol: 1e-6, rtol: 2e-7 }, // one rounding of a division (WGSL's / is not always correctly rounded)
    async run(device, cache, rng) {
      const x = inputs(rng, n, options, opts);
      const scores = storage(device, 4 * n);
      const pipeline = await cache.get('logit-process', { constants: { N: n } });
      const [out] = await dispatch(device, [{ pipeline, groups: workgroups(n), buffers: [uniform(device, x.params), storage(device, x.logits), storage(device, x.bias), storage(device, x.history), storage(device, x.mask), scores] }], [scores]);
      return { got: new Float32Array(out!).subarray(0, n), want: processLogitsRef(x.logits, decodeUniform(x.params), x.bias, x.history, x.mask) };
    },
  };
}

/** How a case draws: sample.wgsl in one workgroup, or sample-wide.wgsl's passes (no top-p; top-k's passes when it has top-k). */
type DrawForm = 'single' | 'wide';

/** The draw's dispatches after logit-process: sample (one workgroup), or sample-wide's passes over `parts` and `hist`, as GpuSampler runs them. */
async function drawSteps(cache: KernelCache, form: DrawForm, n: number, topK: boolean, b: GPUBuffer[], parts: GPUBuffer, hist: GPUBuffer) {
  if (form === 'single') return [{ pipeline: await cache.get('sample', { constants: { N: n } }), groups: 1, buffers: b }];
  const PARTS = reductionParts(n);
  const pass = async (entryPoint: string, groups: number, buffers: (GPUBuffer | null)[], round?: number) =>
    ({ pipeline: await cache.get('sample-wide', { constants: { N: n, PARTS, ...(round === undefined ? {} : { ROUND: round }) }, entryPoint }), groups, buffers });
  const [params, scores] = b as [GPUBuffer, GPUBuffer];
  const _ = null;
  const topKPasses = topK ? [
    ...await Promise.all([0, 1, 2, 3].map((round) => pass('khist', PARTS, [params, scores, _, _, _, _, _, hist], round))),
    await pass('kties', PARTS, [params, scores, _, _, _, _, parts, hist]),
    await pass('kcut', 1, [params, scores, _, _, _, _, parts, hist]),
  ] : [];
  return [
    await pass('slice_max', PARTS, [_, scores, _, _, _, _, parts, hist]),
    ...topKPasses,
    await pass('slice_mass', PARTS, [params, scores, _, _, _, _, parts]),
    await pass('draw', 1, [...b, parts]),
  ];
}

/**
 * logit-process then sample (or sample-wide), `draws` times in a row (the counter and the history advance on the
 * GPU). Compares per draw: chosen id, kept count, and (scaled) r and kept mass within 1e-5.
 */
function sampleCase(name: string, n: number, options: RequestOptions, opts: Parameters<typeof inputs>[3] & { draws?: number; tie?: (l: Float32Array) => void; form?: DrawForm } = {}): Case {
  const draws = opts.draws ?? 3;
  const form = opts.form ?? 'single';
  return {
    name: `${form === 'wide' ? 'sample-wide' : 'sample'} ${name} N=${n}`,
    tol: { atol: 0, rtol: 1e-5 },
    async run(device, cache, rng) {
      const x = inputs(rng, n, options, opts);
      opts.tie?.(x.logits);
      const u = decodeUniform(x.params);
      const process = await cache.get('logit-process', { constants: { N: n } });
      const params = uniform(device, x.params);
      const [logits, bias, mask, history] = [storage(device, x.logits), storage(device, x.bias), storage(device, x.mask), storage(device, x.history)];
      const [scores, state, token, report] = [storage(device, 4 * n), storage(device, 4), storage(device, 4), storage(device, 16)];
      const [parts, hist] = [storage(device, 4 * (6 * reductionParts(n) + 2)), storage(device, 4 * 4 * 256)];
      const draw = await drawSteps(cache, form, n, u.topK > 0, [params, scores, history, state, token, report], parts, hist);
      const got: number[] = [];
      const want: number[] = [];
      const cpuHistory = x.history.slice();
      for (let d = 0; d < draws; d++) {
        const [t, rep] = await dispatch(device, [
          { pipeline: process, groups: workgroups(n), buffers: [params, logits, bias, history, mask, scores] },
          ...draw,
        ], [token, report]);
        const id = new Uint32Array(t!)[0]!;
        const words = new Uint32Array(rep!);
        const floats = new Float32Array(rep!);
        const ref = sampleRef(processLogitsRef(x.logits, u, x.bias, cpuHistory, x.mask), u, d);
        const [lo, hi] = ref.interval(id);
        // A pick next to a boundary (|r − boundary| ≤ 1e-5 · total) is rounding, not a bug: accept either side.
        const boundary = !(u.flags & 8) && Math.min(Math.abs(ref.r - lo), Math.abs(ref.r - hi)) <= 1e-5 * ref.total;
        got.push(id, words[0]!);
        want.push(boundary ? id : ref.id, (u.flags & 8) ? words[0]! : ref.keptCount);
        if (!(u.flags & 8)) { got.push(floats[2]!, floats[1]!); want.push(ref.r, ref.total); }
        cpuHistory[id]! += 1;
      }
      for (const b of [params, logits, bias, mask, history, scores, state, token, report, parts, hist]) b.destroy();
      return { got, want };
    },
  };
}

function logprobsCase(name: string, n: number, top: number, tie?: (l: Float32Array) => void): Case {
  return {
    name: `logprobs ${name} N=${n} top=${top}`,
    tol: { atol: 1e-5, rtol: 0 },
    async run(device, cache, rng) {
      const x = inputs(rng, n, { logprobs: true, topLogprobs: top });
      tie?.(x.logits);
      const id = randomInt(rng, n);
      const out = storage(device, 4 * 41);
      const pipeline = await cache.get('logprobs', { constants: { N: n } });
      const [bytes] = await dispatch(device, [{ pipeline, groups: 1, buffers: [uniform(device, x.params), storage(device, x.logits), storage(device, Uint32Array.of(id)), out] }], [out]);
      const words = new Uint32Array(bytes!);
      const floats = new Float32Array(bytes!);
      const ref = logprobsRef(x.logits, id, top);
      const got = [floats[0]!];
      const want = [ref.logprob];
      for (let j = 0; j < top; j++) { got.push(words[1 + 2 * j]!, floats[2 + 2 * j]!); want.push(...ref.top[j]!); }
      return { got, want };
    },
  };
}

export function samplerCases(): Case[] {
  const V = 32000;
  return [
    logitProcessCase('temperature 0.7', 1000, { temperature: 0.7 }),
    logitProcessCase('logit bias', 1000, { temperature: 1, logitBias: { 0: 5, 17: -100, 999: 3.5 } }),
    logitProcessCase('repetition penalty 1.3 (prompt + output)', 1000, { temperature: 1, repetitionPenalty: 1.3 }, { prompt: [1, 5, 9, 500], outputCounts: 40 }),
    logitProcessCase('frequency 0.5, presence 0.8 (output only)', 1000, { temperature: 1, frequencyPenalty: 0.5, presencePenalty: 0.8 }, { prompt: [2, 3], outputCounts: 60 }),
    logitProcessCase('grammar mask', 1000, { temperature: 1 }, { masked: true }),
    logitProcessCase('everything', V, { temperature: 1.3, logitBias: { 7: 2 }, repetitionPenalty: 1.1, frequencyPenalty: 0.2, presencePenalty: -0.4 }, { masked: true, prompt: [7, 8], outputCounts: 100 }),
    sampleCase('greedy with penalties', 1000, { repetitionPenalty: 2 }, { prompt: [3], draws: 4, outputCounts: 10 }),
    sampleCase('temperature only', 1000, { temperature: 1 }, { spread: 3 }),
    sampleCase('temperature 0.5, large vocabulary', V, { temperature: 0.5 }, { spread: 12 }),
    sampleCase('top-k 1', 1000, { temperature: 1, topK: 1 }),
    sampleCase('top-k 40', V, { temperature: 1, topK: 40 }),
    sampleCase('top-k 5 with ties at the boundary', 1000, { temperature: 1, topK: 5 }, { tie: (l) => { for (const i of [3, 70, 300, 301, 900, 10, 11]) l[i] = 20; l[500] = 25; } }),
    sampleCase('top-p 0.9', 1000, { temperature: 1, topP: 0.9 }, { spread: 4 }),
    sampleCase('top-p 0.5 large vocabulary', V, { temperature: 0.8, topP: 0.5 }, { spread: 10 }),
    sampleCase('min-p 0.05', 1000, { temperature: 1, minP: 0.05 }, { spread: 5 }),
    sampleCase('top-k 50, top-p 0.95, min-p 0.02', V, { temperature: 0.9, topK: 50, topP: 0.95, minP: 0.02 }, { spread: 10 }),
    sampleCase('masked, penalties, every truncation', 1000, { temperature: 1.1, topK: 30, topP: 0.9, minP: 0.01, frequencyPenalty: 0.3, repetitionPenalty: 1.2 }, { masked: true, prompt: [1, 2, 3], draws: 5 }),
    sampleCase('below the workgroup size', 100, { temperature: 1, topP: 0.8 }, { spread: 3 }),
    // The wide draw (the requests it serves: greedy, temperature, min-p), slices not multiples of the workgroup.
    sampleCase('greedy with penalties', 1000, { repetitionPenalty: 2 }, { prompt: [3], draws: 4, outputCounts: 10, form: 'wide' }),
    sampleCase('greedy, tie at 7 and 131000', 151936, { frequencyPenalty: 0.1 }, { draws: 2, form: 'wide', tie: (l) => { l[131000] = 20; l[7] = 20; } }),
    sampleCase('temperature only', 1000, { temperature: 1 }, { spread: 3, form: 'wide' }),
    sampleCase('temperature 0.5, large vocabulary', V, { temperature: 0.5 }, { spread: 12, form: 'wide' }),
    sampleCase('temperature 1, flat, 151936', 151936, { temperature: 1 }, { spread: 1, draws: 4, form: 'wide' }),
    sampleCase('min-p 0.05', 1000, { temperature: 1, minP: 0.05 }, { spread: 5, form: 'wide' }),
    sampleCase('min-p 0.1, penalties, bias, mask', V, { temperature: 0.8, minP: 0.1, repetitionPenalty: 1.2, logitBias: { 5: 3 } }, { spread: 6, masked: true, prompt: [5, 6], draws: 4, form: 'wide' }),
    sampleCase('below the workgroup size', 100, { temperature: 1 }, { spread: 3, form: 'wide' }),
    sampleCase('top-k 1', 1000, { temperature: 1, topK: 1 }, { form: 'wide' }),
    sampleCase('top-k 40', V, { temperature: 1, topK: 40 }, { form: 'wide' }),
    sampleCase('top-k 5 with ties at the boundary', 1000, { temperature: 1, topK: 5 }, { form: 'wide', tie: (l) => { for (const i of [3, 70, 300, 301, 900, 10, 11]) l[i] = 20; l[500] = 25; } }),
    // Ties at the k-th key in slices 0, 2, 5 and 31 (32 slices of 1000): the cut falls inside slice 2, which holds four.
    sampleCase('top-k 6 with ties across slices', V, { temperature: 1, topK: 6 }, { form: 'wide', tie: (l) => { for (const i of [5000, 1, 2100, 2050, 31000, 2900, 2200]) l[i] = 20; l[7000] = 25; } }),
    sampleCase('top-k 50, min-p 0.02, penalties', V, { temperature: 0.9, topK: 50, minP: 0.02, repetitionPenalty: 1.2 }, { spread: 10, prompt: [4, 5, 6], draws: 4, form: 'wide' }),
    sampleCase('top-k 3000, large spread', V, { temperature: 1.2, topK: 3000 }, { spread: 4, draws: 3, form: 'wide' }),
    logprobsCase('chosen only', 1000, 0),
    logprobsCase('top 5', 1000, 5),
    logprobsCase('top 20 with ties', V, 20, (l) => { l[5] = 30; l[31999] = 30; l[100] = 29; l[101] = 29; }),
  ];
}
