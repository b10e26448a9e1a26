// npm run bench [-- --models stories,random] [--quants q4_0,q8_0,f16[,q2_k,q3_k,iq4_nl,iq4_xs]] [--runtimes node,chromium] [--quick]
//   [--prompts 128,512] [--no-peers] [--no-profile] [--no-demo] [--threads n] [--tokens n] [--runs n] [--precision auto|f16|f32|q8] [--json]
// Hearth side by side with llama.cpp on the same GGUF in the same run: in Node (Dawn on lavapipe) against
// node-llama-cpp (native, CPU), and in Chromium (SwiftShader) against wllama (WebAssembly). Models: stories260K
// (test/fixtures) and a random-weight Llama of dim 768 × 12 layers, vocab 32000 (bench/model-gen.ts,
// written once into node_modules/.cache/hearth-bench). `--json` prints one JSON object and nothing else on
// stdout. With Chromium it also times the built chat app's start-up on its embedded model (bench/demo-startup.ts).
// Speed targets live here and in the README, never in tests.
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireBenchDevice, benchPrompt, measureHearth, measureReadBandwidth, round, type HearthMetrics, type HearthRunOptions } from './hearth-run';
import { measureLlamaCpp, type LlamaCppMetrics } from './llama-cpp-run';
import { ALL_BENCH_QUANTS, BENCH_QUANTS, cacheDir, randomLlamaPath, repoRoot, type BenchQuant } from './model-gen';
import type { EngineStreamingMetrics, WllamaMetrics } from './browser/page';
import type { DemoStartupMetrics } from './demo-startup';
import { openModel } from '../src/model/open';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'stories,random' },
    quants: { type: 'string', default: BENCH_QUANTS.join(',') },
    runtimes: { type: 'string', default: 'node,chromium' },
    quick: { type: 'boolean', default: false },
    prompts: { type: 'string' },
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
for (const q of quants) if (!ALL_BENCH_QUANTS.includes(q)) throw new Error(`--quants: ${q} is not one of ${ALL_BENCH_QUANTS.join(', ')}`);
for (const m of models) if (!['stories', 'random'].includes(m)) throw new Error(`--models: ${m} is not stories or random`);
const quick = values.quick!;
const options: HearthRunOptions = {
  promptLengths: list(values.prompts ?? (quick ? '128' : '128,512')).map(Number),
  decodeTokens: Number(values.tokens ?? (quick ? 32 : 128)),
  runs: Number(values.runs ?? (quick ? 1 : 2)),
  contextLength: 1024,
  precision: values.precision as HearthRunOptions['precision'],
  profile: !values['no-profile'],
};
const peers = !values['no-peers'];
/** CPU threads of both llama.cpp peers (on a busy machine, fewer threads than cores can be faster: they spin-wait). */
const threads = Number(values.threads ?? cpus().length);
const log = (msg: string) => { if (!values.json) console.error(msg); else process.stderr.write(''); };

const fixtureModels = resolve(repoRoot, 'test', 'fixtures', 'models');
function modelPath(model: string, quant: BenchQuant): string {
  if (model === 'random') return randomLlamaPath(quant, log);
  const path = resolve(fixtureModels, 'stories260K', `stories260K-${quant.toUpperCase()}.gguf`);
  if (!BENCH_QUANTS.includes(quant)) throw new Error(`stories260K has no ${quant.toUpperCase()} fixture: bench ${quant} on --models random`);
  if (!existsSync(path)) throw new Error(`${path} is missing: stories260K's quantized files are test fixtures (test/fixtures/models)`);
  return path;
}

type RuntimeResult = HearthMetrics & { rooflineFraction: number } & Record<string, unknown>;
interface Result {
  model: string; quant: BenchQuant; file: string; fileBytes: number;
  node?: RuntimeResult & { llamaCpp?: LlamaCppMetrics; decodeRatioVsLlamaCpp?: number; prefillRatioVsLlamaCpp?: number };
  chromium?: RuntimeResult & { wllama?: WllamaMetrics; decodeRatioVsWllama?: number; prefillRatioVsWllama?: number; engineStreaming?: EngineStreamingMetrics };
  [headline: string]: unknown;
}

/** Prefill speed of the longest prompt measured (the headline prefill number). */
const prefillOf = (m: { prefillTokensPerSecond: Record<string, number> }) => m.prefillTokensPerSecond[String(Math.max(...options.promptLengths))] ?? 0;
/** a / b to 3 significant digits (ratios far below 1 stay readable). */
const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toPrecision(3)) : null);
const roofline = (m: HearthMetrics, bandwidth: number) => round((m.weightBytesPerToken * m.decodeTokensPerSecond) / bandwidth, 3);

const jobs: { model: string; quant: BenchQuant; path: string }[] = [];
for (const model of models) for (const quant of quants) jobs.push({ model, quant, path: modelPath(model, quant) });
const results: Result[] = jobs.map(({ model, quant, path }) => ({ model, quant, file: path, fileBytes: statSync(path).size }));
const bandwidth: Record<string, number> = {};
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
      llamaCppDecodeTokensPerSecond: r.node?.llamaCpp?.decodeTokensPerSecond ?? null,
      decodeRatioVsLlamaCpp: r.node?.decodeRatioVsLlamaCpp ?? null,
      rooflineFraction: h.rooflineFraction,
      workerStreamingRatio: r.chromium?.engineStreaming?.workerRatio ?? null,
      dispatchesPerToken: h.dispatchesPerToken,
      submitsPerToken: h.submitsPerToken,
      gpuBytes: h.gpuBytes,
      headlineRuntime: r.chromium ? 'chromium' : 'node',
    });
  }

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(),
    /** 1, 5 and 15 minute load averages at the end of the run: other jobs on the machine slow every number. */
    loadAverage: loadavg().map((x) => round(x, 2)), versions,
  };
  return { machine, options: { ...options, quick, peers, peerThreads: threads }, readBandwidthBytesPerSecond: bandwidth, demoStartup, results };
}

/** Writes the report so far to --out (a long run that is stopped keeps what it measured). */
function save(): void {
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(buildReport(), null, 2));
}

if (runtimes.includes('node')) {
  const gpu = await acquireBenchDevice();
  bandwidth.node = await measureReadBandwidth(gpu.device);
  log(`node: ${gpu.adapterInfo.description || gpu.adapterInfo.vendor}, read kernel ${(bandwidth.node / 1e9).toFixed(2)} GB/s`);
  for (const r of results) {
    log(`node: hearth ${r.model} ${r.quant}`);
    const m = await measureHearth(gpu, r.file, options);
    const node: Result['node'] = { ...m, rooflineFraction: roofline(m, bandwidth.node) };
    if (peers) {
      log(`node: llama.cpp ${r.model} ${r.quant}`);
      const opened = await openModel(r.file);
      const prompts = options.promptLengths.map((n, i) => benchPrompt(opened.tokenizer, n, i % 2 ? 'and' : 'the').ids);
      await opened.close();
      node.llamaCpp = await measureLlamaCpp(r.file, prompts, options.decodeTokens, options.contextLength, threads);
      node.decodeRatioVsLlamaCpp = ratio(m.decodeTokensPerSecond, node.llamaCpp.decodeTokensPerSecond) ?? undefined;
      node.prefillRatioVsLlamaCpp = ratio(prefillOf(m), prefillOf(node.llamaCpp)) ?? undefined;
    }
    r.node = node;
    save();
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
  const lengths = options.promptLengths;
  const header = ['model', 'quant', 'runtime', 'load ms', 'compile ms', 'TTFT ms', ...lengths.map((n) => `prefill ${n} t/s`), 'decode t/s', 'peer decode', 'decode ×peer', 'prefill ×peer', 'roofline', 'disp/submit per tok', 'GPU MiB', 'heap MiB'];
  const rows: string[][] = [];
  for (const r of rep.results) {
    for (const [runtime, h, peer] of [['node', r.node, r.node?.llamaCpp], ['chromium', r.chromium, r.chromium?.wllama]] as const) {
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
  console.log('(prefill: Hearth (peer) tokens/s; ratios are Hearth / peer)');
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
