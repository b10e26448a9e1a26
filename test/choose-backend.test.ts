// The backend choice (src/wasm/choose-backend.ts) as a pure function of the environment: fake adapters stand
// for the GPUs, software adapters and missing WebGPU that this machine cannot show all at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBackendOption } from '../src/wasm/backend-option';
import { chooseBackend, type AdapterFacts, type BackendEnvironment } from '../src/wasm/choose-backend';
import { InvalidRequestError, UnsupportedError } from '../src/errors';

const adapter = (description: string, extra: Partial<AdapterFacts> = {}): AdapterFacts => ({ vendor: '', architecture: '', description, isFallbackAdapter: false, ...extra });
const browser = (a: AdapterFacts | null, hasWebGPU = true): BackendEnvironment => ({ hasWebGPU, adapter: a, canRunWasm: true });

test("'auto' in a browser: WebGPU on a hardware adapter, wasm without WebGPU, without an adapter, or on a software one", () => {
  assert.deepEqual(chooseBackend('auto', browser(adapter('NVIDIA GeForce RTX 4090', { vendor: 'nvidia' }))), { backend: 'webgpu', reason: 'hardware WebGPU adapter' });
  assert.deepEqual(chooseBackend('auto', browser(null, false)), { backend: 'wasm', reason: 'no WebGPU in this browser' });
  assert.deepEqual(chooseBackend('auto', browser(null)), { backend: 'wasm', reason: 'no WebGPU adapter' });
  for (const [facts, name] of [
    [adapter('SwiftShader Device (Subzero)', { vendor: 'google', architecture: 'swiftshader' }), 'SwiftShader Device (Subzero)'],
    [adapter('llvmpipe (LLVM 15.0.6, 256 bits)', { vendor: 'mesa' }), 'llvmpipe (LLVM 15.0.6, 256 bits)'],
    [adapter('', { vendor: 'mesa', architecture: 'lavapipe' }), 'lavapipe'],
    [adapter('', { isFallbackAdapter: true }), 'fallback adapter'],
  ] as const) {
    const choice = chooseBackend('auto', browser(facts));
    assert.equal(choice.backend, 'wasm', JSON.stringify(facts));
    assert.equal(choice.reason, `software adapter (${name}): llama.cpp WebAssembly is faster here`);
  }
});

test("an explicit backend is taken as asked, whatever the adapter; 'wasm' where it cannot run is an UnsupportedError", () => {
  assert.equal(chooseBackend('webgpu', browser(adapter('SwiftShader'))).backend, 'webgpu');
  assert.equal(chooseBackend('wasm', browser(adapter('NVIDIA GeForce RTX 4090'))).backend, 'wasm');
  const node: BackendEnvironment = { hasWebGPU: true, adapter: adapter('llvmpipe'), canRunWasm: false };
  assert.deepEqual(chooseBackend('auto', node), { backend: 'webgpu', reason: 'the WebAssembly backend runs in browsers only' });
  assert.throws(() => chooseBackend('wasm', node), (e: unknown) => e instanceof UnsupportedError && /browsers only/.test(e.message));
});

test('the backend option is checked: auto, webgpu or wasm (undefined = auto); anything else is an InvalidRequestError', () => {
  assert.equal(checkBackendOption(undefined), 'auto');
  for (const b of ['auto', 'webgpu', 'wasm'] as const) assert.equal(checkBackendOption(b), b);
  for (const bad of ['gpu', 'WASM', '', 1, null]) {
    assert.throws(() => checkBackendOption(bad), (e: unknown) => e instanceof InvalidRequestError && /backend must be one of 'auto', 'webgpu', 'wasm'/.test(e.message), String(bad));
  }
});

test("createEngine checks backend before loading; in Node 'auto' runs WebGPU and says why, 'wasm' is an UnsupportedError", async () => {
  const { createEngine } = await import('../src/index');
  const model = 'public/stories260K.gguf';
  await assert.rejects(createEngine(model, { backend: 'gpu' as never }), (e: unknown) => e instanceof InvalidRequestError && /backend must be one of/.test(e.message));
  await assert.rejects(createEngine(model, { backend: 'wasm' }), (e: unknown) => e instanceof UnsupportedError && /browsers only/.test(e.message));
  const engine = await createEngine(model, { contextLength: 64 });
  try {
    assert.equal(engine.model.backend, 'webgpu');
    assert.equal(engine.model.backendReason, 'the WebAssembly backend runs in browsers only');
  } finally {
    await engine.dispose();
  }
});

test("hearth inspect names the backend: WebGPU in Node, and what a browser's 'auto' would take with this adapter", async () => {
  const { backendReport } = await import('../src/wasm/choose-backend');
  assert.deepEqual(backendReport(null, null), { node: 'webgpu', browser: 'wasm', reason: 'no WebGPU adapter' });
  assert.deepEqual(backendReport('Apple M2', false), { node: 'webgpu', browser: 'webgpu', reason: 'hardware WebGPU adapter' });
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--import', './scripts/register.mjs', 'src/cli.ts', 'inspect', '--model', 'public/stories260K.gguf', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { precision: { onCpu: boolean | null; adapter: string | null }; backend: { node: string; browser: string; reason: string } };
  assert.deepEqual(report.backend, backendReport(report.precision.adapter, report.precision.onCpu));
  if (report.precision.onCpu) assert.match(report.backend.reason, /^software adapter \(.*\): llama\.cpp WebAssembly is faster here$/);
});

test('the WebAssembly backend refuses files over 2 GiB (one ArrayBuffer each) and safetensors repos, naming what to do', async () => {
  const { wasmFileReasons } = await import('../src/wasm/check-backend');
  const part = (name: string, size: number) => ({ name, size, read: async () => new Uint8Array() });
  assert.deepEqual(wasmFileReasons('gguf', [part('a.gguf', 2 ** 31 - 1)]), []);
  assert.deepEqual(wasmFileReasons('gguf', [part('m-00001-of-00002.gguf', 2 ** 30), part('m-00002-of-00002.gguf', 2 ** 30)]), [], 'a split model loads part by part');
  const [big] = wasmFileReasons('gguf', [part('big.gguf', 2 ** 31)]);
  assert.match(big!, /^big\.gguf is over 2 GiB, .*split GGUF \(llama-gguf-split\)/);
  assert.match(wasmFileReasons('safetensors', [])[0]!, /GGUF files only/);
});
