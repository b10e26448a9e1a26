// `npm run bench -- --quick --json` on stories260K in Node, as a user runs it: one JSON object on stdout with the
// issue's keys, and the fields that do not depend on speed checked against what they must be — the decode
// step's dispatch count from the model's structure, one submit per token, GPU bytes equal to the loader's
// estimate, weight bytes per token from the file's tensor table. No speed is asserted (targets live in the bench).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/browser';
import { openModel } from '../src/model/open';
import { estimateGpuMemory } from '../src/model/memory';

const run = promisify(execFile);

test('bench --quick --json on stories260K (Node, with node-llama-cpp): the report shape and its deterministic fields', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-'));
  try {
    const { stdout } = await run(process.execPath, [
      '--import', './scripts/register.mjs', 'bench/bench.ts',
      '--models', 'stories', '--quants', 'q8_0', '--runtimes', 'node', '--quick', '--prompts', '32,48', '--decode-at', '64', '--tokens', '8', '--threads', '1', '--json', '--out', join(dir, 'run.json'),
    ], { cwd: repoRoot, maxBuffer: 1 << 24 });
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))); // Dawn may print warnings first
    assert.equal(report.results.length, 1);
    const r = report.results[0];
    assert.equal(r.model, 'stories');
    assert.equal(r.quant, 'q8_0');
    for (const key of ['decodeTokensPerSecond', 'prefillTokensPerSecond', 'rooflineFraction', 'llamaCppDecodeTokensPerSecond', 'decodeRatioVsLlamaCpp']) {
      assert.ok(Number.isFinite(r[key]) && r[key] > 0, `${key} = ${r[key]}`);
    }
    assert.ok('wllamaDecodeTokensPerSecond' in r && 'decodeRatioVsWllama' in r, 'the wllama keys are there (null without Chromium)');
    assert.ok(report.readBandwidthBytesPerSecond.node > 0);
    // The roofline's ceiling is the faster of the two read kernels (per-thread runs, coalesced grid-stride).
    const kernels = report.readBandwidthKernels;
    assert.ok(kernels.perThread > 0 && kernels.gridStride > 0);
    assert.equal(report.readBandwidthBytesPerSecond.node, Math.max(kernels.perThread, kernels.gridStride));
    // The device asks for what users' devices get, and the profile says what the adapter has.
    assert.deepEqual(r.node.adapterProfile, report.adapterProfile);
    assert.equal(typeof report.adapterProfile.features.subgroups, 'boolean');
    assert.deepEqual(Object.keys(r.decodeTokensPerSecondByPosition), ['32', '64']);
    // By prompt length and decode position, Hearth's and llama.cpp's, and Hearth ÷ llama.cpp.
    const cpu = r.peers.llamaCppCpu;
    for (const [name, m] of Object.entries({
      timeToFirstTokenMsByLength: r.timeToFirstTokenMsByLength, prefillTokensPerSecondByLength: r.prefillTokensPerSecondByLength,
      prefillRatioVsLlamaCppByLength: r.prefillRatioVsLlamaCppByLength, peerTimeToFirstTokenMsByLength: cpu.timeToFirstTokenMsByLength,
      peerPrefillRatioByLength: cpu.prefillRatioByLength,
    })) {
      assert.deepEqual(Object.keys(m), ['32', '48'], name);
      for (const v of Object.values(m)) assert.ok(Number.isFinite(v) && Number(v) > 0, `${name}: ${JSON.stringify(m)}`);
    }
    assert.deepEqual(r.prefillTokensPerSecondByLength, r.node.prefillTokensPerSecond);
    assert.deepEqual(r.prefillRatioVsLlamaCppByLength, cpu.prefillRatioByLength);
    for (const m of [r.decodeRatioVsLlamaCppByPosition, cpu.decodeRatioByPosition]) {
      assert.deepEqual(Object.keys(m), ['32', '64']);
      for (const v of Object.values(m)) assert.ok(Number.isFinite(v) && Number(v) > 0, JSON.stringify(m));
    }
    assert.ok(cpu.contextLength >= report.options.contextLength, 'llama.cpp\'s context holds the longest decode position');
    assert.ok(Array.isArray(report.targets), 'the targets are in the report (none has its numbers here)');
    assert.equal(r.hostWaitsPerToken, 0, 'decode is pipelined: a step is submitted before the id of the one before is read');
    assert.equal(r.peers.llamaCppCpu.decodeRatio, r.decodeRatioVsLlamaCpp);

    const opened = await openModel(r.file);
    const config = opened.readConfig();
    const tensors = opened.file.tensors;
    await opened.close();
    // 'auto' on this CPU adapter, for a file of Q8_0 matrices: precision 'q8'.
    assert.equal(r.node.precision, 'q8');
    // Embedding, then per layer: attn_norm, quantize, q+k+v (rope and the K/V cache write in its epilogue), attention,
    // quantize, o (+ the residual add), ffn_norm, quantize, gate+up with swiglu, down (+ the residual add); then
    // output_norm, quantize, output, argmax. q8 quantizes the input of each group of Q8_0 products first (ffn_down,
    // 172 columns, is F16 in this file: a float product); the norms stay dispatches of their own on this CPU adapter
    // (fuseNorm's default).
    assert.equal(r.dispatchesPerToken, 1 + 10 * config.blockCount + 4);
    assert.equal(r.submitsPerToken, 1);
    const memory = estimateGpuMemory(config, tensors, report.options.contextLength, { precision: 'q8' });
    assert.equal(r.gpuBytes, memory.total);
    assert.equal(r.contextLength, report.options.contextLength);
    assert.equal(r.kvCacheBytes, memory.kvCache, 'the KV cache is the loaded context\'s, as the estimate counts it');
    const tied = !tensors.some((t) => t.name === 'output.weight');
    const weightBytes = tensors.filter((t) => tied || t.name !== 'token_embd.weight').reduce((s, t) => s + t.byteLength, 0);
    assert.equal(r.node.weightBytesPerToken, weightBytes);
    assert.equal(r.rooflineFraction, Math.round((1000 * weightBytes * r.decodeTokensPerSecond) / report.readBandwidthBytesPerSecond.node) / 1000);
    if (r.node.profile) {
      // Every dispatch of the step is in the profile, grouped by kernel.
      assert.equal(r.node.profile.kernels.reduce((s: number, k: { dispatches: number }) => s + k.dispatches, 0), r.dispatchesPerToken);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// The report's targets (bench/targets.ts): checked on whatever numbers a run has, never asserted on a real run.
test('bench targets: each is checked on the runs that have its numbers, pass or fail by its threshold', async () => {
  const { checkTargets } = await import('../bench/targets');
  type Run = Parameters<typeof checkTargets>[0][number];
  const run = (model: string, hearth: Record<string, unknown>, peers: Run['peers'] = {}): Run => ({ model, quant: 'q4_0', hearth: hearth as unknown as Run['hearth'], peers });
  const vulkan = { backend: 'vulkan' as const, decodeRatio: 1.2, prefillRatioByLength: { 512: 0.9, 4096: 1.5 } } as unknown as Run['peers']['llamaCppVulkan'];
  const checks = checkTargets([
    run('llama-3.1-8b', { timeToFirstTokenMsByLength: { 512: 420 }, decodeTokensPerSecondByPosition: { 128: 100, 1024: 90 } }, { llamaCppVulkan: vulkan }),
    // The same file's long case: decode at 8192 is here; its TTFT does not replace the first run's.
    run('llama-3.1-8b', { timeToFirstTokenMsByLength: { 512: 900 }, decodeTokensPerSecondByPosition: { 128: 100, 8192: 60 } }),
    // Not the 8B shape: its TTFT is not a target; a skipped peer has no ratios.
    run('llama-3.2-1b', { timeToFirstTokenMsByLength: { 512: 900 }, decodeTokensPerSecondByPosition: { 128: 200, 8192: 150 } }, { llamaCppVulkan: { backend: 'vulkan', skipped: 'no GPU' } }),
  ]);
  const got = checks.map((c) => [c.target, c.model, c.value, c.pass]);
  assert.deepEqual(got, [
    ['decodeVsLlamaCppVulkan', 'llama-3.1-8b', 1.2, true],
    ['prefill512VsLlamaCppVulkan', 'llama-3.1-8b', 0.9, false],
    ['decode8192VsDecode128', 'llama-3.1-8b', 0.6, false],
    ['decode8192VsDecode128', 'llama-3.2-1b', 0.75, true],
    ['timeToFirstToken512Ms', 'llama-3.1-8b', 420, true],
  ]);
});
