// JSON mode's grammars on the CPU: for each schema, random valid instances (compact and indented) are
// accepted byte by byte and end in an accepting state; instances that break the schema, truncated ones and
// non-JSON are rejected; the grammar's "bytes to finish" is exact on closing suffixes; unsupported keywords
// are refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCEPT, GrammarMatcher } from '../src/engine/json/grammar';
import { grammarForJsonObject, grammarForSchema } from '../src/engine/json/schema';
import { InvalidRequestError, UnsupportedError } from '../src/errors';
import { randomInstance, schemaProblems } from './helpers/json-schema-check';
import { SCHEMAS } from './helpers/json-schemas';
import { seededRng } from './helpers/seeded';

function run(matcher: GrammarMatcher, text: string): number[] {
  let state = matcher.initial();
  for (const b of new TextEncoder().encode(text)) {
    state = matcher.advance(state, b);
    if (state.length === 0) return state;
  }
  return state;
}
const accepts = (m: GrammarMatcher, text: string) => run(m, text).includes(ACCEPT);

for (const [name, schema] of Object.entries(SCHEMAS)) {
  test(`schema "${name}": valid instances are accepted, broken ones rejected`, () => {
    const matcher = new GrammarMatcher(grammarForSchema(schema));
    const rng = seededRng(name.length * 7919);
    for (let i = 0; i < 60; i++) {
      const value = randomInstance(schema, rng);
      assert.deepEqual(schemaProblems(value, schema), [], 'the generator makes valid instances');
      for (const text of [JSON.stringify(value), JSON.stringify(value, null, 1), ` ${JSON.stringify(value)}`]) {
        assert.ok(accepts(matcher, text), `rejected valid ${text}`);
        // Every prefix stays viable, and the shortest way to close it is no longer than the real rest.
        const bytes = new TextEncoder().encode(text);
        const k = Math.floor(rng() * bytes.length);
        let state = matcher.initial();
        for (const b of bytes.subarray(0, k)) state = matcher.advance(state, b);
        assert.ok(state.length > 0, `prefix of ${text} rejected`);
        assert.ok(matcher.bytesToFinish(state) <= bytes.length - k, `${matcher.bytesToFinish(state)} > ${bytes.length - k} for ${text} cut at ${k}`);
      }
    }
  });
}

test('rejections: missing required, wrong types, extra keys, bounds, order, truncation, non-JSON', () => {
  const person = new GrammarMatcher(grammarForSchema(SCHEMAS.person!));
  for (const bad of [
    '{"age": 3}', '{"name": "x"}', '{"name": 5, "age": 3}', '{"name": "x", "age": 3.5}', '{"name": "x", "age": 3, "other": 1}',
    '{"name": "thirteen chars", "age": 3}', '{"name": "x", "age": 3, "tags": ["a", "b", "c", "d"]}', '{"name": "x", "age": 3, "tags": ["toolong"]}',
    '{"age": 3, "name": "x"}', '{"name": "x", "age": 3', '{"name": "x", "age": 03}', '{"name": "x\u0001", "age": 3}', "{'name': 'x', 'age': 3}",
    '[]', 'null', '{"name": "x", "age": 3}}', '{"name": "x",  "age": 3}',
  ]) {
    assert.ok(!accepts(person, bad), `accepted ${bad}`);
  }
  assert.ok(accepts(person, '{"name": "x", "age": -12, "tags": []}'));
  assert.ok(accepts(person, '{\n  "name": "\\u00e9\\n",\n  "age": 0\n}'));
  const kinds = new GrammarMatcher(grammarForSchema(SCHEMAS.kinds!));
  assert.ok(accepts(kinds, '{"kind": null, "ok": true, "fixed": {"a":[1,"x"]}}'));
  assert.ok(!accepts(kinds, '{"kind": "cow", "ok": true, "fixed": {"a":[1,"x"]}}'));
  assert.ok(!accepts(kinds, '{"kind": "cat", "ok": true, "note": "x", "fixed": {"a":[1,"x"]}}'), 'minLength 2');
});

test('json_object: any object (nested values of every type), nothing else at the top', () => {
  const m = new GrammarMatcher(grammarForJsonObject());
  const rng = seededRng(99);
  for (let i = 0; i < 40; i++) {
    const value = { a: randomInstance(true, rng), b: [randomInstance(true, rng)], 'c d': { e: randomInstance(true, rng) } };
    assert.ok(accepts(m, JSON.stringify(value)), JSON.stringify(value));
    assert.ok(accepts(m, JSON.stringify(value, null, 1)));
  }
  for (const bad of ['[1]', '"x"', '3', '{"a" 1}', '{"a": tru}', '{,}', '{"a": 1,}']) assert.ok(!accepts(m, bad), bad);
  assert.equal(m.bytesToFinish(run(m, '{"a": [1, {"b": "x')), '"}]}'.length);
});

test('schemas the grammar cannot express are refused, naming the keyword', () => {
  assert.throws(() => grammarForSchema({ type: 'integer', minimum: 3 }), (e: unknown) => e instanceof UnsupportedError && /"minimum"/.test(e.message));
  assert.throws(() => grammarForSchema({ type: 'string', pattern: '^a' }), (e: unknown) => e instanceof UnsupportedError && /"pattern"/.test(e.message));
  assert.throws(() => grammarForSchema({ $ref: 'https://example.com/s.json' }), UnsupportedError);
  assert.throws(() => grammarForSchema({ type: 'strange' }), InvalidRequestError);
  assert.throws(() => grammarForSchema({ type: 'string', maxLength: -1 }), InvalidRequestError);
});
