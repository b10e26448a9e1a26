// Retrieval over documents (src/retrieval/) on real tiny embedding models: passages split as specified, a passage's
// own text (or a near copy) finds that passage first, the model's query/document prefixes are applied, the store
// round-trips, remove and abort leave the index consistent, bad input gets InvalidRequestError, and the grounded
// prompt numbers its sources so a reply's [n] leads back to them. The random-weight models know no meaning, so
// accuracy is asked only where the vectors must agree: identical text gives an identical vector (cosine 1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  citedSources, createEngine, createIndex, directoryStore, documentText, groundedMessages, groundedPrompt, InvalidRequestError, isAbortError,
  memoryStore, prefixesFor, splitPassages, type DocumentInput, type Engine, type EmbedFunction,
} from '../src/index';
import { stripTags } from '../src/retrieval/parse';
import { writeGGUF } from './helpers/gguf-writer';
import { tinyEncoderSpec } from './helpers/tiny-embedding-models';

/** Paragraphs of words the tiny WordPiece vocabulary spells (whole words or letters), distinct from each other. */
const DOCS: DocumentInput[] = [
  { id: 'cats', title: 'Cats', text: 'The cat sat on the mat. The cat is a token of calm.\n\nHello world, said the cat to the mat at the cafe.\n\nThe naive cat ran on.' },
  { id: 'runs', title: 'Runs', text: 'Run, stop, run. The runner stopped at the cafe to resume the run.\n\nUnbelievable tokens embed the world.\n\nDon stopped the token run at ten.' },
  { id: 'mats', type: 'markdown', title: 'Mats', text: '# Mats\n\nA **mat** on the [world](https://example.com) map: 42 mats.\n\n- hello mat\n- stop mat' },
];

describe('splitPassages', () => {
  const text = 'One short paragraph.\n\nA second paragraph. It has two sentences.\n\n' + 'A long one. '.repeat(12) + '\n\n' + 'x'.repeat(70) + ' tail';

  test('passages are spans of the text within the budget, cover every word, and repeat the previous end as overlap', () => {
    const spans = splitPassages(text, { maxChars: 64, overlap: 24 });
    for (const s of spans) {
      assert.ok(s.end - s.start <= 64, `${s.start}..${s.end} is ${s.end - s.start} chars`);
      assert.equal(text.slice(s.start, s.end), text.slice(s.start, s.end).trim());
    }
    const covered = new Array<boolean>(text.length).fill(false);
    for (const s of spans) covered.fill(true, s.start, s.end);
    covered.forEach((c, i) => assert.ok(c || /\s/.test(text[i]!), `character ${i} '${text[i]}' is in no passage`));
    assert.deepEqual(spans.map((s) => s.start).slice().sort((a, b) => a - b), spans.map((s) => s.start), 'passages in order');
    // The first two paragraphs (63 characters) pack into one passage; the 12 short sentences overlap by one.
    assert.equal(text.slice(spans[0]!.start, spans[0]!.end), 'One short paragraph.\n\nA second paragraph. It has two sentences.');
    const longs = spans.filter((s) => text.slice(s.start, s.end).startsWith('A long one.'));
    assert.ok(longs.length >= 2);
    for (let i = 1; i < longs.length; i++) assert.ok(longs[i]!.start < longs[i - 1]!.end, 'consecutive passages of one paragraph overlap');
    // A 70-character word is cut at the budget.
    assert.ok(spans.some((s) => text.slice(s.start, s.end) === 'x'.repeat(64)));
  });

  test('no overlap: passages do not share text; blank text has no passages; bad budgets are refused', () => {
    const spans = splitPassages(text, { maxChars: 60, overlap: 0 });
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.start >= spans[i - 1]!.end);
    assert.deepEqual(splitPassages(' \n\n \t'), []);
    assert.throws(() => splitPassages(text, { maxChars: 8 }), InvalidRequestError);
    assert.throws(() => splitPassages(text, { maxChars: 100, overlap: 100 }), InvalidRequestError);
  });
});

describe('documentText', () => {
  test('Markdown loses link targets and marks; HTML (the Node fallback) keeps the visible text with blocks as paragraphs', () => {
    assert.equal(documentText(DOCS[2]!.text, 'markdown'), 'Mats\n\nA mat on the world map: 42 mats.\n\nhello mat\nstop mat');
    const html = '<html><head><title>t</title><style>p{}</style></head><body><h1>Title</h1><p>One &amp; <b>two</b>&#33;</p>'
      + '<script>alert(1)</script><ul><li>a</li><li>b&nbsp;c</li></ul><!-- gone --></body></html>';
    assert.equal(stripTags(html), 'Title\n\nOne & two!\n\na\n\nb c');
    assert.equal(documentText(html, 'html'), stripTags(html)); // Node has no DOMParser
    assert.throws(() => documentText('x', 'pdf' as never), InvalidRequestError);
  });
});

let dir: string;
let bertPath: string;
let nomicPath: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-retrieval-'));
  bertPath = join(dir, 'bert.gguf');
  writeFileSync(bertPath, writeGGUF(tinyEncoderSpec('bert', { seed: 2, contextLength: 256 })));
  nomicPath = join(dir, 'nomic.gguf');
  writeFileSync(nomicPath, writeGGUF(tinyEncoderSpec('nomic-bert', { seed: 5, contextLength: 256 })));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);

describe('createIndex on a tiny BERT', () => {
  let engine: Engine;
  /** The engine as a function embedder that counts the texts it embeds. */
  let embedded = 0;
  const counting: EmbedFunction = async (texts) => { embedded += texts.length; return (await engine.embeddings.embed(texts)).vectors; };
  before(async () => { engine = await createEngine(bertPath, { precision: 'f32' }); });
  after(async () => { await engine?.dispose(); });

  test('every passage\'s own text finds that passage first with cosine 1; a near copy finds it first too', async () => {
    const index = await createIndex({ embedder: engine, maxChars: 80, overlap: 0 });
    const added = await index.add(DOCS);
    assert.deepEqual(added.map((d) => d.id), ['cats', 'runs', 'mats']);
    assert.deepEqual(index.documents().map((d) => [d.id, d.title, d.type]), [['cats', 'Cats', 'text'], ['runs', 'Runs', 'text'], ['mats', 'Mats', 'markdown']]);
    const passages = index.documents().flatMap((d) => Array.from({ length: d.passages }, (_, i) => index.passage(d.id, i)!));
    assert.ok(passages.length >= 5, `${passages.length} passages`);
    for (const p of passages) {
      const [best, second] = await index.search(p.text, 3);
      assert.deepEqual([best!.docId, best!.passage, best!.text], [p.docId, p.passage, p.text]);
      assert.ok(best!.score > 0.9999 && best!.score <= 1.0001, `score ${best!.score}`);
      assert.ok(second!.score < best!.score - 1e-3, 'another passage does not tie');
      assert.equal(index.document(p.docId)!.text.slice(p.start, p.end), p.text);
    }
    // Near copies: lower case, the final period dropped.
    for (const p of passages) {
      const [best] = await index.search(p.text.toLowerCase().replace(/\.$/, ''), 1);
      assert.deepEqual([best!.docId, best!.passage], [p.docId, p.passage], `near copy of ${p.docId}#${p.passage}`);
    }
  });

  test('the store round-trips: a new index over the same directory searches alike without embedding the documents again', async () => {
    const store = directoryStore(join(dir, 'store'));
    const first = await createIndex({ embedder: counting, embedderName: 'bert', store });
    await first.add(DOCS);
    const query = 'the cat sat on the mat';
    const want = await first.search(query, 4);
    embedded = 0;
    const second = await createIndex({ embedder: counting, embedderName: 'bert', store: directoryStore(join(dir, 'store')) });
    assert.equal(embedded, 0, 'documents came from the store');
    assert.deepEqual(second.documents(), first.documents());
    assert.deepEqual(await second.search(query, 4), want);
    // Under another embedder name the stored vectors do not compare: the documents are embedded again at open, from
    // their stored text, keeping their type (the Markdown one stays 'markdown') and the time they were added.
    const progress: number[] = [];
    embedded = 0;
    const third = await createIndex({ embedder: counting, embedderName: 'bert v2', store: directoryStore(join(dir, 'store')), onProgress: (p) => progress.push(p.done) });
    assert.equal(embedded, third.documents().reduce((n, d) => n + d.passages, 0));
    assert.ok(progress.length > 0);
    assert.deepEqual(third.documents(), second.documents(), 'the same documents, types and dates');
    assert.deepEqual((await third.search(query, 4)).map((h) => h.text), want.map((h) => h.text));
  });

  test('remove: the document leaves the index and the store; adding an id again replaces it', async () => {
    const storeDir = join(dir, 'remove');
    const index = await createIndex({ embedder: engine, store: directoryStore(storeDir), maxChars: 80, overlap: 0 });
    await index.add(DOCS);
    assert.equal(await index.remove('cats'), true);
    assert.equal(await index.remove('cats'), false);
    assert.deepEqual(index.documents().map((d) => d.id), ['runs', 'mats']);
    const hits = await index.search('The cat sat on the mat.', 50);
    assert.ok(hits.length > 0 && hits.every((h) => h.docId !== 'cats'));
    assert.ok(!readdirSync(storeDir).some((f) => f.startsWith('cats.')));
    await index.add([{ id: 'runs', title: 'Runs, rewritten', text: 'Stop the run.' }]);
    const reopened = await createIndex({ embedder: engine, store: directoryStore(storeDir) });
    assert.deepEqual(reopened.documents().map((d) => [d.id, d.title, d.passages]), [['mats', 'Mats', index.documents()[0]!.passages], ['runs', 'Runs, rewritten', 1]]);
    const [best] = await reopened.search('Stop the run.', 1);
    assert.deepEqual([best!.docId, best!.text], ['runs', 'Stop the run.']);
  });

  test('abort: stops between embedder calls with an AbortError; finished documents stay, the rest are not stored', async () => {
    const store = memoryStore();
    const index = await createIndex({ embedder: engine, store, maxChars: 40, overlap: 0, batchSize: 1 });
    const controller = new AbortController();
    const add = index.add(DOCS, { signal: controller.signal, onProgress: (p) => { if (p.document === 'Runs') controller.abort(); } });
    await assert.rejects(add, (e) => isAbortError(e));
    assert.deepEqual(index.documents().map((d) => d.id), ['cats']);
    assert.deepEqual((await store.load()).map((d) => d.id), ['cats']);
    assert.ok((await index.search('hello world', 3)).every((h) => h.docId === 'cats'));
  });

  test('bad input: InvalidRequestError naming what is wrong', async () => {
    const index = await createIndex({ embedder: engine });
    const bad = async (p: Promise<unknown>, pattern: RegExp) => assert.rejects(p, (e) => e instanceof InvalidRequestError && pattern.test(e.message));
    await bad(index.add([]), /non-empty array/);
    await bad(index.add([{ title: 'x' } as DocumentInput]), /no text/);
    await bad(index.add([{ title: 'x', text: ' \n ' }]), /no text to index/);
    await bad(index.add([{ id: 'a', title: 'x', text: 'a' }, { id: 'a', title: 'y', text: 'b' }]), /given twice/);
    await bad(index.search(''), /non-empty string/);
    await bad(index.search('x', 0), /k must be/);
    await bad(createIndex({ embedder: 42 as never }), /embedder must be/);
    await bad(createIndex({ embedder: engine, overlap: 900 }), /overlap/);
    const short = await createIndex({ embedder: async (texts) => texts.map(() => [1, 2]) });
    await short.add([{ title: 'x', text: 'a' }]);
    const long = await createIndex({ embedder: async (texts) => texts.map(() => [0, 0, 0]) });
    await bad(long.add([{ title: 'x', text: 'a' }]), /no direction/);
    assert.deepEqual(await index.search('nothing indexed'), []);
  });
});

describe('createIndex on a tiny nomic-bert: its query and document prefixes', () => {
  test('passages are embedded with search_document:, queries with search_query:', async () => {
    const engine = await createEngine(nomicPath, { precision: 'f32' });
    try {
      assert.deepEqual(prefixesFor('nomic-bert'), { query: 'search_query: ', document: 'search_document: ' });
      const index = await createIndex({ embedder: engine });
      await index.add([DOCS[0]!]);
      assert.match(index.embedder, /nomic-bert/);
      const passage = index.passage('cats', 0)!;
      const [hit] = await index.search('hello cat', 1);
      const { vectors: [q, d] } = await engine.embeddings.embed(['search_query: hello cat', `search_document: ${passage.text}`]);
      assert.ok(Math.abs(hit!.score - dot(q!, d!)) < 1e-5, `${hit!.score} vs ${dot(q!, d!)}`);
      // Matryoshka: the engine's vectors cut to 16 values, under their own embedder name.
      const short = await createIndex({ embedder: engine, dimensions: 16 });
      await short.add([DOCS[0]!]);
      assert.equal(short.dimensions, 16);
      assert.notEqual(short.embedder, index.embedder);
      const [cut] = await short.search('hello cat', 1);
      const { vectors: [q16, d16] } = await engine.embeddings.embed(['search_query: hello cat', `search_document: ${passage.text}`], { dimensions: 16 });
      assert.ok(Math.abs(cut!.score - dot(q16!, d16!)) < 1e-5, `${cut!.score} vs ${dot(q16!, d16!)}`);
    } finally {
      await engine.dispose();
    }
  });
});

describe('grounded prompts', () => {
  const hits = [
    { docId: 'a', passage: 2, start: 0, end: 5, text: 'Alpha', title: 'Doc A', score: 0.9 },
    { docId: 'b', passage: 0, start: 0, end: 4, text: 'Beta', title: 'Doc B', score: 0.8 },
  ];

  test('numbered sources before the question; a reply\'s [n] lead back to the hits', () => {
    const prompt = groundedPrompt('What is alpha?', hits);
    assert.ok(prompt.includes('[1] Doc A (passage 3)\nAlpha\n\n[2] Doc B (passage 1)\nBeta'));
    assert.ok(prompt.endsWith('Question: What is alpha?'));
    assert.ok(!groundedPrompt('q', hits, { maxSourceChars: 6 }).includes('Beta'));
    assert.equal(groundedPrompt('q', []), 'q');
    const messages = groundedMessages('What is alpha?', hits, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }]);
    assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'user']);
    assert.equal(messages[2]!.content, prompt);
    assert.deepEqual(citedSources('Alpha is first [1]. See [2, 1] and [7].', hits).map((c) => [c.number, c.hit.docId]), [[1, 'a'], [2, 'b']]);
    assert.throws(() => groundedPrompt(' ', hits), InvalidRequestError);
  });
});
