// Process memory across engine create → generate → dispose cycles in Node (README: "Memory across engine
// cycles"): RSS, the JS heap, threads, and how many WebGPU objects of each kind are still alive after a
// forced collection. Run: node --expose-gc --import ./scripts/register.mjs scripts/memory-cycles.ts [cycles] [--no-gc]
import { readFileSync } from 'node:fs';
import { createEngine } from '../src/index';
import { acquireDevice } from '../src/gpu/device';

const cycles = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 60);
const forceGc = !process.argv.includes('--no-gc');
const gc = (globalThis as { gc?: () => void }).gc;
if (forceGc && !gc) throw new Error('run with node --expose-gc (or pass --no-gc)');
const model = 'test/fixtures/models/stories260K/stories260K.gguf';
const mb = (x: number) => (x / 2 ** 20).toFixed(1);

(await acquireDevice()).device.destroy(); // Dawn's globals exist from the first device on
const live: Record<string, number> = {};
const collected = new FinalizationRegistry<string>((kind) => { live[kind]!--; });
function count(proto: object, method: string, kind: string): void {
  const target = proto as Record<string, (...args: unknown[]) => unknown>;
  const original = target[method]!;
  live[kind] = 0;
  target[method] = function (this: unknown, ...args: unknown[]) {
    const note = (o: unknown) => { live[kind]!++; collected.register(o as object, kind); return o; };
    const r = original.apply(this, args);
    return r instanceof Promise ? r.then(note) : note(r);
  };
}
count(GPUAdapter.prototype, 'requestDevice', 'devices');
count(GPUDevice.prototype, 'createBuffer', 'buffers');
count(GPUDevice.prototype, 'createShaderModule', 'modules');
count(GPUDevice.prototype, 'createComputePipelineAsync', 'pipelines');
count(GPUDevice.prototype, 'createBindGroup', 'bindGroups');

async function report(cycle: number): Promise<void> {
  for (let i = 0; i < 3; i++) { if (forceGc) gc!(); await new Promise((r) => setTimeout(r, 50)); }
  const threads = /Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '?';
  const m = process.memoryUsage();
  console.log(`cycle ${cycle}: rss ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB, threads ${threads}, alive ${JSON.stringify(live)}`);
}

for (let i = 1; i <= cycles; i++) {
  const engine = await createEngine(model);
  await engine.generate('Once upon a time', { maxTokens: 8 }).result;
  await engine.dispose();
  if (i === 1 || i % 10 === 0) await report(i);
}
