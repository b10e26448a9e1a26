// Which backend runs a model: WebGPU (Hearth's WGSL) or llama.cpp compiled to WebAssembly (wllama). The choice
// is a pure function of what the environment offers (chooseBackend), so that it is testable with fake adapters;
// probeEnvironment gathers those facts in the worker (or in Node, on the calling thread).
import { UnsupportedError } from '../errors';
import type { Backend, BackendOption } from './backend-option';
import { isSoftwareAdapter } from '../gpu/profile';

export type { BackendOption } from './backend-option';

/** What the adapter says of itself: enough to tell a software (CPU) adapter from a GPU. */
export interface AdapterFacts { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean }

export interface BackendEnvironment {
  /** navigator.gpu exists (in Node: the Dawn package loads). */
  hasWebGPU: boolean;
  /** What requestAdapter() gave; null when it returned null (or there is no WebGPU). */
  adapter: AdapterFacts | null;
  /** The WebAssembly backend can run here: a browser (page or worker) with WebAssembly; wllama is browser-only. */
  canRunWasm: boolean;
}

export interface BackendChoice { backend: Backend; reason: string }

/**
 * 'auto': WebGPU on a hardware adapter; the WebAssembly build where there is no WebGPU, no adapter, or only a
 * software one (llama.cpp's CPU kernels beat WGSL emulated on the CPU). Where the WebAssembly backend cannot run
 * (Node), 'auto' stays on WebGPU whatever the adapter, and an explicit 'wasm' is an UnsupportedError.
 */
export function chooseBackend(option: BackendOption, env: BackendEnvironment): BackendChoice {
  if (option === 'webgpu') return { backend: 'webgpu', reason: 'backend: webgpu was asked for' };
  if (option === 'wasm') {
    if (!env.canRunWasm) throw new UnsupportedError("backend 'wasm' (llama.cpp WebAssembly through wllama) runs in browsers only; in Node Hearth runs on WebGPU (backend 'webgpu' or 'auto')");
    return { backend: 'wasm', reason: 'backend: wasm was asked for' };
  }
  if (!env.canRunWasm) return { backend: 'webgpu', reason: 'the WebAssembly backend runs in browsers only' };
  if (!env.hasWebGPU) return { backend: 'wasm', reason: 'no WebGPU in this browser' };
  if (!env.adapter) return { backend: 'wasm', reason: 'no WebGPU adapter' };
  if (isSoftwareAdapter(env.adapter)) {
    const name = env.adapter.description || env.adapter.architecture || (env.adapter.isFallbackAdapter ? 'fallback adapter' : 'CPU');
    return { backend: 'wasm', reason: `software adapter (${name}): llama.cpp WebAssembly is faster here` };
  }
  return { backend: 'webgpu', reason: 'hardware WebGPU adapter' };
}

/** The facts chooseBackend needs, gathered here (requestAdapter without making a device). */
export async function probeEnvironment(): Promise<BackendEnvironment> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  const canRunWasm = !isNode && typeof WebAssembly === 'object' && typeof Worker !== 'undefined';
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return { hasWebGPU: isNode, adapter: null, canRunWasm };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return { hasWebGPU: true, adapter: null, canRunWasm };
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  return {
    hasWebGPU: true,
    canRunWasm,
    adapter: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      description: info?.description ?? '',
      isFallbackAdapter: (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? false,
    },
  };
}

/** What `hearth inspect` reports: Node runs WebGPU; a browser with this machine's adapter would take `browser`. */
export interface BackendReport { node: 'webgpu'; browser: Backend; reason: string }

/** The browser's 'auto' choice for an adapter known by its name and whether it runs on the CPU (inspect's probe). */
export function backendReport(adapter: string | null, onCpu: boolean | null): BackendReport {
  const facts: AdapterFacts | null = adapter === null ? null : { vendor: '', architecture: '', description: adapter, isFallbackAdapter: onCpu === true };
  const { backend, reason } = chooseBackend('auto', { hasWebGPU: true, adapter: facts, canRunWasm: true });
  return { node: 'webgpu', browser: backend, reason };
}
