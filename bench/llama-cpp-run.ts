// The native peer in Node: llama.cpp's CPU backend through node-llama-cpp, on the same GGUF and the same
// prompt token ids as Hearth, `threads` CPU threads (the bench's --threads, default all cores).
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { round } from './hearth-run';

export interface LlamaCppMetrics {
  threads: number;
  loadMs: number;
  prefillTokensPerSecond: Record<string, number>;
  decodeTokensPerSecond: number;
}

/** `prompts`: token ids (BOS first), the first of which precedes the decode. */
export async function measureLlamaCpp(path: string, prompts: number[][], decodeTokens: number, contextLength: number, threads: number): Promise<LlamaCppMetrics> {
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: contextLength, batchSize: 512, threads, sequences: 1 });
  const loadMs = performance.now() - t0;
  try {
    const sequence = context.getSequence();
    const prefillTokensPerSecond: Record<string, number> = {};
    for (const ids of prompts) {
      await sequence.clearHistory();
      const t = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(ids as never[]);
      prefillTokensPerSecond[ids.length] = round(ids.length / ((performance.now() - t) / 1000));
    }
    // Decode after the first prompt: greedy; the clock starts at the first generated token (its prefill excluded).
    await sequence.clearHistory();
    let generated = 0;
    let t = 0;
    for await (const _ of sequence.evaluate(prompts[0]! as never[], { temperature: 0 })) {
      if (generated === 0) t = performance.now();
      if (++generated > decodeTokens) break;
    }
    const decodeTokensPerSecond = decodeTokens / ((performance.now() - t) / 1000);
    return { threads, loadMs: round(loadMs), prefillTokensPerSecond, decodeTokensPerSecond: round(decodeTokensPerSecond) };
  } finally {
    await context.dispose();
    await model.dispose();
  }
}
