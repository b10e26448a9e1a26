// Where WebGPU has no adapter (no lavapipe for Node's Dawn, a Chromium without WebGPU), a test that needs one
// fails at once with a ResourceError that says so and how to get one, and no suite hangs: every after() copes
// with a before() that failed. Node's case is made real by pointing the Vulkan loader at no driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ResourceError } from '../src/errors';
import { chromiumPath, launchChromium, requireWebGPU } from './helpers/browser';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const NO_DRIVER = '/nonexistent/vulkan-icd.json';

/** Runs node with the project's TypeScript loader and the Vulkan loader limited to a driver that does not exist. */
function nodeWithoutAdapter(args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, VK_ICD_FILENAMES: NO_DRIVER };
  delete env.NODE_TEST_CONTEXT; // a nested `node --test` must report as a top-level run, not to this runner
  // The bound only turns a hang into a failure here; passing does not depend on how fast it is.
  const r = spawnSync(process.execPath, ['--import', './scripts/register.mjs', ...args], { cwd: repoRoot, env, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.error, undefined, `node ${args.join(' ')} did not finish (it hung): ${String(r.error)}\n${r.stdout}\n${r.stderr}`);
  return r;
}

test('Node without an adapter: acquireDevice rejects with a ResourceError naming the setup script and the VK_ICD_FILENAMES that hides the drivers', () => {
  const script = `
    import { acquireDevice } from './src/gpu/device.ts';
    try { await acquireDevice(); console.log(JSON.stringify({ acquired: true })); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
  const r = nodeWithoutAdapter(['--input-type=module', '-e', script]);
  const line = r.stdout.trim().split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `no result printed:\n${r.stdout}\n${r.stderr}`);
  const e = JSON.parse(line) as { name?: string; code?: string; message?: string };
  assert.equal(e.name, 'ResourceError', line);
  assert.equal(e.code, 'resources');
  for (const part of ['No WebGPU adapter', 'lavapipe', 'mesa-vulkan-drivers', 'scripts/setup-webgpu.sh', `VK_ICD_FILENAMES=${NO_DRIVER}`]) {
    assert.ok(e.message!.includes(part), `"${part}" in: ${e.message}`);
  }
});

test('a suite whose before() acquires an adapter fails with the reason instead of hanging (test/hub-large.test.ts)', () => {
  const r = nodeWithoutAdapter(['--test', 'test/hub-large.test.ts']);
  const output = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 1, output);
  assert.match(output, /No WebGPU adapter was found/);
  assert.doesNotMatch(output, /Cannot read properties of undefined/, 'after() must cope with what before() did not make');
  assert.match(output, /# fail 1/);
});

test('Chromium without WebGPU: requireWebGPU rejects with a ResourceError naming the setup script; launchChromium passes it here', async () => {
  const bare = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] }); // no --enable-unsafe-webgpu
  try {
    await assert.rejects(requireWebGPU(bare), (e: unknown) => {
      assert.ok(e instanceof ResourceError, String(e));
      assert.match(e.message, /No WebGPU adapter in Chromium at .*requestAdapter\(\) returned null/);
      assert.match(e.message, /scripts\/setup-webgpu\.sh/);
      return true;
    });
  } finally {
    await bare.close();
  }
  const browser = await launchChromium();
  await browser.close();
});
