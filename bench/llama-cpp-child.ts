// One llama.cpp measurement (bench/llama-cpp-run.ts starts it): reads a LlamaCppRequest as JSON on stdin,
// prints one LlamaCppResult as JSON on stdout.
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import type { LlamaCppMetrics, LlamaCppRequest, LlamaCppResult } from './llama-cpp-run';

const round = (x: number) => Math.round(x * 10) / 10;

async function measure(r: LlamaCppRequest): Promise<LlamaCppResult> {
  const onGpu = r.backend !== 'cpu';
  let llama;
  try {
    llama = await getLlama({ gpu: onGpu ? r.backend as 'vulkan' | 'cuda' : false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
  } catch (e) {
    return { backend: r.backend, skipped: `node-llama-cpp has no usable ${r.backend} build here (${(e as Error).name}: ${String((e as Error).message ?? e).split('\n')[0]})` };
  }
  const gpuDevices = onGpu ? await llama.getGpuDeviceNames() : [];
  if (onGpu && (llama.gpu !== r.backend || gpuDevices.length === 0)) {
    // ggml-vulkan leaves software devices (lavapipe) out unless GGML_VK_VISIBLE_DEVICES names them, and then
    // compiles its pipelines on the CPU for minutes: on a software adapter this peer is skipped.
    return { backend: r.backend, skipped: `llama.cpp's ${r.backend} backend found no GPU device (loaded: ${llama.gpu || 'cpu'}; llama.cpp leaves software Vulkan devices such as lavapipe out)` };
  }
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: r.path, gpuLayers: onGpu ? 'max' : 0 });
  const flashAttention = onGpu ? 'auto' as const : false as const;
  const context = await model.createContext({ contextSize: r.contextLength, batchSize: 512, threads: r.threads, sequences: 1, flashAttention });
  const loadMs = performance.now() - t0;
  try {
    const sequence = context.getSequence();
    const prefillTokensPerSecond: Record<string, number> = {};
    const timeToFirstTokenMsByLength: Record<string, number> = {};
    for (const ids of r.prompts) {
      await sequence.clearHistory();
      let t = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(ids as never[]);
      prefillTokensPerSecond[ids.length] = round(ids.length / ((performance.now() - t) / 1000));
      // Time to first token, as Hearth's by-length one: the whole prompt in, the first greedy id out.
      await sequence.clearHistory();
      t = performance.now();
      for await (const _ of sequence.evaluate(ids as never[], { temperature: 0 })) break;
      timeToFirstTokenMsByLength[ids.length] = round(performance.now() - t);
    }
    // Decode after a prompt: greedy; the clock starts at the first generated token (its prefill excluded).
    const decodeAfter = async (ids: number[]) => {
      await sequence.clearHistory();
      let generated = 0;
      let t = 0;
      for await (const _ of sequence.evaluate(ids as never[], { temperature: 0 })) {
        if (generated === 0) t = performance.now();
        if (++generated > r.decodeTokens) break;
      }
      return round(r.decodeTokens / ((performance.now() - t) / 1000));
    };
    const decodeTokensPerSecond = await decodeAfter(r.prompts[0]!);
    const decodeTokensPerSecondByPosition: Record<string, number> = { [r.prompts[0]!.length]: decodeTokensPerSecond };
    for (const ids of r.decodePrompts) decodeTokensPerSecondByPosition[ids.length] = await decodeAfter(ids);
    const metrics: LlamaCppMetrics = {
      backend: r.backend, threads: r.threads, gpuDevices, flashAttention, loadMs: round(loadMs),
      contextLength: context.contextSize, prefillTokensPerSecond, timeToFirstTokenMsByLength, decodeTokensPerSecond, decodeTokensPerSecondByPosition,
    };
    return metrics;
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
console.log(JSON.stringify(await measure(JSON.parse(input) as LlamaCppRequest)));
process.exit(0);
