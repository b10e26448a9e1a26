// Prebuilt compute dispatches: a pipeline (specialised with override constants, compiled once per
// distinct specialisation), its bind group over fixed buffers, and its grid. Everything here runs at
// load; a decode step only replays the dispatches.
import { ResourceError } from '../errors';
import { formatBytes } from '../gpu/buffers';
import { KernelCache, workgroups } from '../gpu/kernels';
import { weightByteLength } from '../gpu/quant-types';
import type { ComputePrecision, KernelName, WeightDType } from '../gpu/shaders';
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
  /** Largest storage binding; matrices above it are bound in row blocks. */
  readonly bindingLimit: number;

  /** `precision`: the arithmetic of every weight-reading kernel it makes (chosen once at load). */
  constructor(private readonly device: GPUDevice, bindingLimit = device.limits.maxStorageBufferBindingSize, precision: ComputePrecision = 'f32') {
    this.kernels = new KernelCache(device, precision);
    this.bindingLimit = Math.min(bindingLimit, device.limits.maxStorageBufferBindingSize);
  }

  /** A whole buffer, or a range of one (a row block of a matrix). */
  async make(label: string, name: KernelName, constants: Record<string, number>, x: number, buffers: (GPUBuffer | GPUBufferBinding)[], dtype?: WeightDType): Promise<Dispatch> {
    const bindings = buffers.map((b): GPUBufferBinding => ('buffer' in b ? b : { buffer: b }));
    for (const b of bindings) {
      const size = b.size ?? b.buffer.size - (b.offset ?? 0);
      if (size > this.bindingLimit) {
        throw new ResourceError(`${label}: ${b.buffer.label} needs a ${formatBytes(size)} GPU binding, but this device binds at most ${formatBytes(this.bindingLimit)}. Try a smaller or more quantized model.`);
      }
    }
    const pipeline = await this.kernels.get(name, { dtype, constants });
    const bindGroup = this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries: bindings.map((resource, binding) => ({ binding, resource })),
    });
    return { pipeline, bindGroup, x };
  }

  /**
   * Row blocks [start, start + rows) of `m` that each fit one binding, with byte offsets that meet the
   * device's offset alignment for both the weights and an f32 output (so blocks are multiples of 64 rows).
   */
  rowBlocks(m: Matrix): { start: number; rows: number; byteOffset: number; byteLength: number }[] {
    const rowBytes = weightByteLength(m.dtype, m.cols);
    if (m.buffer.size <= this.bindingLimit) return [{ start: 0, rows: m.rows, byteOffset: 0, byteLength: m.buffer.size }];
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    let step = 64;
    while ((step * rowBytes) % align !== 0 || (step * 4) % align !== 0) step += 64;
    const blockRows = Math.floor(this.bindingLimit / rowBytes / step) * step;
    if (blockRows === 0) throw new ResourceError(`${m.buffer.label}: one block of ${step} rows is larger than this device's ${formatBytes(this.bindingLimit)} binding limit.`);
    const blocks = [];
    for (let start = 0; start < m.rows; start += blockRows) {
      const rows = Math.min(blockRows, m.rows - start);
      const byteOffset = start * rowBytes;
      blocks.push({ start, rows, byteOffset, byteLength: Math.min(Math.ceil((rows * rowBytes) / 4) * 4, m.buffer.size - byteOffset) });
    }
    return blocks;
  }

  /** out = W x: one dispatch per row block (one in all when W fits a binding). */
  matvec(label: string, m: Matrix, input: GPUBuffer, out: GPUBuffer): Promise<Dispatch[]> {
    const blocks = this.rowBlocks(m);
    return Promise.all(blocks.map(({ start, rows, byteOffset, byteLength }) => this.make(
      blocks.length === 1 ? label : `${label} [rows ${start}+${rows}]`, 'matvec', { ROWS: rows, COLS: m.cols }, workgroups(rows),
      [{ buffer: m.buffer, offset: byteOffset, size: byteLength }, input, blocks.length === 1 ? out : { buffer: out, offset: 4 * start, size: 4 * rows }],
      m.dtype,
    )));
  }

  /** out = table[token]: one dispatch per row block; only the block holding the token writes. */
  embedding(label: string, table: Matrix, token: GPUBuffer, out: GPUBuffer): Promise<Dispatch[]> {
    const blocks = this.rowBlocks(table);
    return Promise.all(blocks.map(({ start, rows, byteOffset, byteLength }) => this.make(
      blocks.length === 1 ? label : `${label} [rows ${start}+${rows}]`, 'embedding',
      blocks.length === 1 ? { DIM: table.cols } : { DIM: table.cols, ROW_START: start, ROWS: rows }, workgroups(table.cols),
      [token, { buffer: table.buffer, offset: byteOffset, size: byteLength }, out], table.dtype,
    )));
  }

  /** out = W x, then out += b when the projection has a bias: one or two dispatches. */
  async linear(label: string, l: Linear, input: GPUBuffer, out: GPUBuffer): Promise<Dispatch[]> {
    const product = await this.matvec(label, l.weight, input, out);
    return l.bias ? [...product, await this.add(`${label}.bias`, out, l.bias, l.weight.rows)] : product;
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
