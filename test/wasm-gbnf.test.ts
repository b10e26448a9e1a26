// Hearth's byte grammars written as GBNF for the WebAssembly backend (src/wasm/gbnf.ts), checked against
// llama.cpp's own grammar engine (node-llama-cpp's build): for JSON-mode schemas and tool-call grammars, llama.cpp
// accepts exactly the texts Hearth's matcher accepts — random valid instances, compact and indented, with
// non-ASCII characters in strings and names, and the same texts broken (a character dropped, changed or added,
// cut short). Also the lazy trigger's pattern: it fires where the output ends inside the calls' opening only.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ACCEPT, GrammarMatcher, type Rule } from '../src/engine/json/grammar';
import { grammarForSchema } from '../src/engine/json/schema';
import { detectToolFormat, toolCallSpec } from '../src/engine/tools/formats';
import { toolGrammar } from '../src/engine/tools/grammar';
import { MemorySource } from '../src/io/byte-source';
import { readGGUF } from '../src/model/gguf';
import { tokenizerFromGGUF } from '../src/tokenizer';
import { gbnfGrammar } from '../src/wasm/gbnf';
import { llamaToolParams } from '../src/wasm/tool-grammar';
import { fixturePath } from './helpers/fixtures';
import { randomInstance } from './helpers/json-schema-check';
import { SCHEMAS } from './helpers/json-schemas';
import { closeLlamaCpp, llamaCpp } from './helpers/llama-cpp';
import { seededRng, type Rng } from './helpers/seeded';
import { tinyChatModel } from './helpers/tiny-chat-model';

after(closeLlamaCpp);

/** llama.cpp's verdict on a whole text: node-llama-cpp's LlamaGrammar._testText (internal; the version is pinned). */
async function llamaGrammar(gbnf: string): Promise<(text: string) => boolean> {
  const llama = await llamaCpp();
  const grammar = await llama.createGrammar({ grammar: gbnf });
  return (text) => (grammar as unknown as { _testText(t: string): boolean })._testText(text);
}

function hearthAccepts(rules: Rule[], text: string): boolean {
  const m = new GrammarMatcher(rules);
  let state = m.initial();
  for (const b of new TextEncoder().encode(text)) {
    state = m.advance(state, b);
    if (state.length === 0) return false;
  }
  return state.includes(ACCEPT);
}

const ODD = ['é', 'ß', 'ж', '中', '€', '😀', 'a', '"', '\\', ' ', '\n', '}', '0'];

/** `text` broken in a few ways: a character dropped, changed, added; cut short. */
function broken(text: string, rng: Rng): string[] {
  const chars = [...text];
  const at = Math.floor(rng() * chars.length);
  const odd = ODD[Math.floor(rng() * ODD.length)]!;
  return [
    [...chars.slice(0, at), ...chars.slice(at + 1)].join(''),
    [...chars.slice(0, at), odd, ...chars.slice(at + 1)].join(''),
    [...chars.slice(0, at), odd, ...chars.slice(at)].join(''),
    chars.slice(0, at).join(''),
  ];
}

/** Non-ASCII characters in a value's strings (not its keys: they are the schema's), so that the UTF-8 classes are exercised. */
function unicode(value: unknown, rng: Rng): unknown {
  if (typeof value === 'string') return value.length === 0 ? value : [...value].map((c) => (rng() < 0.4 ? ODD[Math.floor(rng() * 6)]! : c)).join('');
  if (Array.isArray(value)) return value.map((v) => unicode(v, rng));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unicode(v, rng)]));
  return value;
}

async function compare(rules: Rule[], texts: string[], what: string): Promise<{ accepted: number; rejected: number }> {
  const llama = await llamaGrammar(gbnfGrammar(rules, []));
  let accepted = 0;
  let rejected = 0;
  for (const text of texts) {
    const hearth = hearthAccepts(rules, text);
    assert.equal(llama(text), hearth, `${what}: llama.cpp ${hearth ? 'rejects' : 'accepts'} ${JSON.stringify(text)}, which Hearth's grammar ${hearth ? 'accepts' : 'rejects'}`);
    if (hearth) accepted++; else rejected++;
  }
  return { accepted, rejected };
}

for (const [name, schema] of Object.entries(SCHEMAS)) {
  test(`schema "${name}" as GBNF: llama.cpp accepts what Hearth's grammar accepts, and rejects what it rejects`, async () => {
    const rules = grammarForSchema(schema);
    const rng = seededRng(name.length * 104729);
    const texts: string[] = [];
    for (let i = 0; i < 40; i++) {
      const value = randomInstance(schema, rng);
      for (const v of [value, unicode(value, rng)]) {
        for (const text of [JSON.stringify(v), JSON.stringify(v, null, 1), ` ${JSON.stringify(v, null, '\t')}`]) texts.push(text, ...broken(text, rng));
      }
    }
    const { accepted, rejected } = await compare(rules, texts, name);
    assert.ok(accepted >= 80 && rejected >= 40, `both verdicts are tested (${accepted} accepted, ${rejected} rejected)`);
  });
}

test('non-ASCII names and enum values, and strings bounded in characters (not bytes), as GBNF', async () => {
  const schema = { type: 'object', properties: { 'città': { type: 'string', maxLength: 3 }, größe: { enum: ['groß', '中文', '😀'] } }, required: ['città', 'größe'], additionalProperties: false };
  const texts = [
    '{"città": "abc", "größe": "groß"}', '{"città": "中文字", "größe": "中文"}', '{"città": "😀😀😀", "größe": "😀"}',
    '{"città": "abcd", "größe": "groß"}', '{"città": "中文字典", "größe": "中文"}', '{"citta": "a", "größe": "groß"}', '{"città": "a", "größe": "gross"}',
  ];
  const { accepted, rejected } = await compare(grammarForSchema(schema), texts, 'unicode');
  assert.deepEqual({ accepted, rejected }, { accepted: 3, rejected: 4 });
});

const TOOLS = [
  { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] } }, required: ['city'], additionalProperties: false } },
  { name: 'add', parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'], additionalProperties: false } },
];

/** A tokenizer whose vocabulary has no control tokens in the calls' syntax (GBNF token references aside, all text). */
async function textTokenizer(template: string) {
  const file = await readGGUF(new MemorySource(tinyChatModel(template, [], { extraChars: '{}[]":,-.0123456789_<>/=|()' }), 'tiny.gguf'));
  return tokenizerFromGGUF(file.metadata);
}

for (const file of ['Qwen-Qwen2.5-7B-Instruct.jinja', 'meta-llama-Llama-3.1-8B-Instruct.jinja', 'meetkai-functionary-medium-v3.1.jinja', 'google-gemma-2-2b-it.jinja']) {
  test(`${file}: the tool-call grammar as GBNF accepts the calls Hearth's accepts; the 'auto' trigger fires only inside the calls' opening`, async () => {
    const template = readFileSync(fixturePath('templates', file), 'utf8');
    const tokenizer = await textTokenizer(template);
    const format = detectToolFormat(template);
    const spec = toolCallSpec(format, TOOLS, 'required', true);
    const { rules, specials } = toolGrammar(tokenizer, spec);
    assert.deepEqual(specials, [], 'the syntax is text in this vocabulary');
    const rng = seededRng(file.length * 7919);
    const texts: string[] = [];
    for (let i = 0; i < 20; i++) {
      const calls = [0, 1, 2].slice(0, 1 + Math.floor(rng() * (format.parallel ? 3 : 1))).map(() => TOOLS[Math.floor(rng() * TOOLS.length)]!);
      const written = calls.map((t) => format.callPrefix(t.name) + JSON.stringify(randomInstance(t.parameters, rng)) + format.callSuffix);
      const text = spec.head + written.join(spec.sep) + spec.tail;
      texts.push(text, ...broken(text, rng));
    }
    const { accepted, rejected } = await compare(rules, texts, file);
    assert.ok(accepted >= 20 && rejected >= 20, `${accepted} accepted, ${rejected} rejected`);

    // 'auto': a pattern that finds the trigger where the text from it on is a prefix of the calls' opening.
    const lazy = llamaToolParams(tokenizer, toolCallSpec(format, TOOLS, 'auto', true), () => false);
    const [trigger] = lazy.params.grammar_triggers as { type: number; value: string }[];
    assert.equal(trigger!.type, 2, 'a pattern (llama.cpp COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN)');
    assert.deepEqual(lazy.banned, [], "nothing banned before the trigger: 'auto' text is free");
    const pattern = new RegExp(trigger!.value); // ECMAScript, as llama.cpp's std::regex
    const opening = spec.head + format.callPrefix('get_weather');
    for (let n = spec.trigger.length; n <= opening.length; n++) {
      const m = pattern.exec(`Let me look. ${opening.slice(0, n)}`);
      assert.equal(m?.index, 'Let me look. '.length, `fires at the trigger for ${JSON.stringify(opening.slice(0, n))}`);
    }
    assert.equal(pattern.exec(`Let me look. ${spec.trigger.slice(0, -1)}`), null, 'not before the trigger is complete');
    assert.equal(pattern.exec(`Let me look. ${spec.trigger}~`), null, 'not where the text after the trigger leaves the syntax');
  });
}

test("'required': the control tokens the grammar does not name are banned, end-of-generation ones left to the grammar", async () => {
  const template = readFileSync(fixturePath('templates', 'mistralai-Mistral-Nemo-Instruct-2407.jinja'), 'utf8');
  const controls = ['[TOOL_CALLS]', '[INST]', '[/INST]', '[AVAILABLE_TOOLS]', '[/AVAILABLE_TOOLS]'];
  const file = await readGGUF(new MemorySource(tinyChatModel(template, controls, { extraChars: '{}[]":,-.0123456789_' }), 'tiny.gguf'));
  const tokenizer = tokenizerFromGGUF(file.metadata);
  const eos = tokenizer.eosIds[0]!;
  const spec = toolCallSpec(detectToolFormat(template), TOOLS, 'required', true);
  const { params, banned } = llamaToolParams(tokenizer, spec, (id) => id === eos);
  assert.match(params.grammar as string, /^root ::= <\[0\]> /, 'the grammar begins with [TOOL_CALLS] as a token reference');
  assert.equal(params.grammar_lazy, undefined);
  // Ids: the controls 0-4, <unk> 5, <s> 6, </s> 7 (end of generation).
  assert.equal(eos, 7);
  assert.deepEqual(banned, [1, 2, 3, 4, 5, 6], 'the other control tokens, <unk> and <s>; not [TOOL_CALLS], not </s>');
});
