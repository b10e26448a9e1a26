// The device script's report as markdown: the table the README's GPU section takes, with the card's name.
import { isSkipped } from '../llama-cpp-run';
import type { AdapterReport, ReadBandwidth } from '../adapter';
import { peerMetrics, type NodeResult, type PeerResult } from '../node-job';
import { targetLines, type TargetCheck } from '../targets';

interface TableReport {
  mode: string; adapterProfile: AdapterReport | null; readBandwidth: ReadBandwidth | null; complete: boolean; totalSeconds: number;
  machine: { cpu: string; cores: number; node: string };
  bundle: { matchesTree: boolean | null; changed: string[] } | null;
  phases: { name: string; status: string; reason?: string }[];
  results: { model: string; quant: string; node?: NodeResult; peers?: NodeResult['peers']; long?: { node?: NodeResult };
    variants?: { name: string; node: { decodeTokensPerSecond: number }; defaultValue: string; decodeRatio: number | null }[] }[];
  targets?: TargetCheck[];
}

const gbs = (b: number | undefined) => (b ? `${(b / 1e9).toFixed(1)} GB/s` : '?');
const at = (m: Record<string, number | null> | undefined, k: string | undefined) => (m && k && m[k] != null ? String(m[k]) : '-');

export function deviceTable(rep: TableReport): string {
  const a = rep.adapterProfile;
  const lines = [
    `GPU: ${a ? `${a.description || a.vendor} (${a.vendor}, ${a.architecture}; subgroups ${a.features.subgroups}, shader-f16 ${a.features.shaderF16}, timestamp-query ${a.features.timestampQuery}; Hearth profile ${a.kernels.name})` : 'no adapter'}; ` +
      `CPU: ${rep.machine.cpu}, ${rep.machine.cores} cores; node ${rep.machine.node}; mode ${rep.mode}; ${rep.totalSeconds} s${rep.complete ? '' : ' (cut short)'}`,
    `read kernels: per thread ${gbs(rep.readBandwidth?.perThread)}, grid-stride ${gbs(rep.readBandwidth?.gridStride)} (${rep.readBandwidth?.timing ?? '-'})`,
    ...(rep.bundle?.matchesTree === false ? [`**the bundle is older than the tree** (${rep.bundle.changed.slice(0, 5).join(', ')}): these numbers are of the older code`] : []),
    '',
    '| model | quant | Hearth decode t/s (pos 1, pos 2) | llama.cpp Vulkan decode t/s | decode × Vulkan | Hearth prefill t/s | Vulkan prefill t/s | prefill × Vulkan | llama.cpp CUDA decode t/s | TTFT ms | dispatches / host waits per token | roofline |',
    '| --- | --- | --- | --- | ---: | --- | --- | ---: | --- | ---: | ---: | ---: |',
  ];
  for (const r of rep.results) {
    const h = r.node;
    const peers = h?.peers ?? r.peers ?? {};
    const positions = Object.keys(h?.decodeTokensPerSecondByPosition ?? {});
    const longest = h ? String(Math.max(...Object.keys(h.prefillTokensPerSecond).map(Number))) : undefined;
    const peer = (p: PeerResult | undefined, what: 'decode' | 'prefill') => {
      if (!p) return '-';
      if (isSkipped(p)) return what === 'decode' ? `skipped (${p.skipped.slice(0, 120)})` : '-';
      return what === 'decode' ? positions.map((k) => at(p.decodeTokensPerSecondByPosition, k)).join(', ') || String(p.decodeTokensPerSecond) : at(p.prefillTokensPerSecond, longest);
    };
    const v = peers.llamaCppVulkan;
    const failed = rep.phases.find((p) => p.name === `hearth ${r.model} ${r.quant}` && p.status !== 'ok');
    lines.push(`| ${r.model} | ${r.quant} | ${h ? positions.map((k) => `${h.decodeTokensPerSecondByPosition[k]} @${k}`).join(', ') : failed ? `${failed.status}: ${(failed.reason ?? '').slice(0, 80)}` : '-'} | ` +
      `${peer(v, 'decode')} | ${v && !isSkipped(v) ? v.decodeRatio ?? '-' : '-'} | ${h ? `${at(h.prefillTokensPerSecond, longest)} @${longest}` : '-'} | ${peer(v, 'prefill')} | ` +
      `${v && !isSkipped(v) ? v.prefillRatio ?? '-' : '-'} | ${peer(peers.llamaCppCuda, 'decode')} | ${h?.timeToFirstTokenMs ?? '-'} | ` +
      `${h ? `${h.dispatchesPerToken} / ${h.hostWaitsPerToken}` : '-'} | ${h?.rooflineFraction ?? '-'} |`);
  }
  lines.push(...lengthsTable(rep), ...variantsTable(rep), ...targetLines(rep.targets ?? []));
  const bad = rep.phases.filter((p) => p.status !== 'ok');
  if (bad.length) lines.push('', ...bad.map((p) => `- ${p.name}: ${p.status}${p.reason ? ` (${p.reason.slice(0, 200)})` : ''}`));
  return `${lines.join('\n')}\n`;
}

/**
 * Per prompt length and decode position, each case of each file (the main one and the long-context one): Hearth's
 * prefill, TTFT and decode with llama.cpp Vulkan's beside (prefill and decode as Hearth ÷ Vulkan), and the context
 * and KV-cache bytes the case loaded.
 */
function lengthsTable(rep: TableReport): string[] {
  const rows: string[] = [];
  for (const r of rep.results) {
    for (const [name, h] of [['main', r.node], ['long', r.long?.node]] as const) {
      if (!h) continue;
      const v = peerMetrics(h.peers.llamaCppVulkan);
      const cell = (mine: Record<string, number>, theirs: Record<string, number | null> | undefined) =>
        Object.entries(mine).map(([k, x]) => `${k}: ${x}${theirs?.[k] != null ? ` (${theirs[k]})` : ''}`).join(', ');
      rows.push(`| ${r.model} | ${r.quant} | ${name} | ${h.contextLength} (${(h.kvCacheBytes / 2 ** 20).toFixed(1)} MiB) | ` +
        `${cell(h.prefillTokensPerSecond, v?.prefillRatioByLength)} | ${cell(h.timeToFirstTokenMsByLength, v?.timeToFirstTokenMsByLength)} | ` +
        `${cell(h.decodeTokensPerSecondByPosition, v?.decodeRatioByPosition)} |`);
    }
  }
  if (rows.length === 0) return [];
  return ['', '| model | quant | case | context (KV cache) | Hearth prefill t/s by length (× Vulkan) | Hearth TTFT ms by length (Vulkan ms) | Hearth decode t/s by position (× Vulkan) |',
    '| --- | --- | --- | ---: | --- | --- | --- |', ...rows];
}

/**
 * Each variant (one load option changed) beside its file's main case, where the script measured it: whether the GPU
 * profile's default for that option should change (q8: precision.quantized; laneSteps 1: laneSteps).
 */
function variantsTable(rep: TableReport): string[] {
  const rows = rep.results.flatMap(({ model, quant, node, variants }) => (variants ?? []).map((v) =>
    `| ${model} | ${quant} | ${v.name} | ${v.node.decodeTokensPerSecond} | ${node?.decodeTokensPerSecond ?? '-'} (${v.defaultValue}) | ${v.decodeRatio ?? '-'} |`));
  if (rows.length === 0) return [];
  return ['', '| model | quant | variant | Hearth variant decode t/s | Hearth default decode t/s (its value) | variant ÷ default |', '| --- | --- | --- | ---: | ---: | ---: |', ...rows];
}
