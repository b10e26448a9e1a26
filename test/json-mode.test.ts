// JSON mode end to end in Node: on stories260K (a base model that has never seen JSON) and on a tiny model with
// a chat template, sampled output under response_format parses and validates against its schema for every
// seed, streamed or not, also when max_tokens cuts it short; schemas the grammar cannot express are refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, UnsupportedError, type Engine } from '../src/index';
import { schemaProblems } from './helpers/json-schema-check';
import { SCHEMAS } from './helpers/json-schemas';
import { fixturePath } from './helpers/fixtures';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';

const SEEDS = 4;

let stories: Engine;
let chat: Engine;
before(async () => {
  stories = await createEngine(fixturePath('models/stories260K/stories260K.gguf'), { contextLength: 256, precision: 'f32' });
  chat = await createEngine(tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>'], { extraChars: '{}[]":,-.0123456789' }), { precision: 'f32' });
});
after(async () => {
  await stories?.dispose();
  await chat?.dispose();
});

function parsed(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    assert.fail(`${what}: output does not parse: ${JSON.stringify(text)} (${String(e)})`);
  }
}

// 56 tokens leave room for each schema's shortest document written one byte per token (the budget guarantee).
for (const [name, schema] of Object.entries(SCHEMAS)) {
  test(`stories260K, schema "${name}": ${SEEDS} seeds, every output parses and validates`, async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await stories.generate('Once upon a time', { maxTokens: 56, temperature: 1, seed, responseFormat: { type: 'json_schema', schema } }).result;
      const value = parsed(r.text, `seed ${seed}`);
      assert.deepEqual(schemaProblems(value, schema), [], `seed ${seed}: ${r.text}`);
    }
  });
}

test(`stories260K, json_object: ${SEEDS} seeds give a JSON object; a tight max_tokens still closes the JSON`, async () => {
  for (let seed = 0; seed < SEEDS; seed++) {
    const r = await stories.generate('Once upon a time', { maxTokens: 32, temperature: 1.2, seed, responseFormat: { type: 'json_object' } }).result;
    const value = parsed(r.text, `seed ${seed}`);
    assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), r.text);
  }
  for (let seed = 0; seed < SEEDS; seed++) {
    const r = await stories.generate('Once upon a time', { maxTokens: 6, temperature: 1, seed, responseFormat: { type: 'json_schema', schema: SCHEMAS.list! } }).result;
    assert.ok(r.tokens.length <= 6);
    assert.deepEqual(schemaProblems(parsed(r.text, `tight, seed ${seed}`), SCHEMAS.list!), []);
  }
});

test('chat.completions with response_format on a template-bearing model: every seed parses and validates, streamed too', async () => {
  const messages = [{ role: 'user' as const, content: 'Give me a person as JSON.' }];
  for (const schemaName of ['person', 'kinds', 'open'] as const) {
    const schema = SCHEMAS[schemaName]!;
    for (let seed = 0; seed < SEEDS; seed++) {
      const params = { messages, max_tokens: 64, seed, temperature: 1, response_format: { type: 'json_schema' as const, json_schema: { name: schemaName, schema, strict: true } } };
      const completion = await chat.chat.completions.create(params);
      const content = completion.choices[0]!.message.content!;
      assert.deepEqual(schemaProblems(parsed(content, `${schemaName} seed ${seed}`), schema), [], content);
      if (seed === 0) {
        let streamed = '';
        for await (const c of await chat.chat.completions.create({ ...params, stream: true })) streamed += c.choices[0]?.delta.content ?? '';
        assert.equal(streamed, content);
      }
    }
  }
  const object = await chat.chat.completions.create({ messages, max_tokens: 40, seed: 1, temperature: 1, response_format: { type: 'json_object' } });
  assert.equal(typeof parsed(object.choices[0]!.message.content!, 'json_object'), 'object');
});

test('a schema the grammar cannot express, or a vocabulary without JSON\'s characters, is refused with UnsupportedError', async () => {
  const letters = await createEngine(tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>']), { precision: 'f32' });
  try {
    await assert.rejects(letters.chat([{ role: 'user', content: 'Hi' }], { responseFormat: { type: 'json_object' } }).result, (e: unknown) => e instanceof UnsupportedError && /cannot write JSON/.test(e.message));
  } finally {
    await letters.dispose();
  }
  await assert.rejects(
    stories.generate('Hi', { responseFormat: { type: 'json_schema', schema: { type: 'string', format: 'email' } } }).result,
    (e: unknown) => e instanceof UnsupportedError && /"format"/.test(e.message),
  );
  await assert.rejects(
    chat.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'integer', minimum: 1 } } } }),
    (e: unknown) => e instanceof UnsupportedError && /"minimum"/.test(e.message),
  );
});
