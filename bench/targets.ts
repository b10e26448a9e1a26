// The speed targets, checked on a bench report's numbers where those exist: in the report, never in
// tests (a software adapter meets none of them, and a GPU's numbers move from run to run).
import type { HearthMetrics } from './hearth-run';
import { peerMetrics, ratio, type PeerKey, type PeerResult } from './node-job';

/** One Hearth measurement of a model file with its llama.cpp peers (ratios filled in by withRatios). */
export interface TargetRun { model: string; quant: string; hearth: HearthMetrics; peers: Partial<Record<PeerKey, PeerResult>> }

export interface TargetCheck {
  /** Key of the target (stable across runs, for tables and scripts). */
  target: string;
  description: string;
  model: string; quant: string;
  value: number; threshold: number;
  pass: boolean;
}

interface Target {
  target: string; description: string; threshold: number;
  /** 'min': value ≥ threshold passes; 'max': value < threshold passes. */
  kind: 'min' | 'max';
  /** Only these models (all when absent). */
  models?: string[];
  value(run: TargetRun): number | null | undefined;
}

const vulkan = (run: TargetRun) => peerMetrics(run.peers.llamaCppVulkan);

const TARGETS: readonly Target[] = [
  { target: 'decodeVsLlamaCppVulkan', description: 'decode ≥ 1.0× llama.cpp Vulkan (after the first prompt)', threshold: 1, kind: 'min', value: (r) => vulkan(r)?.decodeRatio },
  { target: 'prefill512VsLlamaCppVulkan', description: 'prefill of a 512-token prompt ≥ 1.0× llama.cpp Vulkan', threshold: 1, kind: 'min', value: (r) => vulkan(r)?.prefillRatioByLength?.['512'] },
  {
    target: 'decode8192VsDecode128', description: 'decode at 8192 positions ≥ 0.7× decode at 128', threshold: 0.7, kind: 'min',
    value: (r) => ratio(r.hearth.decodeTokensPerSecondByPosition['8192'], r.hearth.decodeTokensPerSecondByPosition['128']),
  },
  {
    target: 'timeToFirstToken512Ms', description: 'time to first token of a 512-token prompt < 500 ms on the 8B shape', threshold: 500, kind: 'max',
    models: ['llama-3.1-8b'], value: (r) => r.hearth.timeToFirstTokenMsByLength?.['512'],
  },
];

/**
 * Each target on each model and quant where some run has its numbers (the first such run counts: the device
 * script measures a file twice, its main case and its long-context case, with different lengths in each).
 */
export function checkTargets(runs: readonly TargetRun[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const t of TARGETS) {
    const seen = new Set<string>();
    for (const run of runs) {
      const key = `${run.model} ${run.quant}`;
      if (seen.has(key) || (t.models && !t.models.includes(run.model))) continue;
      const value = t.value(run);
      if (value === null || value === undefined || !Number.isFinite(value)) continue;
      seen.add(key);
      checks.push({ target: t.target, description: t.description, model: run.model, quant: run.quant, value, threshold: t.threshold, pass: t.kind === 'min' ? value >= t.threshold : value < t.threshold });
    }
  }
  return checks;
}

/** The checks as markdown lines, for the bench's table and the device script's. */
export function targetLines(checks: readonly TargetCheck[]): string[] {
  if (checks.length === 0) return [];
  return ['', 'Targets (from the issue; measured here, not asserted by tests):', ...checks.map((c) => `- ${c.pass ? 'PASS' : 'FAIL'} ${c.model} ${c.quant}: ${c.description}: ${c.value}`)];
}
