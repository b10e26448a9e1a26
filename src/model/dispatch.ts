// Prebuilt compute dispatches: a pipeline (specialised with override constants, compiled once per
// distinct specialisation), its bind group over fixed buffers, and its grid. Everything here runs at
// load; a decode step only replays the dispatches.
import { KernelCache, workgroups } from '../gpu/kernels';
import type { KernelName, WeightDType } from '../gpu/shaders';
import type { Linear, Matrix, Norm } from './weights';

/** A pipeline, its bind group and its grid: one prebuilt dispatch. */
export interface Dispatch { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; x: number }

export function run(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(d.x);
}

/** Makes the dispatches of the kernels in shaders/, buffers bound in binding order. */
export class Dispatcher {
  private readonly kernels: KernelCache;

  constructor(private readonly device: GPUDevice) {
    this.kernels = new KernelCache(device);
  }

  async make(label: string, name: KernelName, constants: Record<string, number>, x: number, buffers: GPUBuffer[], dtype?: WeightDType): Promise<Dispatch> {
    const pipeline = await this.kernels.get(name, { dtype, constants });
    const bindGroup = this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { pipeline, bindGroup, x };
  }

  /** out = W x. */
  matvec(label: string, m: Matrix, input: GPUBuffer, out: GPUBuffer): Promise<Dispatch> {
    return this.make(label, 'matvec', { ROWS: m.rows, COLS: m.cols }, workgroups(m.rows), [m.buffer, input, out], m.dtype);
  }

  /** out = W x, then out += b when the projection has a bias: one or two dispatches. */
  async linear(label: string, l: Linear, input: GPUBuffer, out: GPUBuffer): Promise<Dispatch[]> {
    const product = await this.matvec(label, l.weight, input, out);
    return l.bias ? [product, await this.add(`${label}.bias`, out, l.bias, l.weight.rows)] : [product];
  }

  /** a += b over n elements. */
  add(label: string, a: GPUBuffer, b: GPUBuffer, n: number): Promise<Dispatch> {
    return this.make(label, 'add', { N: n }, workgroups(n), [a, b]);
  }

  /** out = rmsnorm(input) · weight over `rows` rows of n (one workgroup per row; weight shared). */
  rmsnorm(label: string, input: GPUBuffer, weight: GPUBuffer, out: GPUBuffer, n: number, eps: number, rows = 1): Promise<Dispatch> {
    return this.make(label, 'rmsnorm', { N: n, EPS: eps }, rows, [input, weight, out]);
  }

  /** out = layernorm(input) · weight + bias. */
  layernorm(label: string, input: GPUBuffer, norm: Norm, out: GPUBuffer, n: number, eps: number): Promise<Dispatch> {
    if (!norm.bias) throw new Error(`${label}: layer norm needs a bias`); // the tensor check guarantees one
    return this.make(label, 'layernorm', { N: n, EPS: eps }, 1, [input, norm.weight, norm.bias, out]);
  }

  /** x = op(x) in place, elementwise (gelu, softcap, scale). */
  inPlace(label: string, name: 'gelu' | 'softcap' | 'scale', x: GPUBuffer, n: number, constants: Record<string, number> = {}): Promise<Dispatch> {
    return this.make(label, name, { N: n, ...constants }, workgroups(n), [x]);
  }

  /** gate = act(gate) · up in place (swiglu, geglu). */
  gated(label: string, name: 'swiglu' | 'geglu', gate: GPUBuffer, up: GPUBuffer, n: number): Promise<Dispatch> {
    return this.make(label, name, { N: n }, workgroups(n), [gate, up]);
  }
}
