// The public engine in Node: streaming text, cancellation within one token, prefix reuse, option validation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createEngine, InvalidRequestError, type Engine, type LoadProgress } from '../src/index';
import { serveFiles } from './helpers/file-server';
import { fixturePath } from './helpers/fixtures';

let engine: Engine;
// f32 arithmetic pinned: ids and logits are compared with llama2.c's (pinned, whatever 'auto' picks on the adapter).
before(async () => { engine = await createEngine(fixturePath('models/stories260K/stories260K.gguf'), { contextLength: 512, precision: 'f32' }); });
after(async () => { await engine?.dispose(); });

async function collect(prompt: string, options: Parameters<Engine['generate']>[1]) {
  const stream = engine.generate(prompt, options);
  let text = '';
  const ids: number[] = [];
  for await (const c of stream) { text += c.text; if (c.token >= 0) ids.push(c.token); }
  return { text, ids, result: await stream.result };
}

test('streamed text equals the decoded continuation', async () => {
  await engine.resetContext();
  const { text, ids, result } = await collect('Lily wanted to', { maxTokens: 60 });
  assert.deepEqual(ids, result.tokens);
  assert.equal(text, result.text);
  assert.equal(text, await engine.detokenize([...result.promptTokens, ...result.tokens]).then(async (all) => all.slice((await engine.detokenize(result.promptTokens)).length)));
  assert.ok(!text.includes('\uFFFD'));
});

test('cancel stops decoding within one token', async () => {
  await engine.resetContext();
  const stream = engine.generate('Once upon a time', { maxTokens: 150 });
  let seen = 0;
  let atCancel = -1;
  for await (const c of stream) {
    if (c.token >= 0) seen++;
    if (seen === 5 && atCancel < 0) { atCancel = seen; stream.cancel(); }
  }
  const r = await stream.result;
  assert.equal(r.finishReason, 'abort');
  assert.ok(r.tokens.length <= atCancel + 1, `generated ${r.tokens.length} tokens after cancelling at ${atCancel}`);
});

test('an AbortSignal cancels the same way', async () => {
  await engine.resetContext();
  const controller = new AbortController();
  const stream = engine.generate('The little dog', { maxTokens: 150, signal: controller.signal });
  let n = 0;
  for await (const c of stream) if (c.token >= 0 && ++n === 3) controller.abort();
  const r = await stream.result;
  assert.equal(r.finishReason, 'abort');
  assert.ok(r.tokens.length <= 4);
});

test('a prompt that extends the previous context reuses the KV cache and gives the same tokens', async () => {
  await engine.resetContext();
  const first = await collect('Tom and Sam', { maxTokens: 20 });
  const follow = `Tom and Sam${first.text} Then`;
  const warm = await collect(follow, { maxTokens: 20 });
  await engine.resetContext();
  const cold = await collect(follow, { maxTokens: 20 });
  assert.deepEqual(warm.result.tokens, cold.result.tokens);
  assert.equal(cold.result.prefillTokens, cold.result.promptTokens.length);
  assert.ok(warm.result.prefillTokens < cold.result.prefillTokens / 2, `reused prefix: computed ${warm.result.prefillTokens} of ${cold.result.promptTokens.length} prompt tokens`);
});

test('seeded sampling is reproducible, and top-k 1 is greedy', async () => {
  const opts = { maxTokens: 30, temperature: 0.9, topP: 0.95, seed: 1234 };
  await engine.resetContext();
  const a = await collect('One day, a big', opts);
  await engine.resetContext();
  const b = await collect('One day, a big', opts);
  assert.deepEqual(a.ids, b.ids);
  await engine.resetContext();
  const c = await collect('One day, a big', { ...opts, seed: 99 });
  assert.notDeepEqual(a.ids, c.ids, 'a different seed gives a different continuation');
  await engine.resetContext();
  const greedy = await collect('One day, a big', { maxTokens: 30 });
  await engine.resetContext();
  const topK1 = await collect('One day, a big', { ...opts, topK: 1 });
  assert.deepEqual(topK1.ids, greedy.ids);
});

test('logits: BOS logits equal llama2.c\'s; after a prompt their argmax is greedy\'s next token, with the prefix reused', async () => {
  await engine.resetContext();
  const ref: { logits: number[] } = JSON.parse(await readFile(fixturePath('models/stories260K/logits_bos.json'), 'utf8'));
  const bos = await engine.logits([1]);
  assert.equal(bos.length, ref.logits.length);
  const maxDiff = ref.logits.reduce((m, x, i) => Math.max(m, Math.abs(bos[i]! - x)), 0);
  assert.ok(maxDiff <= 2e-3, `max |logit - llama2.c| = ${maxDiff}`);

  await engine.resetContext();
  const greedy = await collect('Once upon a time', { maxTokens: 4 });
  const argmax = (xs: Float32Array) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);
  const context = [...greedy.result.promptTokens];
  for (const next of greedy.result.tokens) {
    assert.equal(argmax(await engine.logits(context)), next); // each call computes one new position
    context.push(next);
  }
  // The logits' context is the cached one: generate continues it without recomputing it.
  const more = await collect('Once upon a time' + greedy.text, { maxTokens: 1 });
  assert.equal(more.result.prefillTokens, 1);
  await assert.rejects(engine.logits([]), InvalidRequestError);
  await assert.rejects(engine.logits([1, 512]), /outside the vocabulary/);
});

test('invalid options are rejected with InvalidRequestError', async () => {
  for (const bad of [{ maxTokens: -1 }, { maxTokens: 1.5 }, { temperature: -0.1 }, { topP: 0 }, { topP: 1.5 }, { topK: -2 }, { seed: -1 }]) {
    const stream = engine.generate('Once', bad);
    await assert.rejects(stream.result, InvalidRequestError, JSON.stringify(bad));
    await assert.rejects(async () => { for await (const _ of stream); }, InvalidRequestError);
  }
  const tooLong = 'Once upon a time '.repeat(200);
  await assert.rejects(engine.generate(tooLong, { maxTokens: 1 }).result, /context holds 512/);
});

test('loading reports download (URL) or upload (file), then compile and ready, in order', async () => {
  const bytes = new Uint8Array(await readFile(fixturePath('models/stories260K/stories260K-F16.gguf')));
  const server = await serveFiles({ '/m.gguf': bytes }, { range: true });
  try {
    const events: LoadProgress[] = [];
    const remote = await createEngine(`${server.url}/m.gguf`, { onProgress: (p) => events.push(p), contextLength: 64 });
    try {
      assert.equal(remote.model.weightType, 'F16');
      const phases = events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]);
      assert.deepEqual(phases, ['download', 'compile', 'ready']);
      for (const e of events) {
        assert.equal(e.file, `${server.url}/m.gguf`);
        assert.ok(e.loaded >= 0 && (e.total === 0 || e.loaded <= e.total) && e.rate >= 0, JSON.stringify(e));
      }
      const r = await remote.generate('Once upon a time', { maxTokens: 8 }).result;
      assert.equal(r.tokens.length, 8);
    } finally {
      await remote.dispose();
    }
  } finally {
    await server.close();
  }
  const events: LoadProgress[] = [];
  const local = await createEngine(fixturePath('models/stories260K/stories260K.gguf'), { onProgress: (p) => events.push(p), contextLength: 64 });
  await local.dispose();
  assert.deepEqual(events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]), ['upload', 'compile', 'ready']);
  const uploads = events.filter((e) => e.phase === 'upload');
  assert.equal(uploads.at(-1)!.loaded, uploads.at(-1)!.total, 'upload ends complete');
});
