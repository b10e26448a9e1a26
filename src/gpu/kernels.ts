// Compute pipelines for the WGSL kernels, specialised with `override` constants. Pipelines are
// compiled at model load only (15–130 ms each on SwiftShader), and a KernelCache compiles each
// (kernel, dtype, precision, constants) specialisation once.
import { ResourceError } from '../errors';
import { kvCacheKernels, lookupKernels, q8Kernels, shaderSource, weightKernels, type ComputePrecision, type KernelName, type KvCacheType, type WeightDType } from './shaders';

export type { ComputePrecision, KernelName } from './shaders';

export interface KernelOptions {
  /** Weight dtype; required for the weight-reading kernels (embedding, matvec), rejected for the rest. */
  dtype?: WeightDType;
  /** The second matrix's weight dtype of main_qkv_mixed (mixedQkvKernels only). */
  secondDtype?: WeightDType;
  /** Arithmetic of a weight-reading kernel (default 'f32'; 'f16' needs the device feature 'shader-f16'). */
  precision?: ComputePrecision;
  /** The KV cache's element type, for the kernels that touch the cache (kvCacheKernels; default 'f32'; 'f16' needs 'shader-f16'). */
  kvCache?: KvCacheType;
  /** Values for the kernel's `override` declarations (booleans as 0/1). */
  constants?: Record<string, number>;
  /** The kernel's entry point (default 'main'; the weight products also have 'main_qkv' and 'main_glu'). */
  entryPoint?: string;
  /** Debug label; defaults to e.g. `matvec[q8_0 1024x64]` (the constants' values in order), `matvec[q8_0 f16-math 1024x64]` in f16. */
  label?: string;
}

/** Number of workgroups that cover n items, `size` items per workgroup. */
export function workgroups(n: number, size = 64): number {
  return Math.ceil(n / size);
}

/** Most workgroups a wide reduction (argmax.wgsl's partials, sample-wide.wgsl) spreads over: one lane each in its finish. */
const MAX_REDUCTION_PARTS = 256;

/**
 * Workgroups of a wide reduction over n values: about 1024 values (4 per lane of 256) each, so a 152k vocabulary
 * fills ~150 workgroups, at most MAX_REDUCTION_PARTS (each then takes more).
 */
export function reductionParts(n: number): number {
  return Math.max(1, Math.min(MAX_REDUCTION_PARTS, Math.ceil(n / 1024)));
}

/** Rows per workgroup of the one-token products whose lanes share rows (common/matvec-lanes.wgsl's ROWS_PER_WORKGROUP). */
const LANE_ROWS_PER_WORKGROUP = 4;

/** The (max, index) partials an output head of `rows` rows writes in its epilogue (main_argmax): one per lane workgroup. */
export function headArgmaxParts(rows: number): number {
  return workgroups(rows, LANE_ROWS_PER_WORKGROUP);
}

/**
 * The (x, y) grid of `groups` workgroups on a device that allows `maxPerDimension` per dimension: [groups, 1]
 * when that fits, else the fewest lines of equal width that hold them (the kernels number their workgroups
 * x + y · width, and those past the work write nothing).
 */
export function workgroupGrid(groups: number, maxPerDimension: number): [number, number] {
  if (groups <= maxPerDimension) return [groups, 1];
  const lines = Math.ceil(groups / maxPerDimension);
  if (lines > maxPerDimension) throw new ResourceError(`${groups} workgroups exceed this device's grid of ${maxPerDimension} × ${maxPerDimension}.`);
  return [Math.ceil(groups / lines), lines];
}

/** The weight types of a kernel's labels: its dtype, and a second one's after '+'. */
const weightTypes = ({ dtype, secondDtype }: KernelOptions) => (secondDtype ? `${dtype}+${secondDtype}` : dtype);

function kernelLabel(name: KernelName, opts: KernelOptions): string {
  if (opts.label) return opts.label;
  const values = Object.values(opts.constants ?? {}).join('x');
  const inside = [weightTypes(opts), opts.precision === 'f16' ? 'f16-math' : '', opts.kvCache === 'f16' ? 'f16-kv' : '', values].filter((s) => s).join(' ');
  const entry = opts.entryPoint && opts.entryPoint !== 'main' ? `.${opts.entryPoint}` : '';
  return `${name}${entry}[${inside}]`;
}

/** Creates the pipeline for one specialisation of a kernel (layout 'auto'); `module`: the kernel's module, if made already. */
export async function createKernel(device: GPUDevice, name: KernelName, opts: KernelOptions = {}, module?: GPUShaderModule): Promise<GPUComputePipeline> {
  return compileComputePipeline(device, shaderSource(name, opts.dtype, opts.precision, opts.kvCache, opts.secondDtype), kernelLabel(name, opts), opts.constants ?? {}, opts.entryPoint, module);
}

/**
 * Compiles WGSL into a compute pipeline. On failure the error carries the compiler's own messages with
 * line:column and the offending source line, which a bare GPUPipelineError does not always include.
 */
export async function compileComputePipeline(
  device: GPUDevice,
  code: string,
  label: string,
  constants: Record<string, number>,
  entryPoint = 'main',
  /** The module of `code`, when the caller keeps one per source (its specialisations share it). */
  module = device.createShaderModule({ label, code }),
): Promise<GPUComputePipeline> {
  try {
    return await device.createComputePipelineAsync({
      label,
      layout: 'auto',
      compute: { module, entryPoint, constants },
    });
  } catch (cause) {
    let details = '';
    try {
      details = formatCompilationInfo(await module.getCompilationInfo(), code);
    } catch {
      // getCompilationInfo itself failed (device lost): the pipeline error below is all there is.
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ResourceError(
      `Could not compile the WebGPU kernel ${label}: ${reason}${details ? `\n${details}` : ''}\n` +
        'This is a bug in Hearth or in the browser\'s WebGPU implementation; please report it with the message above.',
      { cause },
    );
  }
}

function formatCompilationInfo(info: GPUCompilationInfo, code: string): string {
  const lines = code.split('\n');
  return info.messages
    .filter((m) => m.type !== 'info')
    .map((m) => {
      const where = m.lineNum > 0 ? `${m.lineNum}:${m.linePos}` : '?';
      const text = m.lineNum > 0 ? `\n    | ${lines[m.lineNum - 1]?.trim() ?? ''}` : '';
      return `  ${m.type} at ${where}: ${m.message}${text}`;
    })
    .join('\n');
}

/**
 * Compiles each (kernel, entry point, dtype, precision, KV cache type, constants) specialisation once per device. The cache's
 * precision, chosen once at load, applies to every weight-reading kernel (those in `weightKernels`, whatever
 * is added later) unless a request names its own; lookups (`lookupKernels`) default to f32, and the kernels
 * that read no weights always compute in f32.
 */
export class KernelCache {
  readonly #device: GPUDevice;
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  /** One shader module per source (kernel, dtype, precision): its specialisations and entry points share it. */
  readonly #modules = new Map<string, GPUShaderModule>();
  readonly precision: ComputePrecision;

  constructor(device: GPUDevice, precision: ComputePrecision = 'f32') {
    this.#device = device;
    this.precision = precision;
  }

  get(name: KernelName, opts: KernelOptions = {}): Promise<GPUComputePipeline> {
    const constants = Object.entries(opts.constants ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const precision = weightKernels.has(name) ? opts.precision ?? (lookupKernels.has(name) || q8Kernels.has(name) ? 'f32' : this.precision) : undefined;
    const kvCache = kvCacheKernels.has(name) ? opts.kvCache ?? 'f32' : opts.kvCache; // shaderSource rejects 'f16' for the rest
    const key = JSON.stringify([name, opts.entryPoint ?? 'main', opts.dtype ?? null, opts.secondDtype ?? null, precision ?? null, kvCache ?? null, constants]);
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      const source = JSON.stringify([name, opts.dtype ?? null, opts.secondDtype ?? null, precision ?? null, kvCache ?? null]);
      let module = this.#modules.get(source);
      if (!module) {
        const inside = [weightTypes(opts), opts.dtype && precision === 'f16' ? 'f16-math' : '', kvCache === 'f16' ? 'f16-kv' : ''].filter((s) => s).join(' ');
        module = this.#device.createShaderModule({ label: `${name}${inside ? `[${inside}]` : ''}`, code: shaderSource(name, opts.dtype, precision, kvCache, opts.secondDtype) });
        this.#modules.set(source, module);
      }
      pipeline = createKernel(this.#device, name, { ...opts, precision, kvCache }, module);
      // A failed compile is not cached, so the error is reported again rather than silently reused.
      pipeline.catch(() => this.#pipelines.delete(key));
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Number of distinct specialisations requested so far. */
  get size(): number {
    return this.#pipelines.size;
  }
}
