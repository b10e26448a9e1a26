// The whole GPU comparison as one script (`npm run bench:device` runs it from the packed bundle, bench/device/
// run.sh): Hearth in Node on the machine's GPU against llama.cpp's Vulkan build (and its CUDA build where the
// bundle has it) on the same random-weight files of real shapes, written here, most important first. Every
// phase writes $OUT/bench-device.json (and a markdown table, bench-device.md) as it ends, so a run cut short
// still reports what it measured. Some files get a long-context case too (a 4096-token prompt, decode at 8192
// positions) with its own phases and time guard. On a software adapter (lavapipe) it runs a reduced mode: the
// tiny shape, short prompts and short "long" ones, the same phases — which is how the test
// (test/bench-device.test.ts) keeps it working.
//   node device-bench.mjs [--mode auto|full|reduced] [--budget seconds] [--out dir]
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { acquireBenchDevice, measureReadBandwidthKernels, type BenchDevice } from '../adapter';
import { contextFor, type HearthRunOptions } from '../hearth-run';
import { isSkipped, type LlamaCppBackend } from '../llama-cpp-run';
import { benchModelPath, BENCH_SHAPES, parameterCount, type BenchQuant } from '../model-gen';
import { measureNodeHearth, measurePeer, peerKey, ratio, withRatios, type NodeResult } from '../node-job';
import { checkTargets, type TargetCheck, type TargetRun } from '../targets';
import { deviceTable } from './table';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'auto' },
    budget: { type: 'string' },
    out: { type: 'string', default: process.env.OUT || '.bench-device/out' },
  },
});
if (!['auto', 'full', 'reduced'].includes(values.mode!)) throw new Error(`--mode: auto, full or reduced, got ${values.mode}`);

export interface Phase { name: string; status: 'ok' | 'skipped' | 'error'; seconds: number; reason?: string }
/** Hearth and its llama.cpp peers on one file with one set of options. */
export interface DeviceCase { node?: NodeResult;
  /** The peers until Hearth has run (then under node.peers, with ratios), or where it did not. */
  peers?: NodeResult['peers'] }
export interface DeviceResult extends DeviceCase { model: string; quant: BenchQuant; parameters: number; fileBytes?: number; writeSeconds?: number;
  /** The long-context case (report.longOptions), on the files that have one. */
  long?: DeviceCase;
  /** The same file decoded with one load option changed (report.variantOptions), on the files that have them. */
  variants?: HearthVariant[] }
/**
 * Hearth on a file with one load option changed, beside its main case: whether the GPU profile's default for that
 * option should change. 'q8': precision 'q8' (8-bit activations, integer dot products) against the main case's
 * precision (AdapterProfile.precision.quantized, for q4_0/q8_0 models); 'laneSteps 1': the lane kernels taking one
 * step per run against the profile's runs (AdapterProfile.laneSteps; K-quant scales decoded once per step);
 * 'alignedWeights false': Q4_0, Q8_0 and Q6_K matrices as the file lays them out against their aligned repacking
 * (AdapterProfile.alignedWeights).
 */
export interface HearthVariant { name: VariantName; node: Omit<NodeResult, 'peers'>;
  /** The main case's value of what the variant changes: its precision, its profile's laneSteps or alignedWeights. */
  defaultValue: string;
  /** Decode tokens/s of the variant ÷ of the main case, at the first prompt's position (> 1: the variant wins). */
  decodeRatio: number | null }
type VariantName = 'q8' | 'laneSteps 1' | 'alignedWeights false';

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const report = {
  kind: 'hearth-bench-device', version: 1, mode: values.mode as 'auto' | 'full' | 'reduced', startedAt: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(), node: process.version },
  budgetSeconds: 600, options: null as HearthRunOptions | null, longOptions: null as HearthRunOptions | null, variantOptions: null as Record<VariantName, HearthRunOptions> | null,
  adapterProfile: null as BenchDevice['adapterProfile'] | null,
  readBandwidth: null as Awaited<ReturnType<typeof measureReadBandwidthKernels>> | null,
  bundle: bundleCheck(),
  phases: [] as Phase[], results: [] as DeviceResult[], targets: [] as TargetCheck[], complete: false, totalSeconds: 0,
};

/**
 * The bundle's manifest (bench/device/pack.mjs) and whether the working tree beside it ($HEARTH_TREE, set by
 * run.sh) still has the sources it was built from: a stale bundle measures old code.
 */
function bundleCheck(): { builtAt?: string; versions?: unknown; matchesTree: boolean | null; changed: string[] } | null {
  const path = join(dirname(fileURLToPath(import.meta.url)), 'manifest.json');
  if (!existsSync(path)) return null; // run from the TypeScript sources, not a bundle
  const m = JSON.parse(readFileSync(path, 'utf8')) as { builtAt: string; versions: unknown; sources: Record<string, string> };
  const tree = process.env.HEARTH_TREE;
  if (!tree) return { builtAt: m.builtAt, versions: m.versions, matchesTree: null, changed: [] };
  const changed = Object.entries(m.sources).filter(([f, h]) => {
    const file = join(tree, f);
    return !existsSync(file) || createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16) !== h;
  }).map(([f]) => f);
  if (changed.length) console.error(`bench:device: the bundle is older than the tree (${changed.slice(0, 5).join(', ')}…): rebuild it with node bench/device/pack.mjs`);
  return { builtAt: m.builtAt, versions: m.versions, matchesTree: changed.length === 0, changed };
}
mkdirSync(values.out!, { recursive: true });
/** Rewrites the report, each file whole (written aside, then renamed: a run killed mid-write keeps the last one). */
function save(): void {
  report.totalSeconds = Math.round(elapsed());
  const runs: TargetRun[] = report.results.flatMap((r) => [r.node, r.long?.node].filter((h) => h !== undefined).map((h) => ({ model: r.model, quant: r.quant, hearth: h, peers: h.peers })));
  report.targets = checkTargets(runs);
  const write = (name: string, text: string) => {
    const path = join(values.out!, name);
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };
  write('bench-device.json', JSON.stringify(report, null, 2));
  write('bench-device.md', deviceTable(report));
}
const log = (msg: string) => console.error(`[${elapsed().toFixed(0).padStart(4)} s] ${msg}`);

/**
 * Runs one phase unless the budget is spent (or has less than `needs` seconds left); records it and saves the
 * report either way. A phase that overruns its timeout ends the run: the GPU may still be busy with it.
 */
async function phase(name: string, f: () => Promise<void>, timeoutSeconds = Infinity, needs = 0): Promise<boolean> {
  const t = elapsed();
  if (t + needs > report.budgetSeconds) {
    report.phases.push({ name, status: 'skipped', seconds: 0, reason: `time budget: ${t.toFixed(0)} of ${report.budgetSeconds} s used${needs ? `, this needs about ${needs} s` : ''}` });
    save();
    return false;
  }
  log(name);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => { if (Number.isFinite(timeoutSeconds)) timer = setTimeout(() => reject(new Error(`timed out after ${timeoutSeconds} s`)), timeoutSeconds * 1000); });
    await Promise.race([f(), timeout]);
    report.phases.push({ name, status: 'ok', seconds: Math.round(10 * (elapsed() - t)) / 10 });
    return true;
  } catch (e) {
    const reason = String((e as Error).stack ?? e).split('\n').slice(0, 3).join(' | ');
    report.phases.push({ name, status: 'error', seconds: Math.round(10 * (elapsed() - t)) / 10, reason });
    log(`${name}: ${reason}`);
    if (/timed out/.test(reason)) { save(); process.exit(3); } // the GPU may still be busy: stop with what there is
    return false;
  } finally {
    clearTimeout(timer);
    save();
  }
}

/** Whether node-llama-cpp's prebuilt `backend` package is reachable from here (the bundle carries Vulkan only). */
function hasBuild(backend: LlamaCppBackend): boolean {
  try { createRequire(import.meta.url).resolve(`@node-llama-cpp/linux-x64-${backend}`); return true; } catch { return false; }
}
const missingBuild: Record<string, string> = {
  cuda: "not in the device bundle: node-llama-cpp's CUDA build does not fit the 64 MiB carry (libggml-cuda.so is 159 MB, 118 MiB xz-compressed, and needs the system's cuBLAS 13)",
  vulkan: "node-llama-cpp's Vulkan build (@node-llama-cpp/linux-x64-vulkan) is not installed",
};

let gpu!: BenchDevice;
await phase('adapter', async () => {
  gpu = await acquireBenchDevice();
  report.adapterProfile = gpu.adapterProfile;
  if (report.mode === 'auto') report.mode = gpu.profile.name === 'software' ? 'reduced' : 'full';
  log(`adapter: ${gpu.adapterProfile.description || gpu.adapterProfile.vendor}; mode ${report.mode}`);
});
if (!gpu) { report.phases.push({ name: 'done', status: 'error', seconds: 0, reason: 'no adapter' }); save(); process.exit(2); }
const full = report.mode === 'full';
report.budgetSeconds = Number(values.budget ?? (full ? 420 : 140));
const options: HearthRunOptions = full
  ? { promptLengths: [128, 512, 1024], decodeTokens: 128, decodeAt: [1024], runs: 2, contextLength: 2048, precision: 'auto', profile: true }
  : { promptLengths: [32], decodeTokens: 8, decodeAt: [64], runs: 1, contextLength: 128, precision: 'auto', profile: true };
// The long-context case: a 4096-token prompt's prefill and TTFT, and decode at 8192 positions beside decode after
// 128 in the same load (the 8192-token prompt is prefilled, not decoded up to). Reduced: the same paths, short.
const longShape = full ? { promptLengths: [128, 4096], decodeTokens: 128, decodeAt: [8192] } : { promptLengths: [16, 48], decodeTokens: 8, decodeAt: [96] };
const longOptions: HearthRunOptions = { ...longShape, runs: 1, contextLength: contextFor(longShape), precision: 'auto', profile: false };
// The variants, for their decode after the main case's first prompt length (the same position): one short prompt
// (q8's prefill runs matmul-q8.wgsl, which is not built for GPUs).
const variantShape: HearthRunOptions = { promptLengths: [full ? 128 : 32], decodeTokens: full ? 128 : 8, runs: 1, contextLength: full ? 512 : 128, precision: 'auto', profile: full };
const variantOptions: Record<VariantName, HearthRunOptions> = {
  q8: { ...variantShape, precision: 'q8' },
  'laneSteps 1': { ...variantShape, kernels: { laneSteps: 1 } },
  'alignedWeights false': { ...variantShape, kernels: { alignedWeights: false } },
};
/** What the main case `n` ran of what each variant changes. */
const defaultValue: Record<VariantName, (n: NodeResult) => string> = {
  q8: (n) => n.precision,
  'laneSteps 1': (n) => String(n.adapterProfile.kernels.laneSteps),
  'alignedWeights false': (n) => String(n.adapterProfile.kernels.alignedWeights),
};
report.options = options;
report.longOptions = longOptions;
report.variantOptions = variantOptions;

await phase('bandwidth', async () => { report.readBandwidth = await measureReadBandwidthKernels(gpu); });

// Most important first: the issue's target (Llama-3.2-1B Q4_0 against llama.cpp Vulkan) and its long-context
// case, the other shape and its long case, the K-quant, 8B where the machine has the memory (the TTFT target's
// shape) and its long case, then the wider types. `long`: the seconds the long case is guarded by (its phases
// start only with that much of the budget left); `variants`: the same for each variant.
interface Job { model: string; quant: BenchQuant; long?: number; variants?: Partial<Record<VariantName, number>> }
const big: Job[] = totalmem() >= 48 * 2 ** 30 ? [{ model: 'llama-3.1-8b', quant: 'q4_0', long: 120 }] : [];
const jobs: Job[] = full
  ? [{ model: 'llama-3.2-1b', quant: 'q4_0', long: 60, variants: { q8: 40, 'laneSteps 1': 40, 'alignedWeights false': 40 } }, { model: 'qwen2.5-0.5b', quant: 'q4_0', long: 45 },
      { model: 'llama-3.2-1b', quant: 'q4_k_m', variants: { 'laneSteps 1': 40, 'alignedWeights false': 40 } }, { model: 'qwen2.5-0.5b', quant: 'q4_k_m' }, ...big,
      { model: 'llama-3.2-1b', quant: 'q8_0', variants: { q8: 40, 'alignedWeights false': 40 } }, { model: 'llama-3.2-1b', quant: 'f16' }, { model: 'qwen2.5-0.5b', quant: 'q8_0' }, { model: 'qwen2.5-0.5b', quant: 'f16' }]
  : [{ model: 'tiny', quant: 'q4_0', long: 0, variants: { q8: 0 } }, { model: 'tiny', quant: 'q4_k_m', variants: { 'laneSteps 1': 0 } }];
const backends: LlamaCppBackend[] = ['vulkan', 'cuda'];
// Whatever starts ends by budget + 60 s (8 minutes in full mode): each phase's timeout is what is left of that.
const left = () => Math.max(30, Math.min(240, report.budgetSeconds + 60 - elapsed()));

/**
 * llama.cpp's builds, then Hearth, on `file` with options `o`, into `into`; each phase starts only with `needs`
 * seconds of the budget left (Hearth's with half of it: the peers have run by then). A build `before` (the file's
 * main case) skipped is skipped again with its reason, without starting it (on lavapipe that is each build).
 */
async function compare(into: DeviceCase, label: string, file: string, o: HearthRunOptions, needs: number, before?: DeviceCase): Promise<void> {
  // llama.cpp first: a Hearth phase that overruns ends the run, and the peer's numbers are in by then.
  const raw: NodeResult['peers'] = (into.peers = {});
  for (const backend of backends) {
    const earlier = (before?.node?.peers ?? before?.peers)?.[peerKey[backend]];
    await phase(`llama.cpp ${backend} ${label}`, async () => {
      raw[peerKey[backend]] = !hasBuild(backend) ? { backend, skipped: missingBuild[backend]! }
        : isSkipped(earlier) ? { backend, skipped: `as for the main case: ${earlier.skipped}` }
        : await measurePeer(file, backend, o, cpus().length, undefined, 1000 * left());
    }, Infinity, needs);
  }
  await phase(`hearth ${label}`, async () => {
    const node = await measureNodeHearth(gpu, file, o, report.readBandwidth?.best ?? Infinity);
    node.peers = Object.fromEntries(Object.entries(raw).map(([k, p]) => [k, withRatios(node, p)]));
    into.node = node;
    delete into.peers;
  }, left(), needs / 2);
}

/** Hearth's variant `name` on `file` beside the main case `r.node` (run first). */
async function compareVariant(r: DeviceResult, name: VariantName, file: string, needs: number): Promise<void> {
  await phase(`hearth ${name} ${r.model} ${r.quant}`, async () => {
    const { peers: _, ...node } = await measureNodeHearth(gpu, file, variantOptions[name], report.readBandwidth?.best ?? Infinity);
    (r.variants ??= []).push({ name, node, defaultValue: r.node ? defaultValue[name](r.node) : '?', decodeRatio: ratio(node.decodeTokensPerSecond, r.node?.decodeTokensPerSecond) });
  }, left(), needs);
}

for (const { model, quant, long, variants } of jobs) {
  const r: DeviceResult = { model, quant, parameters: parameterCount(BENCH_SHAPES[model]!) };
  report.results.push(r);
  let file = '';
  const written = await phase(`write ${model} ${quant}`, async () => {
    const t = elapsed();
    file = benchModelPath(model, quant, log);
    r.writeSeconds = Math.round(10 * (elapsed() - t)) / 10;
    r.fileBytes = statSync(file).size;
  }, Infinity, full ? (model === 'llama-3.1-8b' ? 150 : 45) : 0);
  if (!written) continue;
  await compare(r, `${model} ${quant}`, file, options, 0);
  for (const [name, needs] of Object.entries(variants ?? {}) as [VariantName, number][]) await compareVariant(r, name, file, needs);
  if (long !== undefined) await compare((r.long = {}), `${model} ${quant} long`, file, longOptions, long, r);
}
report.complete = true;
report.phases.push({ name: 'done', status: 'ok', seconds: 0 });
save();
log(`done: ${join(values.out!, 'bench-device.json')}`);
console.log(deviceTable(report));
gpu.device.destroy();
process.exit(0);
