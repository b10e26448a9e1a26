// npm run bench [-- --models stories,random,llama-3.2-1b,qwen2.5-0.5b,llama-3.1-8b] [--quants q4_0,q4_k_m,q8_0,f16]
//   [--runtimes node,chromium] [--llama-cpp cpu,vulkan,cuda] [--quick] [--prompts 128,512] [--decode-at 1024] [--long]
//   [--no-peers] [--no-profile] [--no-demo] [--threads n] [--tokens n] [--runs n] [--precision auto|f16|f32|q8] [--json]
// Hearth side by side with llama.cpp on the same GGUF in the same run: in Node (Dawn: lavapipe here, the GPU
// elsewhere) against node-llama-cpp (its CPU, Vulkan and CUDA builds, `--llama-cpp`), and in Chromium
// (SwiftShader) against wllama (WebAssembly). Models: stories260K (test/fixtures) and random-weight models of
// real shapes (bench/model-gen.ts, written once into node_modules/.cache/hearth-bench). `--json` prints one JSON
// object and nothing else on stdout. With Chromium it also times the built chat app's start-up on its embedded
// model (bench/demo-startup.ts). `--long`: the long-context cases (prompts of 512 and 4096 tokens, decode at 1024
// and 8192 positions, the context to hold them). The whole GPU comparison in one script: bench/device/. Speed
// targets live here (bench/targets.ts, `targets` in the report) and in the README, never in tests.
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireBenchDevice, measureReadBandwidthKernels, type AdapterReport, type ReadBandwidth } from './adapter';
import { benchPrompt, contextFor, round, type HearthMetrics, type HearthRunOptions } from './hearth-run';
import { LLAMA_CPP_BACKENDS, type LlamaCppBackend } from './llama-cpp-run';
import { BENCH_QUANTS, BENCH_SHAPES, DEFAULT_QUANTS, benchModelPath, cacheDir, repoRoot, type BenchQuant } from './model-gen';
import { measureNodeHearth, measurePeer, peerKey, peerMetrics, prefillOf, ratio, roofline, type NodeResult } from './node-job';
import { checkTargets, targetLines } from './targets';
import type { AutoBackendMetrics, EngineStreamingMetrics, WllamaMetrics } from './browser/page';
import type { DemoStartupMetrics } from './demo-startup';
import { openModel } from '../src/model/open';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'stories,random' },
    quants: { type: 'string', default: DEFAULT_QUANTS.join(',') },
    runtimes: { type: 'string', default: 'node,chromium' },
    'llama-cpp': { type: 'string', default: 'cpu' },
    quick: { type: 'boolean', default: false },
    prompts: { type: 'string' },
    'decode-at': { type: 'string' },
    long: { type: 'boolean', default: false },
    out: { type: 'string', default: `${cacheDir}/last-run.json` },
    'no-peers': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    'no-demo': { type: 'boolean', default: false },
    tokens: { type: 'string' },
    threads: { type: 'string' },
    runs: { type: 'string' },
    precision: { type: 'string', default: 'auto' },
    json: { type: 'boolean', default: false },
  },
});
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const models = list(values.models!);
const quants = list(values.quants!) as BenchQuant[];
const runtimes = list(values.runtimes!);
for (const q of quants) if (!BENCH_QUANTS.includes(q)) throw new Error(`--quants: ${q} is not one of ${BENCH_QUANTS.join(', ')}`);
const modelNames = ['stories', ...Object.keys(BENCH_SHAPES)];
for (const m of models) if (!modelNames.includes(m)) throw new Error(`--models: ${m} is not one of ${modelNames.join(', ')}`);
const llamaBackends = list(values['llama-cpp']!) as LlamaCppBackend[];
for (const b of llamaBackends) if (!LLAMA_CPP_BACKENDS.includes(b)) throw new Error(`--llama-cpp: ${b} is not one of ${LLAMA_CPP_BACKENDS.join(', ')}`);
const quick = values.quick!;
const long = values.long!;
const promptLengths = list(values.prompts ?? (long ? '128,512,4096' : quick ? '128' : '128,512')).map(Number);
const decodeTokens = Number(values.tokens ?? (quick ? 32 : 128));
const decodeAt = list(values['decode-at'] ?? (long ? '1024,8192' : '')).map(Number);
const options: HearthRunOptions = {
  promptLengths, decodeTokens, decodeAt,
  runs: Number(values.runs ?? (quick ? 1 : 2)),
  // 1024 as always, more where a prompt or a decode position needs it.
  contextLength: contextFor({ promptLengths, decodeAt, decodeTokens }, 1024),
  precision: values.precision as HearthRunOptions['precision'],
  profile: !values['no-profile'],
};
const peers = !values['no-peers'];
/** CPU threads of both llama.cpp peers (on a busy machine, fewer threads than cores can be faster: they spin-wait). */
const threads = Number(values.threads ?? cpus().length);
const log = (msg: string) => { if (!values.json) console.error(msg); else process.stderr.write(''); };

const fixtureModels = resolve(repoRoot, 'test', 'fixtures', 'models');
function modelPath(model: string, quant: BenchQuant): string {
  if (model !== 'stories') return benchModelPath(model, quant, log);
  const path = resolve(fixtureModels, 'stories260K', `stories260K-${quant.toUpperCase()}.gguf`); // Q4_K_M too
  if (!existsSync(path)) throw new Error(`${path} is missing: stories260K's quantized files are test fixtures (test/fixtures/models)`);
  return path;
}

type RuntimeResult = HearthMetrics & { rooflineFraction: number } & Record<string, unknown>;
interface Result {
  model: string; quant: BenchQuant; file: string; fileBytes: number;
  node?: NodeResult & { decodeRatioVsLlamaCpp?: number; prefillRatioVsLlamaCpp?: number };
  chromium?: RuntimeResult & {
    wllama?: WllamaMetrics; decodeRatioVsWllama?: number; prefillRatioVsWllama?: number; engineStreaming?: EngineStreamingMetrics;
    /** createEngine with no options (backend 'auto': llama.cpp WebAssembly on this software adapter), and its decode ÷ wllama's. */
    auto?: AutoBackendMetrics & { decodeRatioVsWllama?: number };
  };
  [headline: string]: unknown;
}

const jobs: { model: string; quant: BenchQuant; path: string }[] = [];
for (const model of models) for (const quant of quants) jobs.push({ model, quant, path: modelPath(model, quant) });
const results: Result[] = jobs.map(({ model, quant, path }) => ({ model, quant, file: path, fileBytes: statSync(path).size }));
const bandwidth: Record<string, number> = {};
/** Both read kernels' bandwidth in Node (the roofline uses the higher, `bandwidth.node`). */
let readKernels: ReadBandwidth | null = null;
let adapterProfile: AdapterReport | null = null;
const versions: Record<string, string> = { node: process.version };
/** The chat app's start-up in Chromium (cold, then warm cache), when Chromium ran. */
let demoStartup: DemoStartupMetrics | null = null;

// The issue's headline keys on each result: Hearth in Chromium (where wllama is the peer) when it ran, else in Node.
function buildReport() {
  for (const r of results) {
    const h = r.chromium ?? r.node;
    if (!h) continue;
    Object.assign(r, {
      decodeTokensPerSecond: h.decodeTokensPerSecond,
      prefillTokensPerSecond: prefillOf(h),
      wllamaDecodeTokensPerSecond: r.chromium?.wllama?.decodeTokensPerSecond ?? null,
      decodeRatioVsWllama: r.chromium?.decodeRatioVsWllama ?? null,
      llamaCppDecodeTokensPerSecond: peerMetrics(r.node?.peers.llamaCppCpu)?.decodeTokensPerSecond ?? null,
      decodeRatioVsLlamaCpp: r.node?.decodeRatioVsLlamaCpp ?? null,
      rooflineFraction: h.rooflineFraction,
      workerStreamingRatio: r.chromium?.engineStreaming?.workerRatio ?? null,
      autoBackend: r.chromium?.auto?.backend ?? null,
      autoDecodeRatioVsWllama: r.chromium?.auto?.decodeRatioVsWllama ?? null,
      dispatchesPerToken: h.dispatchesPerToken,
      submitsPerToken: h.submitsPerToken,
      hostWaitsPerToken: h.hostWaitsPerToken,
      decodeTokensPerSecondByPosition: h.decodeTokensPerSecondByPosition,
      decodeRatioVsLlamaCppByPosition: peerMetrics(r.node?.peers.llamaCppCpu)?.decodeRatioByPosition ?? null,
      prefillTokensPerSecondByLength: h.prefillTokensPerSecond,
      prefillRatioVsLlamaCppByLength: peerMetrics(r.node?.peers.llamaCppCpu)?.prefillRatioByLength ?? null,
      timeToFirstTokenMs: h.timeToFirstTokenMs,
      timeToFirstTokenMsByLength: h.timeToFirstTokenMsByLength,
      contextLength: h.contextLength,
      kvCacheBytes: h.kvCacheBytes,
      peers: r.node?.peers ?? {},
      gpuBytes: h.gpuBytes,
      headlineRuntime: r.chromium ? 'chromium' : 'node',
    });
  }

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(),
    /** 1, 5 and 15 minute load averages at the end of the run: other jobs on the machine slow every number. */
    loadAverage: loadavg().map((x) => round(x, 2)), versions,
  };
  // The issue's targets on Hearth in Node beside llama.cpp (Vulkan for the ratios), where the numbers exist.
  const targets = checkTargets(results.flatMap((r) => (r.node ? [{ model: r.model, quant: r.quant, hearth: r.node, peers: r.node.peers }] : [])));
  return {
    machine, adapterProfile, options: { ...options, quick, long, peers, llamaCpp: llamaBackends, peerThreads: threads },
    readBandwidthBytesPerSecond: bandwidth, readBandwidthKernels: readKernels, demoStartup, results, targets,
  };
}

/** Writes the report so far to --out (a long run that is stopped keeps what it measured). */
function save(): void {
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(buildReport(), null, 2));
}

if (runtimes.includes('node')) {
  const gpu = await acquireBenchDevice();
  adapterProfile = gpu.adapterProfile;
  readKernels = await measureReadBandwidthKernels(gpu);
  bandwidth.node = readKernels.best;
  log(`node: ${gpu.adapter.name}, read kernels ${(readKernels.perThread / 1e9).toFixed(2)} GB/s per thread, ${(readKernels.gridStride / 1e9).toFixed(2)} GB/s grid-stride`);
  for (const r of results) {
    log(`node: hearth ${r.model} ${r.quant}`);
    const node: NonNullable<Result['node']> = await measureNodeHearth(gpu, r.file, options, bandwidth.node);
    r.node = node;
    save();
    for (const backend of peers ? llamaBackends : []) {
      log(`node: llama.cpp ${backend} ${r.model} ${r.quant}`);
      node.peers[peerKey[backend]] = await measurePeer(r.file, backend, options, threads, node);
      save();
    }
    const cpu = node.peers.llamaCppCpu;
    if (cpu && 'decodeRatio' in cpu) {
      node.decodeRatioVsLlamaCpp = cpu.decodeRatio ?? undefined;
      node.prefillRatioVsLlamaCpp = cpu.prefillRatio ?? undefined;
    }
  }
  gpu.device.destroy();
}

if (runtimes.includes('chromium')) {
  const { openBenchBrowser } = await import('./chromium');
  const browser = await openBenchBrowser([fixtureModels], repoRoot);
  try {
    versions.chromium = browser.version;
    bandwidth.chromium = await browser.call('readBandwidth');
    log(`chromium ${browser.version}: read kernel ${(bandwidth.chromium / 1e9).toFixed(2)} GB/s, cross-origin isolated: ${await browser.call('crossOriginIsolated')}`);
    for (const r of results) {
      log(`chromium: hearth ${r.model} ${r.quant}`);
      const url = browser.urlOf(r.file);
      const m = await browser.call('hearth', url, options);
      const chromium: Result['chromium'] = { ...m, rooflineFraction: roofline(m, bandwidth.chromium) };
      const opened = await openModel(r.file);
      const eosId = opened.tokenizer.eosIds[0] ?? 2;
      const words = options.promptLengths.map((n, i) => benchPrompt(opened.tokenizer, n, i % 2 ? 'and' : 'the').text);
      await opened.close();
      log(`chromium: engine API streaming, worker and page ${r.model} ${r.quant}`);
      chromium.engineStreaming = await browser.call('engineStreaming', url, words[0]!, options.decodeTokens, options.contextLength, options.precision, eosId);
      if (peers) {
        log(`chromium: wllama ${r.model} ${r.quant}`);
        chromium.wllama = await browser.call('wllama', url, words, options.decodeTokens, options.contextLength, threads);
        chromium.decodeRatioVsWllama = ratio(m.decodeTokensPerSecond, chromium.wllama.decodeTokensPerSecond) ?? undefined;
        chromium.prefillRatioVsWllama = ratio(prefillOf(m), prefillOf(chromium.wllama)) ?? undefined;
        log(`chromium: createEngine with backend 'auto' ${r.model} ${r.quant}`);
        const auto: AutoBackendMetrics = await browser.call('engineAuto', url, words[0]!, options.decodeTokens, options.contextLength, eosId);
        chromium.auto = { ...auto, decodeRatioVsWllama: ratio(auto.decodeTokensPerSecond, chromium.wllama.decodeTokensPerSecond) ?? undefined };
      }
      r.chromium = chromium;
      save();
    }
  } finally {
    await browser.close();
  }
}

if (runtimes.includes('chromium') && !values['no-demo']) {
  log('chromium: the built chat app on its embedded model, cold then warm cache');
  const { measureDemoStartup } = await import('./demo-startup');
  demoStartup = await measureDemoStartup();
}

const report = buildReport();
save();
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  printTable(report);
}
process.exit(0);

function printTable(rep: ReturnType<typeof buildReport>): void {
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  console.log(`machine: ${rep.machine.cpu}, ${rep.machine.cores} cores, ${mb(rep.machine.memoryBytes)} MiB, load ${rep.machine.loadAverage.join(' ')}; ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const [k, v] of Object.entries(rep.readBandwidthBytesPerSecond)) console.log(`${k}: read-kernel bandwidth ${(v / 1e9).toFixed(2)} GB/s`);
  if (rep.readBandwidthKernels) console.log(`node read kernels: per thread ${(rep.readBandwidthKernels.perThread / 1e9).toFixed(2)} GB/s, grid-stride ${(rep.readBandwidthKernels.gridStride / 1e9).toFixed(2)} GB/s (${rep.readBandwidthKernels.timing})`);
  if (rep.adapterProfile) console.log(`node adapter: ${JSON.stringify(rep.adapterProfile)}`);
  const lengths = options.promptLengths;
  const header = ['model', 'quant', 'runtime', 'load ms', 'compile ms', 'TTFT ms', ...lengths.map((n) => `prefill ${n} t/s`), 'decode t/s', 'peer decode', 'decode ×peer', 'prefill ×peer', 'roofline', 'disp/submit per tok', 'GPU MiB', 'heap MiB'];
  const rows: string[][] = [];
  for (const r of rep.results) {
    for (const [runtime, h, peer] of [['node', r.node, peerMetrics(r.node?.peers.llamaCppCpu)], ['chromium', r.chromium, r.chromium?.wllama]] as const) {
      if (!h) continue;
      rows.push([r.model, r.quant, `${runtime} vs ${runtime === 'node' ? 'llama.cpp' : 'wllama'}`, String(h.loadMs), String(h.compileMs), String(h.timeToFirstTokenMs),
        ...lengths.map((n) => `${h.prefillTokensPerSecond[n]}${peer ? ` (${peer.prefillTokensPerSecond[n] ?? '?'})` : ''}`),
        String(h.decodeTokensPerSecond), peer ? String(peer.decodeTokensPerSecond) : '-',
        String((runtime === 'node' ? r.node?.decodeRatioVsLlamaCpp : r.chromium?.decodeRatioVsWllama) ?? '-'),
        String((runtime === 'node' ? r.node?.prefillRatioVsLlamaCpp : r.chromium?.prefillRatioVsWllama) ?? '-'),
        String(h.rooflineFraction), `${h.dispatchesPerToken}/${h.submitsPerToken}`, mb(h.gpuBytes), mb(h.peakJsHeapBytes)]);
    }
  }
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => ' --- |').join('')}`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log('(prefill: Hearth (peer) tokens/s; ratios are Hearth / peer: llama.cpp on CPU in Node, wllama in Chromium)');
  for (const r of rep.results) {
    const a = r.chromium?.auto;
    if (a) console.log(`${r.model} ${r.quant}: createEngine in Chromium with no options took ${a.backend} (${a.reason}): decode ${a.decodeTokensPerSecond} t/s, ×wllama ${a.decodeRatioVsWllama ?? '-'}`);
  }
  printPeers(rep.results);
  for (const line of targetLines(rep.targets)) console.log(line);
  printBytesPerToken(rep);
  const d = rep.demoStartup;
  if (d) {
    console.log(`\nchat app start-up in Chromium (${d.model}): page load → model ready ${d.coldReadyMs} ms cold, ${d.warmReadyMs} ms warm; ` +
      `warm page load → first token ${d.warmFirstTokenMs} ms (prompt sent when ready: ${d.sendToFirstTokenMs} ms of it)`);
  }
  const streaming = rep.results.filter((r) => r.chromium?.engineStreaming);
  if (streaming.length) {
    console.log('\nengine API in Chromium, streaming greedy decode (completions.create, stream: true):');
    console.log('| model | quant | worker tok/s | page (worker: false) tok/s | worker ÷ page | chunks per token |\n| --- | --- | ---: | ---: | ---: | ---: |');
    for (const r of streaming) {
      const e = r.chromium!.engineStreaming!;
      console.log(`| ${r.model} | ${r.quant} | ${e.workerDecodeTokensPerSecond} | ${e.pageDecodeTokensPerSecond} | ${e.workerRatio} | ${e.chunksPerToken} |`);
    }
  }
  for (const r of rep.results) {
    for (const [runtime, h] of [['node', r.node], ['chromium', r.chromium]] as const) {
      if (!h?.profile) continue;
      console.log(`\nper-kernel GPU time of one decode step, ${r.model} ${r.quant}, ${runtime} (${h.profile.totalMs} ms in all, each dispatch in its own pass):`);
      for (const k of h.profile.kernels.slice(0, 12)) console.log(`  ${(100 * k.share).toFixed(1).padStart(5)}%  ${k.ms.toFixed(3).padStart(9)} ms  ×${k.dispatches}  ${k.kernel}`);
      if (!h.prefillProfile) continue;
      console.log(`\nper-kernel GPU time of one prefill pass of ${h.prefillProfile.tokens} tokens, ${r.model} ${r.quant}, ${runtime} (${h.prefillProfile.totalMs} ms in all):`);
      for (const k of h.prefillProfile.kernels.slice(0, 12)) console.log(`  ${(100 * k.share).toFixed(1).padStart(5)}%  ${k.ms.toFixed(3).padStart(9)} ms  ×${k.dispatches}  ${k.kernel}`);
    }
  }
}

/** Hearth in Node against each llama.cpp build (--llama-cpp), decode by position. */
function printPeers(results: Result[]): void {
  const rows = results.filter((r) => r.node);
  if (!rows.length) return;
  console.log('\n| model | quant | Hearth decode t/s by position | host waits/tok | Hearth TTFT ms by length | KV cache MiB (context) | peer | peer decode t/s by position | peer TTFT ms by length | decode × by position | prefill × by length |\n| --- | --- | --- | ---: | --- | ---: | --- | --- | --- | --- | --- |');
  const byPos = (m: Record<string, number | null>) => Object.entries(m).map(([k, v]) => `${v} @${k}`).join(', ');
  for (const r of rows) {
    const h = r.node!;
    for (const [key, p] of Object.entries(h.peers)) {
      const m = peerMetrics(p);
      console.log(`| ${r.model} | ${r.quant} | ${byPos(h.decodeTokensPerSecondByPosition)} | ${h.hostWaitsPerToken} | ${byPos(h.timeToFirstTokenMsByLength)} | ` +
        `${(h.kvCacheBytes / 2 ** 20).toFixed(1)} (${h.contextLength}) | ${key} | ${m ? byPos(m.decodeTokensPerSecondByPosition) : `skipped: ${'skipped' in p ? p.skipped : ''}`} | ` +
        `${m ? byPos(m.timeToFirstTokenMsByLength) : '-'} | ${m?.decodeRatioByPosition ? byPos(m.decodeRatioByPosition) : '-'} | ${m?.prefillRatioByLength ? byPos(m.prefillRatioByLength) : '-'} |`);
    }
  }
}

/**
 * Per quantization against Q4_0 on the same model and runtime: the weight bytes a decoded token reads, decode
 * speed, and weight bytes streamed per second (decode t/s × bytes per token): 1 means a type's kernels stream
 * its bytes as fast as Q4_0's do, below 1 that its decoding costs more arithmetic per byte.
 */
function printBytesPerToken(rep: ReturnType<typeof buildReport>): void {
  const rows: string[] = [];
  for (const runtime of ['node', 'chromium'] as const) {
    for (const r of rep.results) {
      const base = rep.results.find((x) => x.model === r.model && x.quant === 'q4_0')?.[runtime];
      const h = r[runtime];
      if (!h || !base || r.quant === 'q4_0') continue;
      const speed = h.decodeTokensPerSecond / base.decodeTokensPerSecond;
      const bytes = h.weightBytesPerToken / base.weightBytesPerToken;
      rows.push(`| ${r.model} | ${r.quant} | ${runtime} | ${(h.weightBytesPerToken / 2 ** 20).toFixed(1)} (${bytes.toFixed(2)}×) | ${h.decodeTokensPerSecond} (${speed.toFixed(2)}×) | ${(speed * bytes).toFixed(2)} |`);
    }
  }
  if (rows.length === 0) return;
  console.log('\n| model | quant | runtime | weight MiB per token (×Q4_0) | decode t/s (×Q4_0) | bytes/s ×Q4_0 |\n| --- | --- | --- | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
}
