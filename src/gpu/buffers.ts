// GPU buffer creation in one place, so the bytes a model holds on the device are counted
// (tests assert these deterministic byte counts) and out-of-memory becomes a ResourceError.
import { ResourceError } from '../errors';

export class BufferPool {
  /** Sum of `size` over every buffer this pool created. */
  bytes = 0;
  private readonly buffers: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  /** `splittable`: the buffer is bound in row blocks (weight matrices), so only maxBufferSize limits it. */
  create(label: string, size: number, usage: GPUBufferUsageFlags, options: { splittable?: boolean } = {}): GPUBuffer {
    // Storage bindings must be multiples of 4 bytes; round up so odd tensors still bind.
    const alignedSize = Math.max(16, Math.ceil(size / 16) * 16);
    if (alignedSize > this.device.limits.maxBufferSize) {
      throw new ResourceError(`${label} needs a ${formatBytes(alignedSize)} GPU buffer, but this device allows at most ${formatBytes(this.device.limits.maxBufferSize)} per buffer. Try a smaller or more quantized model.`);
    }
    // Kernels bind whole buffers, so a storage buffer must also fit one binding.
    if (usage & GPUBufferUsage.STORAGE && !options.splittable && alignedSize > this.device.limits.maxStorageBufferBindingSize) {
      throw new ResourceError(`${label} needs ${formatBytes(alignedSize)} in one GPU binding, but this device binds at most ${formatBytes(this.device.limits.maxStorageBufferBindingSize)}. Try a smaller or more quantized model.`);
    }
    const buffer = this.device.createBuffer({ label, size: alignedSize, usage });
    this.buffers.push(buffer);
    this.bytes += alignedSize;
    return buffer;
  }

  /** A storage buffer filled with `data` (padded with zeros to the aligned size). */
  createWith(label: string, data: ArrayBufferView, usage: GPUBufferUsageFlags = GPUBufferUsage.STORAGE, options: { splittable?: boolean } = {}): GPUBuffer {
    const buffer = this.create(label, data.byteLength, usage | GPUBufferUsage.COPY_DST, options);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = bytes.byteLength % 4 === 0 ? bytes : copyPadded(bytes);
    this.device.queue.writeBuffer(buffer, 0, padded as Uint8Array<ArrayBuffer>);
    return buffer;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }
}

function copyPadded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
