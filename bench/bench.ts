// npm run bench [-- --model <path|url>] [--runs n] [--tokens n] [--precision auto|f16|f32]
// Load time, prefill and decode speed of the Node engine (Dawn). Speed targets live here, never in tests.
import { parseArgs } from 'node:util';
import { createEngine } from '../src/engine/engine';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'public/stories260K.gguf' },
    runs: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '128' },
    precision: { type: 'string', default: 'auto' },
  },
});
const runs = Number(values.runs);
const maxTokens = Number(values.tokens);

const t0 = performance.now();
const engine = await createEngine(values.model!, { contextLength: 1024, precision: values.precision as 'auto' | 'f16' | 'f32' });
const loadMs = performance.now() - t0;

const prompt = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';
const samples: { prefill: number; decode: number }[] = [];
for (let i = 0; i < runs; i++) {
  await engine.resetContext();
  const stream = engine.generate(prompt, { maxTokens });
  for await (const _ of stream);
  const r = await stream.result;
  samples.push({ prefill: r.prefillTokensPerSecond, decode: r.decodeTokensPerSecond });
}
const best = (k: 'prefill' | 'decode') => Math.max(...samples.map((s) => s[k]));
const median = (k: 'prefill' | 'decode') => samples.map((s) => s[k]).sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
const report = {
  model: engine.model.name,
  adapter: engine.model.adapter,
  weightType: engine.model.weightType,
  precision: engine.model.precision,
  gpuBytes: engine.model.gpuBytes,
  loadMs: Math.round(loadMs),
  prefillTokensPerSecond: { best: best('prefill'), median: median('prefill') },
  decodeTokensPerSecond: { best: best('decode'), median: median('decode') },
  runs,
  maxTokens,
};
console.log(JSON.stringify(report, null, 2));
await engine.dispose();
process.exit(0);
