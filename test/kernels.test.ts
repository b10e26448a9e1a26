// Every WGSL kernel against its CPU twin, on both CPU WebGPU backends this project runs on:
// Node (Dawn on Mesa lavapipe) and headless Chromium (SwiftShader), in a page and in a dedicated Worker.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { compileComputePipeline, createKernel, KernelCache, workgroups } from '../src/gpu/kernels';
import { shaderSource, kernelNames, weightKernels } from '../src/gpu/shaders';
import { HearthError, InvalidRequestError, ResourceError } from '../src/errors';
import { runKernelCases, type KernelCaseResult } from './kernels/cases';
import type { KernelRun } from './browser/kernels-run';
import { f16ToF32, f32ToF16 } from './reference/f16';
import { launchChromium, openPage, startTestServer, type TestServer } from './helpers/browser';

/** One subtest per case, plus a per-kernel summary of the largest errors as test diagnostics. */
async function reportCases(t: TestContext, where: string, results: KernelCaseResult[], context = () => ''): Promise<void> {
  assert.ok(results.length > 50, `expected the full case list in ${where}, got ${results.length} results`);
  const worst = new Map<string, { abs: number; rel: number }>();
  for (const r of results) {
    const kernel = r.name.split(' ').slice(0, r.name.startsWith('matvec') || r.name.startsWith('embedding') ? 2 : 1).join(' ');
    const w = worst.get(kernel) ?? { abs: 0, rel: 0 };
    worst.set(kernel, { abs: Math.max(w.abs, r.maxAbsErr), rel: Math.max(w.rel, r.maxRelErr) });
  }
  for (const [kernel, w] of worst) t.diagnostic(`${where} ${kernel}: max abs err ${w.abs.toExponential(2)}, max rel err ${w.rel.toExponential(2)}`);
  const slowest = [...results].sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0)).slice(0, 5);
  t.diagnostic(`${where} slowest cases: ${slowest.map((r) => `${r.name} ${Math.round(r.ms ?? 0)} ms`).join('; ')}`);
  for (const r of results) {
    await t.test(r.name, () => {
      assert.ok(r.ok, `${r.name} in ${where}: max abs err ${r.maxAbsErr}, max rel err ${r.maxRelErr} ` +
        `(allowed |gpu − cpu| ≤ ${r.atol} + ${r.rtol}·|cpu|); ${r.detail}\n${context()}`);
    });
  }
}

describe('f16 reference codec', () => {
  test('decodes and re-encodes every non-NaN f16 exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = f16ToF32(bits);
      if (Number.isNaN(value)) continue;
      assert.equal(f32ToF16(value), bits, `f16 0x${bits.toString(16)} = ${value}`);
    }
  });
  test('rounds to nearest, ties to even, and overflows to infinity', () => {
    assert.equal(f32ToF16(1), 0x3c00);
    assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00); // tie → even (down)
    assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
    assert.equal(f32ToF16(1 + 2 ** -11 + 2 ** -20), 0x3c01);
    assert.equal(f32ToF16(1 / 3), 0x3555);
    assert.equal(f32ToF16(-2), 0xc000);
    assert.equal(f32ToF16(65504), 0x7bff);
    assert.equal(f32ToF16(65519), 0x7bff);
    assert.equal(f32ToF16(65520), 0x7c00);
    assert.equal(f32ToF16(-1e9), 0xfc00);
    assert.equal(f32ToF16(2 ** -24), 0x0001); // smallest subnormal
    assert.equal(f32ToF16(2 ** -25), 0x0000); // tie → even (zero)
    assert.equal(f32ToF16(3 * 2 ** -25), 0x0002); // tie → even (up)
    assert.equal(f32ToF16(2 ** -14 - 2 ** -25), 0x0400); // rounds up into the normals
    assert.equal(f32ToF16(-0), 0x8000);
    assert.ok(Number.isNaN(f16ToF32(f32ToF16(NaN))));
  });
});

describe('shader sources', () => {
  test('weight kernels require a dtype; the others reject one', () => {
    for (const name of kernelNames) {
      if (weightKernels.has(name)) {
        assert.throws(() => shaderSource(name), InvalidRequestError);
        assert.match(shaderSource(name, 'f16'), /alias WeightWords = array<u32>;[\s\S]*fn main/);
        assert.match(shaderSource(name, 'f32'), /alias WeightWords = array<f32>;[\s\S]*fn main/);
      } else {
        assert.match(shaderSource(name), /fn main/);
        assert.throws(() => shaderSource(name, 'f32'), /takes no dtype/);
      }
    }
    assert.deepEqual([...weightKernels].sort(), ['embedding', 'matvec', 'position']);
  });
  test('workgroups rounds up', () => {
    assert.equal(workgroups(1), 1);
    assert.equal(workgroups(64), 1);
    assert.equal(workgroups(65), 2);
    assert.equal(workgroups(152000), 2375);
    assert.equal(workgroups(10, 4), 3);
  });
});

describe('kernels on Node WebGPU (Dawn)', () => {
  let gpu: AcquiredDevice;
  before(async () => { gpu = await acquireDevice(); });
  after(() => gpu?.device.destroy());

  test('every kernel matches its CPU twin', async (t) => {
    t.diagnostic(`adapter: ${gpu.adapterInfo.vendor} ${gpu.adapterInfo.architecture} ${gpu.adapterInfo.description}`);
    await reportCases(t, 'node', await runKernelCases(gpu.device));
  });

  test('a WGSL error names the kernel, the line and the compiler message', async () => {
    const code = '@compute @workgroup_size(64)\nfn main() {\n  let x: f32 = undefined_thing;\n}\n';
    await assert.rejects(compileComputePipeline(gpu.device, code, 'broken[test]', {}), (e: unknown) => {
      assert.ok(e instanceof ResourceError, String(e));
      assert.match(e.message, /broken\[test\]/);
      assert.match(e.message, /error at 3:\d+: .*undefined_thing/);
      assert.match(e.message, /\| let x: f32 = undefined_thing;/);
      return true;
    });
  });

  test('a missing or unknown override is reported with the kernel label', async () => {
    await assert.rejects(createKernel(gpu.device, 'add', {}), (e: unknown) => e instanceof HearthError && /add\[\]/.test(e.message));
    await assert.rejects(createKernel(gpu.device, 'add', { constants: { N: 4, NOT_AN_OVERRIDE: 1 } }), /add\[4x1\]/);
  });

  test('KernelCache compiles each specialisation once, whatever the constants order', async () => {
    const cache = new KernelCache(gpu.device);
    const a = cache.get('matvec', { dtype: 'f16', constants: { ROWS: 128, COLS: 64 } });
    const b = cache.get('matvec', { dtype: 'f16', constants: { COLS: 64, ROWS: 128 } });
    const c = cache.get('matvec', { dtype: 'f32', constants: { ROWS: 128, COLS: 64 } });
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.equal((await a).label, 'matvec[f16 128x64]');
    assert.equal(cache.size, 2);
    await c;
  });
});

describe('kernels in headless Chromium (SwiftShader)', () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const where of ['page', 'worker'] as const) {
    test(`every kernel matches its CPU twin in a ${where === 'page' ? 'page' : 'dedicated Worker'}`, { timeout: 180_000 }, async (t) => {
      const tab = await openPage(browser, `${server.url}/test/browser/kernels.html?where=${where}`);
      try {
        const run = await tab.page.evaluate(() => (window as Window & { __kernelRun?: Promise<KernelRun> }).__kernelRun ?? null);
        assert.ok(run, `kernels.html did not start a run (window.__kernelRun missing)\n${tab.logText()}`);
        assert.ok(run.ok, `the ${where} run failed: ${run.ok ? '' : run.error}\n${tab.logText()}`);
        t.diagnostic(`adapter: ${run.adapter}`);
        await reportCases(t, `chromium-${where}`, run.results, () => tab.logText());
      } finally {
        await tab.close();
      }
    });
  }
});
