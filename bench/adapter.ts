// The bench's device and what it says about the adapter: the device asks for what Hearth's own device asks for
// in users' browsers ('shader-f16', 'subgroups') plus 'timestamp-query', so on a GPU the bench measures the
// kernels Chrome users run; `adapterProfile` records the adapter, its features and limits and the kernel
// choices Hearth makes on it; two read-bandwidth kernels give the roofline's ceiling.
import type { AcquiredDevice } from '../src/gpu/device';
import { runsOnCpu } from '../src/gpu/device';

/** Keeps Dawn's GPU object alive while devices live (see src/gpu/device.ts). */
let nodeGPU: GPU | undefined;

async function getGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!nodeGPU) {
    const moduleName = 'webgpu'; // hidden from bundlers
    const dawn = (await import(/* @vite-ignore */ moduleName)) as { create(flags: string[]): GPU; globals: object };
    Object.assign(globalThis, dawn.globals);
    nodeGPU = dawn.create([]);
  }
  return nodeGPU;
}

export interface AdapterProfile {
  description: string; vendor: string; architecture: string;
  /** Shaders run on the CPU (lavapipe, SwiftShader): Hearth picks its CPU kernels there. */
  onCpu: boolean;
  features: { shaderF16: boolean; subgroups: boolean; timestampQuery: boolean };
  /** The adapter's subgroup sizes where it reports them. */
  subgroupMinSize: number | null; subgroupMaxSize: number | null;
  limits: Record<string, number>;
  /** Hearth's load-time kernel choices on this adapter (loadModel's defaults). */
  kernels: { splitAttention: boolean; fuseNorm: boolean; subgroupMatvec: boolean };
}

export type BenchDevice = AcquiredDevice & { timestamps: boolean; adapterProfile: AdapterProfile };

const LIMITS = ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX'] as const;

/** acquireDevice's device (shader-f16 and subgroups where the adapter has them) plus 'timestamp-query'. */
export async function acquireBenchDevice(): Promise<BenchDevice> {
  const gpu = await getGPU();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('No WebGPU adapter (in Node: Dawn needs a Vulkan driver; see README, Requirements)');
  const has = (f: string) => adapter.features.has(f);
  const hasShaderF16 = has('shader-f16');
  const hasSubgroups = has('subgroups');
  const timestamps = has('timestamp-query');
  const requiredFeatures = (['shader-f16', 'subgroups', 'timestamp-query'] as const).filter(has) as GPUFeatureName[];
  const requiredLimits = Object.fromEntries(LIMITS.map((k) => [k, adapter.limits[k]]));
  const device = await adapter.requestDevice({ label: 'hearth bench', requiredFeatures, requiredLimits });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info as (GPUAdapterInfo & { isFallbackAdapter?: boolean; subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
  const adapterInfo = {
    vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', description: info?.description ?? '',
    isFallbackAdapter: info?.isFallbackAdapter ?? false,
  };
  const onCpu = runsOnCpu(adapterInfo);
  const adapterProfile: AdapterProfile = {
    description: adapterInfo.description, vendor: adapterInfo.vendor, architecture: adapterInfo.architecture, onCpu,
    features: { shaderF16: hasShaderF16, subgroups: hasSubgroups, timestampQuery: timestamps },
    subgroupMinSize: info?.subgroupMinSize ?? null, subgroupMaxSize: info?.subgroupMaxSize ?? null,
    limits: requiredLimits,
    kernels: { splitAttention: !onCpu, fuseNorm: !onCpu, subgroupMatvec: hasSubgroups && !onCpu },
  };
  return {
    device, hasShaderF16, hasSubgroups, timestamps, adapterInfo, adapterProfile,
    packedIntegerDot: gpu.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product'),
  };
}

/** Read bandwidth of both kernels in bytes/s, and `best`, the higher: the roofline's ceiling. */
export interface ReadBandwidth { perThread: number; gridStride: number; best: number; timing: 'timestamp-query' | 'wall clock'; bytes: number }

/**
 * The adapter's read bandwidth through the shader path, two ways: `perThread`, each thread summing one
 * contiguous run of vec4<f32> as a matvec thread walks its rows (on SwiftShader about 3× faster than a
 * grid-stride loop); and `gridStride`, consecutive threads reading consecutive vec4s (coalesced, what a GPU
 * needs). Best of `reps` passes over `bytes` (1 GiB on GPUs, 256 MiB on CPU adapters), timed by timestamp
 * queries where the device has them (a GPU reads 256 MiB in well under the ~0.1 ms a submit round trip costs).
 */
export async function measureReadBandwidthKernels(gpu: Pick<BenchDevice, 'device' | 'timestamps' | 'adapterInfo'>, reps = 5): Promise<ReadBandwidth> {
  const { device } = gpu;
  const bytes = Math.min(runsOnCpu(gpu.adapterInfo) ? 256 << 20 : 1 << 30, Math.floor(device.limits.maxBufferSize / 2 ** 20) * 2 ** 20);
  const limit = device.limits.maxStorageBufferBindingSize;
  const chunk = Math.min(bytes, limit - (limit % 256));
  const src = device.createBuffer({ label: 'bandwidth source', size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const part = device.createBuffer({ label: 'bandwidth partial sums', size: (1 << 21) * 16, usage: GPUBufferUsage.STORAGE });
  const query = gpu.timestamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
  const resolved = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const ones = new Float32Array(4 << 20).fill(1);
    for (let off = 0; off < bytes; off += ones.byteLength) device.queue.writeBuffer(src, off, ones, 0, Math.min(ones.length, (bytes - off) / 4));
    const perThreadGroups = 1024, gridGroups = 8192;
    const kernels = {
      perThread: { groups: perThreadGroups, size: 64, body: `let span = arrayLength(&s) / ${perThreadGroups * 64}u; // vec4s per thread (the tail, under ${perThreadGroups * 64}, is left out)
  let first = g.x * span;
  for (var i = first; i < first + span; i++) { acc += s[i]; }` },
      gridStride: { groups: gridGroups, size: 256, body: `for (var i = g.x; i < arrayLength(&s); i += ${gridGroups * 256}u) { acc += s[i]; }` },
    };
    const timeKernel = async ({ groups, size, body }: { groups: number; size: number; body: string }) => {
      const module = device.createShaderModule({
        label: 'read bandwidth',
        code: `@group(0) @binding(0) var<storage, read> s: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> part: array<vec4f>;
@compute @workgroup_size(${size}) fn main(@builtin(global_invocation_id) g: vec3u) {
  var acc = vec4f(0.0);
  ${body}
  part[g.x] = part[g.x] + acc;
}`,
      });
      const pipeline = await device.createComputePipelineAsync({ label: 'read bandwidth', layout: 'auto', compute: { module, entryPoint: 'main' } });
      const bindGroups: GPUBindGroup[] = [];
      for (let off = 0; off < bytes; off += chunk) {
        bindGroups.push(device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [{ binding: 0, resource: { buffer: src, offset: off, size: Math.min(chunk, bytes - off) } }, { binding: 1, resource: { buffer: part } }],
        }));
      }
      const once = async () => {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass(query ? { timestampWrites: { querySet: query, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined);
        pass.setPipeline(pipeline);
        for (const bg of bindGroups) { pass.setBindGroup(0, bg); pass.dispatchWorkgroups(groups); }
        pass.end();
        if (query) { encoder.resolveQuerySet(query, 0, 2, resolved, 0); encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16); }
        const t = performance.now();
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        const wallMs = performance.now() - t;
        if (!query) return wallMs;
        await readback.mapAsync(GPUMapMode.READ);
        const ns = new BigUint64Array(readback.getMappedRange().slice(0));
        readback.unmap();
        const gpuMs = Number(ns[1]! - ns[0]!) / 1e6;
        return gpuMs > 0 ? gpuMs : wallMs; // some drivers report zeros
      };
      await once(); // warm-up
      let best = Infinity;
      for (let r = 0; r < reps; r++) best = Math.min(best, await once());
      return bytes / (best / 1000);
    };
    const perThread = await timeKernel(kernels.perThread);
    const gridStride = await timeKernel(kernels.gridStride);
    return { perThread, gridStride, best: Math.max(perThread, gridStride), timing: query ? 'timestamp-query' : 'wall clock', bytes };
  } finally {
    src.destroy(); part.destroy(); query?.destroy(); resolved.destroy(); readback.destroy();
  }
}

/** The roofline's ceiling in bytes/s (the faster of the two read kernels). */
export async function measureReadBandwidth(gpu: Pick<BenchDevice, 'device' | 'timestamps' | 'adapterInfo'>): Promise<number> {
  return (await measureReadBandwidthKernels(gpu)).best;
}
