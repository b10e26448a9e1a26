// Counts live GPU buffers (created and not yet destroyed) by wrapping the WebGPU prototypes, for leak tests.
// Environment-agnostic: works on Node's Dawn globals and in a browser page (engine on the page's thread).

export interface BufferTracker {
  /** Buffers created since install() and not destroyed. */
  live(): number;
  /** Bytes of those buffers. */
  liveBytes(): number;
  uninstall(): void;
}

export function trackGpuBuffers(): BufferTracker {
  const live = new Set<GPUBuffer>();
  const device = GPUDevice.prototype;
  const buffer = GPUBuffer.prototype;
  const create = device.createBuffer;
  const destroy = buffer.destroy;
  device.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const b = create.call(this, descriptor);
    live.add(b);
    return b;
  };
  buffer.destroy = function (this: GPUBuffer) {
    live.delete(this);
    return destroy.call(this);
  };
  return {
    live: () => live.size,
    liveBytes: () => [...live].reduce((n, b) => n + b.size, 0),
    uninstall: () => {
      device.createBuffer = create;
      buffer.destroy = destroy;
    },
  };
}
