// `npm run bench:device` as the GPU machine gets it: the bundle packed by bench/device/pack.mjs, a copy of the
// working tree without node_modules, NODE_PATH unset, no network; here on lavapipe, where the script picks its
// reduced mode (the tiny shape, short prompts, every phase, the long-context case with short lengths). Checks
// that every phase reported, the report's shape (the keys per model, quant and runtime), the
// deterministic fields, and that a run cut short leaves a report of the phases it finished. No speed is asserted
// (targets live in the bench).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/browser';
import { closeLlamaCpp, compareWithLlamaCpp } from './helpers/llama-cpp';
import { gridTolerance } from './helpers/quant-grid';
import { PREFILL_BATCH } from '../src/gpu/profile';
import { openModel } from '../src/model/open';
import { ggmlTypeName } from '../src/model/ggml-types';

const run = promisify(execFile);
let dir = '';
let tree = '';
const bundle = () => join(dir, 'bundle.tar.xz');
const env = (out: string) => {
  const e: NodeJS.ProcessEnv = { ...process.env, BENCH_DEVICE_BUNDLE: bundle(), BENCH_DEVICE_DIR: join(dir, 'device'), OUT: out };
  delete e.NODE_PATH;
  delete e.NODE_OPTIONS;
  return e;
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-bench-device-'));
  // xz level 0: this checks what is packed and that it runs, not the compression.
  const { stdout } = await run(process.execPath, ['bench/device/pack.mjs', '--level', '0', '--out', bundle()], { cwd: repoRoot });
  assert.match(stdout, /MiB \(limit 64 MiB\)/);
  tree = join(dir, 'tree');
  const { stdout: files } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repoRoot, maxBuffer: 1 << 26 });
  await mkdir(tree);
  for (const f of files.split('\0').filter(Boolean)) {
    if (existsSync(join(repoRoot, f))) await cp(join(repoRoot, f), join(tree, f), { recursive: true });
  }
  assert.ok(!existsSync(join(tree, 'node_modules')));
});
after(async () => {
  await closeLlamaCpp();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const comparePhases = (label: string) => [`llama.cpp vulkan ${label}`, `llama.cpp cuda ${label}`, `hearth ${label}`];
// The first file has the long-context case too.
const EXPECTED_PHASES = ['adapter', 'bandwidth', 'write tiny q4_0', ...comparePhases('tiny q4_0'), 'hearth q8 tiny q4_0', ...comparePhases('tiny q4_0 long'),
  'write tiny q4_k_m', ...comparePhases('tiny q4_k_m'), 'hearth laneSteps 1 tiny q4_k_m', 'done'];

test('bench:device, reduced mode on lavapipe from the bundle: every phase reports, with the issue\'s keys', { timeout: 180_000 }, async () => {
  const out = join(dir, 'out');
  await run('bash', ['bench/device/run.sh'], { cwd: tree, env: env(out), maxBuffer: 1 << 24 });
  const report = JSON.parse(readFileSync(join(out, 'bench-device.json'), 'utf8'));
  assert.equal(report.mode, 'reduced');
  assert.equal(report.bundle.matchesTree, true, 'the bundle was built from the tree it runs beside');
  assert.ok(Object.keys(report.bundle.versions).includes('@node-llama-cpp/linux-x64-vulkan'));
  assert.equal(report.complete, true);
  assert.deepEqual(report.phases.map((p: { name: string }) => p.name), EXPECTED_PHASES);
  for (const p of report.phases) assert.equal(p.status, 'ok', `${p.name}: ${p.status} ${p.reason ?? ''}`);

  const profile = report.adapterProfile;
  for (const f of ['shaderF16', 'subgroups', 'timestampQuery']) assert.equal(typeof profile.features[f], 'boolean', f);
  // The software profile's kernels on a CPU adapter, as loadModel picks them.
  assert.deepEqual(profile.kernels, { name: 'software', matvec: 'rows', laneSteps: 1, alignedWeights: false, attention: 'whole', matmul: 'rows', fuseNorm: false, prefillBatch: PREFILL_BATCH, sampling: 'single' });
  const bw = report.readBandwidth;
  assert.ok(bw.perThread > 0 && bw.gridStride > 0);
  assert.equal(bw.best, Math.max(bw.perThread, bw.gridStride));

  assert.deepEqual(report.results.map((r: { quant: string }) => r.quant), ['q4_0', 'q4_k_m']);
  for (const r of report.results) {
    assert.ok(existsSync(join(dir, 'device', 'models')) && r.fileBytes > 0, 'the model is written on the machine');
    const h = r.node;
    assert.deepEqual(h.adapterProfile, profile);
    assert.deepEqual(Object.keys(h.decodeTokensPerSecondByPosition), ['32', '64']);
    for (const v of [...Object.values(h.decodeTokensPerSecondByPosition), h.prefillTokensPerSecond['32'], h.timeToFirstTokenMs]) assert.ok(Number(v) > 0);
    assert.equal(h.decodeTokensPerSecond, h.decodeTokensPerSecondByPosition['32']);
    assert.ok(Number.isInteger(h.dispatchesPerToken) && h.dispatchesPerToken > 0);
    assert.equal(h.submitsPerToken, 1);
    assert.equal(h.hostWaitsPerToken, 0, 'decode is pipelined: no host wait between steps');
    if (profile.features.timestampQuery) {
      assert.equal(h.gpuMsPerKernel.reduce((s: number, k: { dispatches: number }) => s + k.dispatches, 0), h.dispatchesPerToken);
    } else {
      assert.equal(h.gpuMsPerKernel, null);
      assert.match(h.profileSkipped, /timestamp-query/);
    }
    // llama.cpp: measured with ratios, or skipped with the reason (lavapipe: no Vulkan GPU; the bundle has no CUDA build).
    for (const key of ['llamaCppVulkan', 'llamaCppCuda']) {
      const p = h.peers[key];
      assert.ok(p, key);
      if ('skipped' in p) assert.ok(p.skipped.length > 20, p.skipped);
      else assert.ok(p.decodeRatio > 0 && p.prefillRatio > 0 && p.decodeTokensPerSecondByPosition['64'] > 0);
    }
    assert.match(h.peers.llamaCppCuda.skipped ?? '', /64 MiB/);
  }
  // The long-context case, short: prompts of 16 and 48 tokens (prefill and TTFT each), decode after 16 and at 96
  // (the 96-token prompt prefilled first), in a context that holds 96 + 8 decode steps.
  const long = report.longOptions;
  assert.deepEqual([long.promptLengths, long.decodeAt, long.decodeTokens], [[16, 48], [96], 8]);
  assert.ok(long.contextLength >= 96 + 8);
  for (const r of report.results) {
    const cases = r.quant === 'q4_0' ? [[r.node, report.options], [r.long.node, long]] : [[r.node, report.options]];
    assert.equal(r.long === undefined, r.quant !== 'q4_0', 'the long case on the first file only');
    for (const [h, o] of cases) {
      assert.deepEqual(Object.keys(h.prefillTokensPerSecond), o.promptLengths.map(String));
      assert.deepEqual(Object.keys(h.timeToFirstTokenMsByLength), o.promptLengths.map(String));
      assert.deepEqual(Object.keys(h.decodeTokensPerSecondByPosition).map(Number), [o.promptLengths[0], ...o.decodeAt].sort((a, b) => a - b));
      for (const v of [...Object.values(h.prefillTokensPerSecond), ...Object.values(h.timeToFirstTokenMsByLength), ...Object.values(h.decodeTokensPerSecondByPosition)]) {
        assert.ok(Number.isFinite(v) && Number(v) > 0, JSON.stringify(h.timeToFirstTokenMsByLength));
      }
      assert.equal(h.contextLength, o.contextLength);
      assert.ok(Number.isInteger(h.kvCacheBytes) && h.kvCacheBytes > 0 && h.kvCacheBytes < h.gpuBytes);
      for (const key of ['llamaCppVulkan', 'llamaCppCuda']) {
        assert.ok(h.peers[key], `${key} beside the ${o === long ? 'long' : 'main'} case`);
        // A build the main case skipped is not started again for the long one.
        if (o === long && 'skipped' in r.node.peers[key]) assert.ok('skipped' in h.peers[key], key);
      }
    }
  }
  // The variants beside their file's main case (decode after the same prompt length), and in the table: precision
  // 'q8' on the first file, lane runs of one step on the second (the software profile's own laneSteps is 1).
  const [[q8], [lanes]] = report.results.map((r: { variants: unknown[] }) => r.variants);
  assert.deepEqual(report.results.map((r: { variants: unknown[] }) => r.variants.length), [1, 1]);
  assert.equal(q8.name, 'q8');
  assert.equal(q8.node.precision, 'q8');
  assert.equal(q8.defaultValue, report.results[0].node.precision);
  assert.deepEqual([lanes.name, lanes.defaultValue], ['laneSteps 1', '1']);
  for (const v of [q8, lanes]) {
    assert.ok(v.node.decodeTokensPerSecond > 0 && v.decodeRatio > 0);
    assert.deepEqual(Object.keys(v.node.decodeTokensPerSecondByPosition), report.variantOptions[v.name].promptLengths.map(String));
  }
  assert.deepEqual(report.variantOptions['laneSteps 1'].kernels, { laneSteps: 1 });
  assert.deepEqual(report.variantOptions['alignedWeights false'].kernels, { alignedWeights: false }); // measured on GPUs only
  // The targets concern the real lengths (512, 8192, the 8B shape): none has its numbers in this mode.
  assert.deepEqual(report.targets, []);
  const table = readFileSync(join(out, 'bench-device.md'), 'utf8');
  assert.match(table, /\| tiny \| q4_0 \|/);
  assert.match(table, /\| tiny \| q4_0 \| long \| \d+ \(/, 'the lengths table has the long case');
  assert.match(table, /variant ÷ default[\s\S]*\| tiny \| q4_0 \| q8 \| [\d.]+ \| [\d.]+ \(\w+\) \| [\d.]+ \|\n\| tiny \| q4_k_m \| laneSteps 1 \| [\d.]+ \| [\d.]+ \(1\) \| [\d.]+ \|/, 'the variants table');
  assert.match(readFileSync(join(out, 'environment.txt'), 'utf8'), /"node-llama-cpp"/, 'what the machine offers is on record');
});

test('bench:device cut short: the phases it finished are in its JSON', { timeout: 120_000 }, async () => {
  const out = join(dir, 'out-cut');
  const child = spawn('bash', ['bench/device/run.sh'], { cwd: tree, env: env(out), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  // Killed (the whole process group) as soon as the first Hearth phase ends, i.e. when the next one begins.
  await new Promise<void>((resolve) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (/write tiny q4_k_m/.test(stderr)) { process.kill(-child.pid!, 'SIGKILL'); resolve(); }
    });
    child.on('close', () => resolve());
  });
  const report = JSON.parse(readFileSync(join(out, 'bench-device.json'), 'utf8'));
  assert.equal(report.complete, false);
  const names = report.phases.map((p: { name: string }) => p.name);
  assert.deepEqual(names, EXPECTED_PHASES.slice(0, names.length));
  assert.ok(names.includes('hearth tiny q4_0'), names.join(', '));
  assert.ok(report.results[0].node.decodeTokensPerSecond > 0);
});

// The bench's random-weight models: the types llama-quantize would pick, and files llama.cpp reads as Hearth does.
test('bench models: llama-quantize\'s types, and llama.cpp (CPU) and Hearth agree on every quant', { timeout: 300_000 }, async () => {
  const cache = join(dir, 'models');
  process.env.HEARTH_BENCH_CACHE = cache;
  const { benchModelPath } = await import('../bench/model-gen');
  const typesOf = async (path: string) => {
    const opened = await openModel(path);
    try { return Object.fromEntries(opened.file.tensors.map((t) => [t.name, ggmlTypeName(t.type)])); } finally { await opened.close(); }
  };
  // Q4_K_M: the tied embedding (the output matrix) Q6_K; attn_v and ffn_down Q6_K in layers 3 (≥ 7·4/8) and 2
  // ((2 − 0) % 3 = 2) of 4, else Q4_K; Q4_0 keeps the output Q6_K too; Q8_0 all Q8_0; norms F32.
  const t = await typesOf(benchModelPath('tiny', 'q4_k_m'));
  assert.deepEqual([t['token_embd.weight'], t['blk.0.attn_q.weight'], t['blk.0.attn_v.weight'], t['blk.1.ffn_down.weight'], t['blk.2.attn_v.weight'], t['blk.3.ffn_down.weight'], t['blk.0.attn_norm.weight']],
    ['Q6_K', 'Q4_K', 'Q4_K', 'Q4_K', 'Q6_K', 'Q6_K', 'F32']);
  const t0 = await typesOf(benchModelPath('tiny', 'q4_0'));
  assert.deepEqual([t0['token_embd.weight'], t0['blk.0.ffn_up.weight']], ['Q6_K', 'Q4_0']);
  // Rows of 192 (not a multiple of 256): Q4_K → Q5_0, Q6_K → Q8_0; ffn_down's rows of 512 keep Q4_K; q/k/v biases.
  const q = await typesOf(benchModelPath('tiny-qwen', 'q4_k_m'));
  assert.deepEqual([q['token_embd.weight'], q['blk.0.attn_q.weight'], q['blk.0.ffn_down.weight'], q['blk.0.attn_q.bias']], ['Q8_0', 'Q5_0', 'Q4_K', 'F32']);

  // llama.cpp's CPU rounds the activations to its vec_dot_type, Hearth's f32 path does not: the quant grid's
  // bounds for Hearth against llama.cpp on the same quantized file (test/helpers/quant-grid.ts, gridTolerance).
  // A file llama.cpp read differently from Hearth would move logits by O(1).
  const cases = [...(['q4_0', 'q4_k_m', 'q8_0', 'f16'] as const).map((quant) => ['llama', 'tiny', quant] as const), ['qwen2', 'tiny-qwen', 'q4_k_m'] as const];
  for (const [arch, model, quant] of cases) {
    const rel = gridTolerance(arch, quant).quantized;
    const r = await compareWithLlamaCpp(benchModelPath(model, quant), { prompt: 'the the and the', steps: 4, logitTolerance: { rel } });
    assert.ok(r.withinTolerance, `${model} ${quant}: max |Δlogit| ${r.maxAbsDiff} (relative ${r.maxRelDiff}, bound ${rel})`);
    for (const s of r.perStep) if (s.margin > 2 * s.bound) assert.equal(s.hearthToken, s.oracleToken, `${model} ${quant} step ${s.step}`);
  }
});
