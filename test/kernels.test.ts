// Every WGSL kernel against its CPU twin, on both CPU WebGPU backends this project runs on:
// Node (Dawn on Mesa lavapipe) and headless Chromium (SwiftShader), in a page and in a dedicated Worker.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { chooseProfile, choosePrecision } from '../src/gpu/profile';
import { compileComputePipeline, createKernel, KernelCache, workgroupGrid, workgroups } from '../src/gpu/kernels';
import { shaderSource, kernelNames, mixedQkvKernels, q8Kernels, q8WeightTypes, subgroupKernels, weightKernels, type WeightDType } from '../src/gpu/shaders';
import { alignedDTypes, weightDTypes } from '../src/gpu/quant-types';
import { compactWgsl } from '../scripts/wgsl-raw.mjs';
import { HearthError, InvalidRequestError, ResourceError } from '../src/errors';
import { kernelCases, runKernelCases, type KernelCaseResult } from './kernels/cases';
import { caseShape, chromiumCases, type KernelRun } from './browser/kernels-run';
import { f16ToF32, f32ToF16 } from './reference/f16';
import { launchChromium, openPage, startTestServer, type TestServer } from './helpers/browser';

/** One subtest per case, plus a per-kernel summary of the largest errors as test diagnostics. */
async function reportCases(t: TestContext, where: string, results: KernelCaseResult[], context = () => ''): Promise<void> {
  assert.ok(results.length > 50, `expected the full case list in ${where}, got ${results.length} results`);
  const worst = new Map<string, { abs: number; rel: number }>();
  for (const r of results.filter((x) => !x.skipped)) {
    const kernel = r.name.split(' ').slice(0, r.name.startsWith('matvec') || r.name.startsWith('embedding') ? 2 : 1).join(' ') + (r.name.includes('f16-math') ? ' f16-math' : '');
    const w = worst.get(kernel) ?? { abs: 0, rel: 0 };
    worst.set(kernel, { abs: Math.max(w.abs, r.maxAbsErr), rel: Math.max(w.rel, r.maxRelErr) });
  }
  for (const [kernel, w] of worst) t.diagnostic(`${where} ${kernel}: max abs err ${w.abs.toExponential(2)}, max rel err ${w.rel.toExponential(2)}`);
  const slowest = [...results].sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0)).slice(0, 5);
  t.diagnostic(`${where} slowest cases: ${slowest.map((r) => `${r.name} ${Math.round(r.ms ?? 0)} ms`).join('; ')}`);
  const skipped = results.filter((r) => r.skipped);
  if (skipped.length > 0) t.diagnostic(`${where}: ${skipped.length} cases not applicable (${skipped[0]!.skipped})`);
  for (const r of results) {
    if (r.skipped) {
      await t.test(r.name, { skip: `not applicable in ${where}: ${r.skipped}` }, () => {});
      continue;
    }
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
      if (q8Kernels.has(name)) {
        // The integer-dot kernels read only the types whose preambles give q8_block.
        assert.throws(() => shaderSource(name), InvalidRequestError);
        for (const dtype of ['q4_0', 'q8_0'] as const) assert.match(shaderSource(name, dtype), /alias WeightWords = array<u32>;[\s\S]*fn q8_block[\s\S]*fn block_product[\s\S]*fn main/);
        for (const dtype of ['q4_0_aligned', 'q8_0_aligned'] as const) assert.match(shaderSource(name, dtype), /alias WeightWords = array<vec4<u32>>;[\s\S]*fn q8_block[\s\S]*fn block_product[\s\S]*fn main/);
        assert.throws(() => shaderSource(name, 'f16'), /reads q4_0, q8_0, q4_0_aligned or q8_0_aligned weights, not 'f16'/);
      } else if (weightKernels.has(name)) {
        assert.throws(() => shaderSource(name), InvalidRequestError);
        assert.match(shaderSource(name, 'f16'), /alias WeightWords = array<u32>;[\s\S]*fn main/);
        assert.match(shaderSource(name, 'f32'), /alias WeightWords = array<f32>;[\s\S]*fn main/);
      } else {
        assert.match(shaderSource(name), name === 'sample-wide' ? /fn slice_max[\s\S]*fn draw/ : /fn main/); // sample-wide: its passes' entry points
        assert.throws(() => shaderSource(name, 'f32'), /takes no dtype/);
      }
    }
    assert.deepEqual([...weightKernels].sort(), ['embedding', 'matmul', 'matmul-q8', 'matmul-tiled', 'matvec', 'matvec-q8', 'matvec-q8-subgroup', 'matvec-q8-workgroup', 'matvec-subgroup', 'matvec-workgroup', 'position']);
  });
  test('weight kernels open with the compute-precision preamble; f32 is the default', () => {
    for (const name of q8Kernels) {
      // Integer arithmetic: the f32 preamble whatever the precision.
      assert.equal(shaderSource(name, 'q4_0', 'f16'), shaderSource(name, 'q4_0', 'f32'));
      assert.match(shaderSource(name, 'q4_0'), /^(?![\s\S]*enable f16)[\s\S]*alias Act = f32;/);
      assert.equal(shaderSource(name, 'q8_0').startsWith('enable subgroups;\n'), subgroupKernels.has(name), name); // matvec-q8-subgroup
    }
    for (const name of [...weightKernels].filter((k) => !q8Kernels.has(k))) {
      const f16 = shaderSource(name, 'q4_k', 'f16');
      // `enable f16;` must come before any declaration: only comments and other directives (`enable subgroups;`) precede it.
      assert.match(f16.slice(0, f16.indexOf('enable f16;')), /^(\s*(\/\/.*|enable \w+;)\n)*\s*$/, `${name}: enable f16 must open the module`);
      // The subgroup kernels open with `enable subgroups;`, in either precision; the others never enable it.
      for (const source of [f16, shaderSource(name, 'q4_k')]) assert.equal(source.startsWith('enable subgroups;\n'), subgroupKernels.has(name), name);
      assert.match(f16, /alias Act = f16;[\s\S]*alias WeightWords = array<u32>;[\s\S]*fn main/);
      assert.equal(shaderSource(name, 'q4_k'), shaderSource(name, 'q4_k', 'f32'));
      assert.match(shaderSource(name, 'q4_k'), /^(?![\s\S]*enable f16)[\s\S]*alias Act = f32;/);
    }
    assert.throws(() => shaderSource('matvec', 'f32', 'f64' as never), /Unknown compute precision "f64"/);
  });
  test('a second weight type: the float lane kernels append its preamble and walk under suffixed names and main_qkv_mixed; the rest reject one', () => {
    for (const name of mixedQkvKernels) {
      const mixed = shaderSource(name, 'q4_k', 'f32', 'f16', 'q6_k');
      assert.ok(mixed.startsWith(shaderSource(name, 'q4_k', 'f32', 'f16')), name); // the one-type module, then the second type's part
      assert.match(mixed, /alias WeightWords_second = array<u32>;[\s\S]*fn weight8_second[\s\S]*fn row_sums_second[\s\S]*fn main_qkv_mixed/);
      assert.throws(() => shaderSource(name, 'q4_k', 'f32', 'f32', 'q9' as never), /Unknown second weight dtype "q9"/);
    }
    for (const name of kernelNames.filter((k) => !mixedQkvKernels.has(k))) {
      assert.throws(() => shaderSource(name, weightKernels.has(name) ? (q8Kernels.has(name) ? 'q4_0' : 'f32') : undefined, 'f32', 'f32', 'q6_k'), InvalidRequestError, name);
    }
  });
  test('workgroups rounds up', () => {
    assert.equal(workgroups(1), 1);
    assert.equal(workgroups(64), 1);
    assert.equal(workgroups(65), 2);
    assert.equal(workgroups(152000), 2375);
    assert.equal(workgroups(10, 4), 3);
  });
  test('workgroupGrid lays out grids past the per-dimension limit as equal lines (x, y), and refuses what no grid holds', () => {
    assert.deepEqual(workgroupGrid(100, 65535), [100, 1]);
    assert.deepEqual(workgroupGrid(65535, 65535), [65535, 1]);
    assert.deepEqual(workgroupGrid(65536, 65535), [32768, 2]); // a 262144-row head, four rows a workgroup
    assert.deepEqual(workgroupGrid(18, 5), [5, 4]);
    for (const [groups, limit] of [[65537, 65535], [18, 5], [38, 8], [131071, 65535]]) {
      const [x, y] = workgroupGrid(groups!, limit!);
      assert.ok(x <= limit! && y <= limit! && x * y >= groups! && x * (y - 1) < groups!, `${groups} in ${limit}: ${x} × ${y}`);
    }
    assert.throws(() => workgroupGrid(26, 5), (e: unknown) => e instanceof ResourceError && /26 workgroups exceed this device's grid of 5 × 5/.test(e.message));
  });
});

describe('kernels on Node WebGPU (Dawn)', () => {
  let gpu: AcquiredDevice;
  before(async () => { gpu = await acquireDevice(); });
  after(() => gpu?.device.destroy());

  test('every kernel matches its CPU twin', async (t) => {
    t.diagnostic(`adapter: ${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description}`);
    const results = await runKernelCases(gpu.device);
    // lavapipe has shader-f16: 'f16' can be asked for here, and the f16-arithmetic cases must really run.
    assert.ok(gpu.device.features.has('shader-f16'), 'Node\'s lavapipe adapter is expected to have shader-f16');
    assert.equal(choosePrecision('f16', gpu.adapter, chooseProfile(gpu.adapter)), 'f16');
    const f16 = results.filter((r) => r.name.includes('f16-math'));
    assert.ok(f16.length >= 11 && f16.every((r) => !r.skipped), `f16-arithmetic cases must run on lavapipe: ${f16.length}`);
    await reportCases(t, 'node', results);
  });

  // The bundles carry each .wgsl file compacted (scripts/wgsl-raw.mjs: no comments, indentation or needless spaces);
  // every module as it is built from them must still compile. Shader modules only (the WGSL front end), no pipelines.
  test('every kernel module compacted as the browser bundles carry it compiles', async () => {
    const modules: [string, string][] = [];
    for (const name of kernelNames) {
      const dtypes: (WeightDType | undefined)[] = !weightKernels.has(name) ? [undefined] : q8Kernels.has(name) ? [...q8WeightTypes] : [...weightDTypes, ...alignedDTypes];
      for (const dtype of dtypes) {
        if (subgroupKernels.has(name) && !gpu.device.features.has('subgroups')) continue;
        modules.push([`${name} ${dtype ?? ''}`, compactWgsl(shaderSource(name, dtype, gpu.device.features.has('shader-f16') ? 'f16' : 'f32'))]);
      }
    }
    for (const [label, code] of modules) {
      const info = await gpu.device.createShaderModule({ label, code }).getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      assert.deepEqual(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`), [], label);
    }
    assert.ok(modules.length > 150, `${modules.length} modules`);
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

  test('KernelCache applies its precision to arithmetic weight kernels; lookups and the rest stay f32', async () => {
    const cache = new KernelCache(gpu.device, 'f16');
    assert.equal(cache.precision, 'f16');
    assert.equal((await cache.get('matvec', { dtype: 'q8_0', constants: { ROWS: 64, COLS: 32 } })).label, 'matvec[q8_0 f16-math 64x32]');
    assert.equal((await cache.get('matvec', { dtype: 'q8_0', precision: 'f32', constants: { ROWS: 64, COLS: 32 } })).label, 'matvec[q8_0 64x32]');
    assert.equal((await cache.get('embedding', { dtype: 'q8_0', constants: { DIM: 32 } })).label, 'embedding[q8_0 32]');
    assert.equal((await cache.get('add', { constants: { N: 4 } })).label, 'add[4]');
    assert.equal(new KernelCache(gpu.device).precision, 'f32');
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

  // Chromium runs the first case of each shape (chromiumCases), split between the page (three quarters) and a
  // dedicated Worker (the rest, by a hash of the name); Node runs every case.
  const ranInChromium = new Set<string>();
  for (const where of ['page', 'worker'] as const) {
    test(`${where === 'page' ? 'three quarters of the kernel cases match their CPU twins in a page' : 'the other quarter (by a hash of their names) match their CPU twins in a dedicated Worker: every shape of case ran once in Chromium'}`, { timeout: where === 'page' ? 600_000 : 300_000 }, async (t) => {
      const tab = await openPage(browser, `${server.url}/test/browser/kernels.html?where=${where}`);
      try {
        const run = await tab.page.evaluate(() => (window as Window & { __kernelRun?: Promise<KernelRun> }).__kernelRun ?? null);
        assert.ok(run, `kernels.html did not start a run (window.__kernelRun missing)\n${tab.logText()}`);
        assert.ok(run.ok, `the ${where} run failed: ${run.ok ? '' : run.error}\n${tab.logText()}`);
        t.diagnostic(`adapter: ${run.adapter}, shader-f16: ${run.shaderF16}, profile: ${run.profile}, auto precision: ${run.autoPrecision}`);
        // SwiftShader lacks shader-f16 and runs the software profile: 'auto' must pick f32, and the f16 cases must say they did not run.
        assert.equal(run.shaderF16, false, `expected SwiftShader without shader-f16, got ${run.adapter}`);
        assert.equal(run.profile, 'software');
        assert.equal(run.autoPrecision, 'f32');
        const f16 = run.results.filter((r) => r.name.includes('f16-math'));
        assert.ok(f16.length >= (where === 'page' ? 11 : 1) && f16.every((r) => r.skipped?.includes('shader-f16')), 'f16 cases must be reported as not applicable');
        await reportCases(t, `chromium-${where}`, run.results, () => tab.logText());
        for (const r of run.results) ranInChromium.add(r.name);
        if (where === 'worker') {
          const missing = [...chromiumCases()].filter((name) => !ranInChromium.has(name));
          assert.deepEqual(missing, [], 'every case chosen for Chromium runs there, in the page or the Worker');
          const shapes = (names: Iterable<string>) => new Set([...names].map(caseShape));
          assert.deepEqual(shapes(ranInChromium), shapes(kernelCases().map((c) => c.name)), 'every shape of case (kernel, entry point, options, weight type) runs in Chromium');
          const kernels = (names: Iterable<string>) => new Set([...names].map((n) => n.split(' ')[0]));
          assert.deepEqual(kernels(ranInChromium), kernels(kernelCases().map((c) => c.name)));
          t.diagnostic(`Chromium ran ${ranInChromium.size} of the ${kernelCases().length} cases: the first of each shape`);
        }
      } finally {
        await tab.close();
      }
    });
  }
});
