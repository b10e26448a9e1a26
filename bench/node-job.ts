// One model file in Node, as `npm run bench` and the device script (bench/device/) both measure it: Hearth on
// the bench's device, then each llama.cpp peer on the same file with the same prompt ids, with the ratios the
// issue's JSON names (peers.llamaCppVulkan.decodeRatio = Hearth decode ÷ llama.cpp Vulkan decode, …).
import { openModel } from '../src/model/open';
import type { AdapterReport, BenchDevice } from './adapter';
import { benchPrompt, measureHearth, round, type HearthMetrics, type HearthRunOptions, type KernelTime } from './hearth-run';
import { isSkipped, measureLlamaCpp, type LlamaCppBackend, type LlamaCppMetrics, type LlamaCppResult } from './llama-cpp-run';

export type PeerKey = 'llamaCppCpu' | 'llamaCppVulkan' | 'llamaCppCuda';
export const peerKey: Record<LlamaCppBackend, PeerKey> = { cpu: 'llamaCppCpu', vulkan: 'llamaCppVulkan', cuda: 'llamaCppCuda' };

/** A llama.cpp peer with Hearth ÷ llama.cpp ratios: tokens/s overall, prefill by prompt length, decode by position. */
export type PeerResult = LlamaCppResult & {
  decodeRatio?: number | null; prefillRatio?: number | null;
  prefillRatioByLength?: Record<string, number | null>; decodeRatioByPosition?: Record<string, number | null>;
};

export type NodeResult = HearthMetrics & {
  adapterProfile: AdapterReport;
  rooflineFraction: number;
  /** GPU ms per kernel of one decode step (timestamp queries): the profile's kernels, or null (profileSkipped says why). */
  gpuMsPerKernel: KernelTime[] | null;
  peers: Partial<Record<PeerKey, PeerResult>>;
};

/** Prefill speed of the longest prompt measured (the headline prefill number). */
export function prefillOf(m: { prefillTokensPerSecond: Record<string, number> }): number {
  const lengths = Object.keys(m.prefillTokensPerSecond).map(Number);
  return lengths.length ? m.prefillTokensPerSecond[String(Math.max(...lengths))]! : 0;
}
/** a / b to 3 significant digits (ratios far below 1 stay readable). */
export const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? Number((a / b).toPrecision(3)) : null);
export const roofline = (m: HearthMetrics, bandwidth: number) => round((m.weightBytesPerToken * m.decodeTokensPerSecond) / bandwidth, 3);

/** Hearth on `file` in Node. */
export async function measureNodeHearth(gpu: BenchDevice, file: string, options: HearthRunOptions, bandwidth: number): Promise<NodeResult> {
  const m = await measureHearth(gpu, file, options);
  return { ...m, adapterProfile: gpu.adapterProfile, rooflineFraction: roofline(m, bandwidth), gpuMsPerKernel: m.profile?.kernels ?? null, peers: {} };
}

/** The prompt ids every runtime gets: the bench's prompts of exact lengths, in this file's vocabulary. */
async function promptIds(file: string, options: HearthRunOptions): Promise<{ prompts: number[][]; decodePrompts: number[][] }> {
  const opened = await openModel(file);
  try {
    return {
      prompts: options.promptLengths.map((n, i) => benchPrompt(opened.tokenizer, n, i % 2 ? 'and' : 'the').ids),
      decodePrompts: (options.decodeAt ?? []).map((n) => benchPrompt(opened.tokenizer, n).ids),
    };
  } finally {
    await opened.close();
  }
}

/** One llama.cpp peer on `file`, with its ratios against Hearth's numbers `h` (where Hearth ran). */
export async function measurePeer(file: string, backend: LlamaCppBackend, options: HearthRunOptions, threads: number, h?: HearthMetrics, timeoutMs?: number): Promise<PeerResult> {
  const ids = await promptIds(file, options);
  const peer = await measureLlamaCpp({ path: file, backend, ...ids, decodeTokens: options.decodeTokens, contextLength: options.contextLength, threads }, timeoutMs);
  return h ? withRatios(h, peer) : peer;
}

export function withRatios(h: HearthMetrics, peer: LlamaCppResult): PeerResult {
  if (isSkipped(peer)) return peer;
  const ratios = (hearth: Record<string, number>, llama: Record<string, number>) => Object.fromEntries(Object.entries(llama).map(([k, v]) => [k, ratio(hearth[k], v)]));
  return {
    ...peer, decodeRatio: ratio(h.decodeTokensPerSecond, peer.decodeTokensPerSecond), prefillRatio: ratio(prefillOf(h), prefillOf(peer)),
    prefillRatioByLength: ratios(h.prefillTokensPerSecond, peer.prefillTokensPerSecond),
    decodeRatioByPosition: ratios(h.decodeTokensPerSecondByPosition, peer.decodeTokensPerSecondByPosition),
  };
}

export const peerMetrics = (p: PeerResult | undefined): (LlamaCppMetrics & PeerResult) | undefined => (p && !isSkipped(p) ? p as LlamaCppMetrics & PeerResult : undefined);
