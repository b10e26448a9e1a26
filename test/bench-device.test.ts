// `npm run bench:device` as the GPU machine gets it: the bundle packed by bench/device/pack.mjs, a copy of the
// working tree without node_modules, NODE_PATH unset, no network; here on lavapipe, where the script picks its
// reduced mode (the tiny shape, short prompts, every phase). Checks that every phase reported, the report's
// shape (the keys per model, quant and runtime), the deterministic fields, and that a run cut short
// leaves a report of the phases it finished. No speed is asserted (targets live in the bench).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/browser';

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
after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

const EXPECTED_PHASES = ['adapter', 'bandwidth', ...['q4_0', 'q4_k_m'].flatMap((q) => [`write tiny ${q}`, `llama.cpp vulkan tiny ${q}`, `llama.cpp cuda tiny ${q}`, `hearth tiny ${q}`]), 'done'];

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
  assert.equal(profile.onCpu, true);
  for (const f of ['shaderF16', 'subgroups', 'timestampQuery']) assert.equal(typeof profile.features[f], 'boolean', f);
  assert.deepEqual(profile.kernels, { splitAttention: false, fuseNorm: false, subgroupMatvec: false }); // CPU kernels on a CPU adapter
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
    assert.equal(h.hostWaitsPerToken, 1, 'one readback of the token per decode step');
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
  assert.match(readFileSync(join(out, 'bench-device.md'), 'utf8'), /\| tiny \| q4_0 \|/);
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
