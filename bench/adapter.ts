// The bench's device and what it says about the adapter: Hearth's own device (acquireDevice: 'shader-f16' and
// 'subgroups' where the adapter has them) plus 'timestamp-query', so on a GPU the bench measures the kernels Chrome
// users run; `adapterProfile` records the adapter, its features and limits and the profile Hearth loads with on it
// (src/gpu/profile.ts); two read-bandwidth kernels give the roofline's ceiling.
import { acquireDevice, type AcquiredDevice } from '../src/gpu/device';
import { chooseProfile, profileReport, type AdapterProfile, type ProfileReport } from '../src/gpu/profile';

/** The adapter as a bench report records it. */
export interface AdapterReport {
  description: string; vendor: string; architecture: string;
  features: { shaderF16: boolean; subgroups: boolean; timestampQuery: boolean };
  /** The adapter's subgroup sizes where it reports them. */
  subgroupMinSize: number | null; subgroupMaxSize: number | null;
  limits: Record<string, number>;
  /** The profile loadModel picks on this adapter ('auto') and its kernel choices. */
  kernels: ProfileReport;
}

export type BenchDevice = AcquiredDevice & { timestamps: boolean; profile: AdapterProfile; adapterProfile: AdapterReport };

/** acquireDevice's device plus 'timestamp-query' where the adapter has it. */
export async function acquireBenchDevice(): Promise<BenchDevice> {
  const gpu = await acquireDevice({ label: 'hearth bench', extraFeatures: ['timestamp-query'] });
  const { adapter } = gpu;
  const timestamps = gpu.device.features.has('timestamp-query');
  const profile = chooseProfile(adapter);
  const adapterProfile: AdapterReport = {
    description: adapter.description, vendor: adapter.vendor, architecture: adapter.architecture,
    features: { shaderF16: adapter.shaderF16, subgroups: adapter.subgroups, timestampQuery: timestamps },
    subgroupMinSize: adapter.subgroupMinSize ?? null, subgroupMaxSize: adapter.subgroupMaxSize ?? null,
    limits: adapter.limits,
    kernels: profileReport(profile),
  };
  return { ...gpu, timestamps, profile, adapterProfile };
}

/** Read bandwidth of both kernels in bytes/s, and `best`, the higher: the roofline's ceiling. */
export interface ReadBandwidth { perThread: number; gridStride: number; best: number; timing: 'timestamp-query' | 'wall clock'; bytes: number }

/**
 * The adapter's read bandwidth through the shader path, two ways: `perThread`, each thread summing one
 * contiguous run of vec4<f32> as a matvec thread walks its rows (on SwiftShader about 3× faster than a
 * grid-stride loop); and `gridStride`, consecutive threads reading consecutive vec4s (coalesced, what a GPU
 * needs). Best of `reps` passes over `bytes` (1 GiB with the GPU profile, 256 MiB with the software one), timed by timestamp
 * queries where the device has them (a GPU reads 256 MiB in well under the ~0.1 ms a submit round trip costs).
 */
export async function measureReadBandwidthKernels(gpu: Pick<BenchDevice, 'device' | 'timestamps' | 'profile'>, reps = 5): Promise<ReadBandwidth> {
  const { device } = gpu;
  const bytes = Math.min(gpu.profile.name === 'software' ? 256 << 20 : 1 << 30, Math.floor(device.limits.maxBufferSize / 2 ** 20) * 2 ** 20);
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
export async function measureReadBandwidth(gpu: Pick<BenchDevice, 'device' | 'timestamps' | 'profile'>): Promise<number> {
  return (await measureReadBandwidthKernels(gpu)).best;
}
