// npm run bench:retrieval [-- --passages 100000] [--dims 384,1024] [--index 1000] [--json]
// What retrieval costs (src/retrieval/): a flat-scan search over `passages` stored vectors of each size in `dims`
// (random unit vectors put in through a function embedder, so only the scan is timed: median wall and CPU time of 21
// queries after a warm-up) with the memory the vectors take; and indexing `index` passages of about 80 tokens with the
// MiniLM-shaped random model of bench:embeddings (split, embed on the GPU, store in memory), end to end.
import { parseArgs } from 'node:util';
import { createEngine, createIndex, type DocumentInput } from '../src/index';
import { embeddingModelPath } from './embedding-models';
import { seededRng } from '../test/helpers/seeded';

const { values } = parseArgs({
  options: {
    passages: { type: 'string', default: '100000' },
    dims: { type: 'string', default: '384,1024' },
    index: { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
  },
});
const log = (msg: string) => { if (!values.json) console.error(msg); };
const round = (x: number) => Number(x.toPrecision(3));

async function searchCost(passages: number, dims: number) {
  const rng = seededRng(dims);
  const random = (texts: string[]) => Promise.resolve(texts.map(() => Float32Array.from({ length: dims }, () => rng() - 0.5)));
  const index = await createIndex({ embedder: random, maxChars: 16, overlap: 0, batchSize: 4096 });
  // One document per 1,000 passages of one 11-character line each, so the splitter (16 characters) keeps one line per passage.
  const perDoc = 1000;
  for (let d = 0; d * perDoc < passages; d++) {
    const n = Math.min(perDoc, passages - d * perDoc);
    await index.add([{ title: `doc ${d}`, text: Array.from({ length: n }, (_, i) => `p${String(i).padStart(10, '0')}`).join('\n\n') }]);
  }
  // Wall time, and the process's CPU time (what the scan costs on a shared machine, where wall time also counts waiting).
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let q = 0; q < 22; q++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await index.search('query', 5);
    const used = process.cpuUsage(c);
    if (q > 0) { wall.push(performance.now() - t); cpu.push((used.user + used.system) / 1000); }
  }
  const median = (xs: number[]) => round(xs.sort((a, b) => a - b)[xs.length >> 1]!);
  return { passages, dims, searchMs: median(wall), searchCpuMs: median(cpu), vectorMiB: round((passages * dims * 4) / 2 ** 20) };
}

async function indexingCost(count: number) {
  const engine = await createEngine(embeddingModelPath('minilm', log), { embeddings: true });
  try {
    // Paragraphs of 80 vocabulary words ("w<n>", whole tokens of the model), one passage each.
    const paragraph = (i: number) => Array.from({ length: 80 }, (_, k) => `w${2 * ((i * 7 + k * 13) % 500)}`).join(' ');
    const docs: DocumentInput[] = Array.from({ length: 10 }, (_, d) => ({
      title: `doc ${d}`, text: Array.from({ length: count / 10 }, (_, i) => paragraph(d * 1000 + i)).join('\n\n'),
    }));
    const index = await createIndex({ embedder: engine, maxChars: 600, overlap: 0, batchSize: 32 });
    await index.add([{ title: 'warm-up', text: paragraph(0) }]);
    const t = performance.now();
    await index.add(docs);
    const seconds = (performance.now() - t) / 1000;
    const passages = index.documents().reduce((n, d) => n + d.passages, 0) - 1;
    return { model: 'minilm', passages, seconds: round(seconds), passagesPerSecond: round(passages / seconds), adapter: engine.model.adapter, precision: engine.model.precision };
  } finally {
    await engine.dispose();
  }
}

const search = [];
for (const dims of values.dims!.split(',').map(Number)) {
  const row = await searchCost(Number(values.passages), dims);
  log(`search over ${row.passages} passages × ${dims} dims: ${row.searchMs} ms wall, ${row.searchCpuMs} ms CPU (medians), vectors ${row.vectorMiB} MiB`);
  search.push(row);
}
const indexing = Number(values.index) > 0 ? await indexingCost(Number(values.index)) : null;
if (indexing) log(`indexing ${indexing.passages} passages (MiniLM shape, ${indexing.precision} on ${indexing.adapter}): ${indexing.seconds} s, ${indexing.passagesPerSecond} passages/s`);
if (values.json) console.log(JSON.stringify({ search, indexing }, null, 2));
