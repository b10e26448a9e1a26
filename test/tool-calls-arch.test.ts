// Tool calls on tiny random-weight models of each architecture (tiny-models.ts: byte-level vocabularies, so the
// template's markers are plain text): under tool_choice 'required' every seed gives calls in the template's
// syntax whose names are tools and whose arguments validate; streamed deltas reassemble to the same calls.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEngine, type ChatCompletionChunk, type Engine } from '../src/index';
import { schemaProblems } from './helpers/json-schema-check';
import { fixturePath } from './helpers/fixtures';
import { writeGGUF } from './helpers/gguf-writer';
import { tinyModelSpec, type TinyArch } from './helpers/tiny-models';

const SEEDS = 3;
const TOOLS = [
  { type: 'function' as const, function: { name: 'lookup', description: 'Looks a word up', parameters: { type: 'object', properties: { word: { type: 'string', description: 'The word', maxLength: 8 }, exact: { type: 'boolean', description: 'Exact match' } }, required: ['word'], additionalProperties: false } } },
  { type: 'function' as const, function: { name: 'count', description: 'Counts to n', parameters: { type: 'object', properties: { n: { type: 'integer', description: 'How far' } }, required: ['n'] } } },
];
const ARCHS: TinyArch[] = ['llama', 'qwen2', 'qwen3', 'phi3', 'gemma2', 'gemma3', 'gpt2'];
/** One template per format family, spread over the architectures. */
const TEMPLATES = ['Qwen-Qwen2.5-7B-Instruct.jinja', 'meta-llama-Llama-3.1-8B-Instruct.jinja', 'mistralai-Mistral-Nemo-Instruct-2407.jinja', 'ibm-granite-granite-3.3-2B-Instruct.jinja', 'meetkai-functionary-medium-v3.1.jinja', 'google-gemma-2-2b-it.jinja', 'Qwen-Qwen3-0.6B.jinja'];

const engines: Engine[] = [];
after(async () => { for (const e of engines) await e.dispose(); });

ARCHS.forEach((arch, k) => {
  const file = TEMPLATES[k % TEMPLATES.length]!;
  test(`${arch} with ${file}: 'required' calls validate for every seed; streaming reassembles them`, async () => {
    const template = readFileSync(fixturePath('templates', file), 'utf8');
    const spec = tinyModelSpec(arch, { contextLength: 4096, dim: 64, ff: 128, metadata: { 'tokenizer.chat_template': template } });
    const engine = await createEngine(writeGGUF(spec), { precision: 'f32', contextLength: 4096 });
    engines.push(engine);
    const messages = [{ role: 'user' as const, content: 'Count to three.' }];
    for (let seed = 0; seed < SEEDS; seed++) {
      const params = { messages, tools: TOOLS, tool_choice: 'required' as const, seed, temperature: 1, max_tokens: 150 };
      const r = await engine.chat.completions.create(params);
      const choice = r.choices[0]!;
      assert.equal(choice.finish_reason, 'tool_calls', `seed ${seed}: ${JSON.stringify(choice.message)}`);
      const calls = choice.message.tool_calls!.map((c) => (c.type === 'function' ? c.function : { name: '', arguments: '' }));
      for (const c of calls) {
        const tool = TOOLS.find((t) => t.function.name === c.name);
        assert.ok(tool, c.name);
        assert.deepEqual(schemaProblems(JSON.parse(c.arguments), tool.function.parameters), [], c.arguments);
      }
      const pieces = new Map<number, { name: string; args: string }>();
      for await (const chunk of await engine.chat.completions.create({ ...params, stream: true }) as AsyncIterable<ChatCompletionChunk>) {
        for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
          if (d.function?.name !== undefined) pieces.set(d.index, { name: d.function.name, args: '' });
          pieces.get(d.index)!.args += d.function?.arguments ?? '';
        }
      }
      assert.deepEqual([...pieces.values()].map((p) => [p.name, p.args]), calls.map((c) => [c.name, c.arguments]));
    }
  });
});
