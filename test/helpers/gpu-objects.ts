// Counts the WebGPU objects code creates (devices, buffers, shader modules, pipelines, bind groups, command
// encoders) by wrapping Dawn's prototypes: how many are still reachable from JavaScript after a forced
// collection, which devices were never destroyed, and the buffers never destroyed. For release tests in Node.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export type GpuObjectKind = 'device' | 'buffer' | 'shaderModule' | 'pipeline' | 'bindGroup' | 'commandEncoder';

export interface GpuObjectTracker {
  /** Per kind, the objects created since install() that a full collection has not reclaimed. */
  reachable(): Promise<Record<GpuObjectKind, number>>;
  /** Devices created and not destroyed. */
  undestroyedDevices(): number;
  /** Buffers created and not destroyed, and their bytes. */
  undestroyedBuffers(): { count: number; bytes: number };
  uninstall(): void;
}

export function trackGpuObjects(): GpuObjectTracker {
  const counts: Record<GpuObjectKind, number> = { device: 0, buffer: 0, shaderModule: 0, pipeline: 0, bindGroup: 0, commandEncoder: 0 };
  const collected = new FinalizationRegistry<GpuObjectKind>((kind) => { counts[kind]--; });
  // Held until destroyed: one never destroyed counts as reachable too.
  const devices = new Set<GPUDevice>();
  const buffers = new Set<GPUBuffer>();
  const restore: (() => void)[] = [];
  const note = <T extends object>(kind: GpuObjectKind, o: T): T => { counts[kind]++; collected.register(o, kind); return o; };
  const wrap = (proto: object, method: string, after: (result: never) => void) => {
    const target = proto as Record<string, (...args: unknown[]) => unknown>;
    const original = target[method]!;
    target[method] = function (this: unknown, ...args: unknown[]) {
      const r = original.apply(this, args);
      if (r instanceof Promise) return r.then((v) => { after(v as never); return v; });
      after(r as never);
      return r;
    };
    restore.push(() => { target[method] = original; });
  };
  wrap(GPUAdapter.prototype, 'requestDevice', (d: GPUDevice) => { note('device', d); devices.add(d); });
  wrap(GPUDevice.prototype, 'createBuffer', (b: GPUBuffer) => { note('buffer', b); buffers.add(b); });
  wrap(GPUDevice.prototype, 'createShaderModule', (m: GPUShaderModule) => note('shaderModule', m));
  wrap(GPUDevice.prototype, 'createComputePipeline', (p: GPUComputePipeline) => note('pipeline', p));
  wrap(GPUDevice.prototype, 'createComputePipelineAsync', (p: GPUComputePipeline) => note('pipeline', p));
  wrap(GPUDevice.prototype, 'createBindGroup', (g: GPUBindGroup) => note('bindGroup', g));
  wrap(GPUDevice.prototype, 'createCommandEncoder', (e: GPUCommandEncoder) => note('commandEncoder', e));
  const destroyDevice = GPUDevice.prototype.destroy;
  GPUDevice.prototype.destroy = function (this: GPUDevice) { devices.delete(this); return destroyDevice.call(this); };
  const destroyBuffer = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) { buffers.delete(this); return destroyBuffer.call(this); };
  restore.push(() => { GPUDevice.prototype.destroy = destroyDevice; GPUBuffer.prototype.destroy = destroyBuffer; });

  return {
    async reachable() {
      // Finalizers run as tasks after a collection; a few rounds let every one of them run.
      for (let i = 0; i < 4; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
      return { ...counts };
    },
    undestroyedDevices: () => devices.size,
    undestroyedBuffers: () => ({ count: buffers.size, bytes: [...buffers].reduce((n, b) => n + b.size, 0) }),
    uninstall: () => { for (const r of restore.reverse()) r(); },
  };
}
