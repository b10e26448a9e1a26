// The Chromium half of the bench: Hearth (bench/hearth-run.ts, on SwiftShader) and wllama (llama.cpp in
// WebAssembly) in the same page, on the same GGUF URL, driven by bench/chromium.ts through window.hearthBench.
import { Wllama } from '@wllama/wllama';
import wllamaWasm from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import { acquireBenchDevice, measureHearth, measureReadBandwidth, round, type HearthRunOptions } from '../hearth-run';
import { createEngine } from '../../src/engine/page/engine';
import type { Engine } from '../../src/engine/api';

export interface WllamaMetrics {
  threads: number;
  multiThread: boolean;
  loadMs: number;
  prefillTokensPerSecond: Record<string, number>;
  decodeTokensPerSecond: number;
  /** Prompt tokens wllama reported for each prompt (a check that it saw the same length). */
  promptTokens: number[];
}

/**
 * Greedy decode speed of the public engine API with streaming (completions.create, stream: true), through the
 * worker (comlink: a message per chunk) and on the page's own thread (worker: false), on the same model: what
 * the worker boundary costs per token. Speeds count from the first chunk to the end, so prefill is left out.
 */
export interface EngineStreamingMetrics {
  workerDecodeTokensPerSecond: number;
  pageDecodeTokensPerSecond: number;
  /** worker ÷ page: 1 when crossing the worker costs nothing per token. */
  workerRatio: number;
  /** Streamed chunks per generated token (through the worker). */
  chunksPerToken: number;
}

/** What backend 'auto' took here and its decode speed through the public API (streamed, in the worker). */
export interface AutoBackendMetrics { backend: string; reason: string; decodeTokensPerSecond: number }

/** Greedy streamed decode speed from the first chunk to the end (prefill left out), and chunks per token. */
async function streamingSpeed(engine: Engine, prompt: string, decodeTokens: number, eosId: number): Promise<{ tokensPerSecond: number; chunksPerToken: number }> {
  const stream = await engine.completions.create({
    prompt, max_tokens: decodeTokens + 1, temperature: 0, logit_bias: { [eosId]: -100 }, stream: true, stream_options: { include_usage: true },
  });
  let first = 0;
  let chunks = 0;
  let tokens = 0;
  for await (const chunk of stream) {
    if (!first) first = performance.now();
    else chunks++;
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  const seconds = (performance.now() - first) / 1000;
  return { tokensPerSecond: (tokens - 1) / seconds, chunksPerToken: chunks / (tokens - 1) };
}

const device = acquireBenchDevice();
const silent = { debug() {}, log() {}, info() {}, warn() {}, error: console.error };

const api = {
  crossOriginIsolated: () => globalThis.crossOriginIsolated,
  readBandwidth: async () => measureReadBandwidth(await device),
  hearth: async (url: string, options: HearthRunOptions) => measureHearth(await device, url, options),

  /** `eosId` is banned (logit_bias -100) so that every run decodes `decodeTokens` tokens. */
  engineStreaming: async (url: string, prompt: string, decodeTokens: number, contextLength: number, precision: HearthRunOptions['precision'], eosId: number): Promise<EngineStreamingMetrics> => {
    const speed = async (worker: boolean) => {
      const engine = await createEngine(url, { worker, contextLength, precision, backend: 'webgpu' });
      try {
        return await streamingSpeed(engine, prompt, decodeTokens, eosId);
      } finally {
        await engine.dispose();
      }
    };
    const inWorker = await speed(true);
    const onPage = await speed(false);
    return {
      workerDecodeTokensPerSecond: round(inWorker.tokensPerSecond), pageDecodeTokensPerSecond: round(onPage.tokensPerSecond),
      workerRatio: Number((inWorker.tokensPerSecond / onPage.tokensPerSecond).toPrecision(3)), chunksPerToken: round(inWorker.chunksPerToken, 2),
    };
  },

  /** The public engine as a page gets it with no options (backend 'auto'): which backend it took, and its streamed decode speed. */
  engineAuto: async (url: string, prompt: string, decodeTokens: number, contextLength: number, eosId: number): Promise<AutoBackendMetrics> => {
    const engine = await createEngine(url, { contextLength });
    try {
      const { tokensPerSecond } = await streamingSpeed(engine, prompt, decodeTokens, eosId);
      return { backend: engine.model.backend, reason: engine.model.backendReason, decodeTokensPerSecond: round(tokensPerSecond) };
    } finally {
      await engine.dispose();
    }
  },

  /** `prompts`: texts (without BOS; wllama adds it), the first of which precedes the decode. */
  wllama: async (url: string, prompts: string[], decodeTokens: number, contextLength: number, threads: number): Promise<WllamaMetrics> => {
    const wllama = new Wllama({ default: wllamaWasm }, { logger: silent });
    const t0 = performance.now();
    const blob = await (await fetch(url)).blob();
    await wllama.loadModel([blob], { n_ctx: contextLength, n_batch: 512, n_threads: threads, seed: 1 });
    const loadMs = performance.now() - t0;
    try {
      const prefillTokensPerSecond: Record<string, number> = {};
      const promptTokens: number[] = [];
      let decodeTokensPerSecond = 0;
      // The decoding prompt last, so that a prompt cache cannot serve it from the run before (different words).
      for (const [i, prompt] of [...prompts.entries()].reverse()) {
        const r = await wllama.createCompletion({ prompt, max_tokens: i === 0 ? decodeTokens : 1, temperature: 0, ignore_eos: true, cache_prompt: false } as never);
        const timings = r.timings!;
        promptTokens.unshift(timings.prompt_n);
        prefillTokensPerSecond[timings.prompt_n] = round(timings.prompt_per_second);
        if (i === 0) decodeTokensPerSecond = round(timings.predicted_per_second);
      }
      return { threads: wllama.getNumThreads(), multiThread: wllama.isMultithread(), loadMs: round(loadMs), prefillTokensPerSecond, decodeTokensPerSecond, promptTokens };
    } finally {
      await wllama.exit();
    }
  },
};
(globalThis as { hearthBench?: typeof api }).hearthBench = api;
export type HearthBenchPage = typeof api;
