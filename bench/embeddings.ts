// npm run bench:embeddings [-- --models minilm,qwen3] [--batches 1,32] [--tokens 32] [--runs n] [--threads n] [--precision auto|f16|f32|q8] [--json]
// Embeddings per second, Hearth beside llama.cpp on the same GGUF: random-weight models in the shapes of
// all-MiniLM-L6-v2 and Qwen3-Embedding-0.6B (bench/embedding-models.ts), inputs of `tokens` tokens each
// (special tokens included), batches of 1 and 32 inputs. Hearth packs a batch into passes of up to its
// context length (512 tokens); llama.cpp runs through node-llama-cpp's embedding context, which embeds one
// input per call (its API has no batch), so its batch-32 rate is 32 calls. Each figure is the best of `runs`
// after a warm-up. Speed is reported here, never asserted in tests.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { loadModel } from '../src/model/load';
import { embedTokens, modelPooling } from '../src/model/embed';
import { acquireBenchDevice } from './hearth-run';

/** Three significant digits (rates here span 0.01 to thousands). */
const round = (x: number) => Number(x.toPrecision(3));
import { EMBEDDING_BENCH_MODELS, embeddingModelPath, type EmbeddingBenchModel } from './embedding-models';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: EMBEDDING_BENCH_MODELS.join(',') },
    batches: { type: 'string', default: '1,32' },
    tokens: { type: 'string', default: '32' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string' },
    precision: { type: 'string', default: 'auto' },
    'no-peers': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const models = list(values.models!) as EmbeddingBenchModel[];
for (const m of models) if (!EMBEDDING_BENCH_MODELS.includes(m)) throw new Error(`--models: ${m} is not one of ${EMBEDDING_BENCH_MODELS.join(', ')}`);
const batches = list(values.batches!).map(Number);
const tokens = Number(values.tokens);
const runs = Number(values.runs);
const threads = Number(values.threads ?? cpus().length);
const log = (msg: string) => { if (!values.json) console.error(msg); };

/** Inputs of `tokens` ids each: word pieces between the model's own special tokens. */
function inputs(n: number, encode: (text: string) => number[]): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from({ length: tokens }, (_, k) => `w${2 * ((i * 7 + k * 13) % 500)}`).join(' ');
    const e = encode(words);
    return e.length > tokens ? [...e.slice(0, tokens - 1), e.at(-1)!] : e; // the closing special token kept
  });
}

async function best(fn: () => Promise<void>): Promise<number> {
  await fn(); // warm-up: pipelines, caches
  let ms = Infinity;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t);
  }
  return ms;
}

interface Row { model: EmbeddingBenchModel; batch: number; hearth: number; llamaCpp: number | null }

async function benchModel(model: EmbeddingBenchModel): Promise<Row[]> {
  const path = embeddingModelPath(model, log);
  const gpu = await acquireBenchDevice();
  const loaded = await loadModel(gpu, path, { embeddings: true, contextLength: 512, precision: values.precision as 'auto' });
  const rows: Row[] = [];
  try {
    const pooling = modelPooling(loaded.config);
    for (const batch of batches) {
      const ids = inputs(batch, (t) => loaded.tokenizer.encode(t));
      const ms = await best(async () => { await embedTokens(loaded.model, ids, pooling); });
      rows.push({ model, batch, hearth: round((batch * 1000) / ms), llamaCpp: null });
      log(`${model} batch ${batch}: Hearth ${round((batch * 1000) / ms)} embeddings/s (${loaded.info.precision}, ${loaded.info.adapter})`);
    }
  } finally {
    loaded.destroy();
    gpu.device.destroy();
  }
  if (values['no-peers']) return rows;
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
  const m = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const ctx = await m.createEmbeddingContext({ contextSize: 512, batchSize: 512, threads });
  try {
    for (const row of rows) {
      const ids = inputs(row.batch, (t) => Array.from(m.tokenize(t, true), Number));
      const ms = await best(async () => { for (const x of ids) await ctx.getEmbeddingFor(x as never); });
      row.llamaCpp = round((row.batch * 1000) / ms);
      log(`${model} batch ${row.batch}: llama.cpp ${row.llamaCpp} embeddings/s (${threads} threads)`);
    }
  } finally {
    await ctx.dispose();
    await m.dispose();
  }
  return rows;
}

const rows: Row[] = [];
for (const model of models) rows.push(...await benchModel(model));
if (values.json) console.log(JSON.stringify({ tokens, runs, threads, rows }));
else console.table(rows.map((r) => ({ model: r.model, batch: r.batch, 'Hearth emb/s': r.hearth, 'llama.cpp emb/s': r.llamaCpp ?? '-' })));
