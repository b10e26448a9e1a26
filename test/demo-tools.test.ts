// The chat app's example tools (demo/lib/tools.ts) through the app's own turn logic (demo/lib/turn.ts), in Node:
// with tools switched on, a model that opens a call gets it constrained, the app runs it, and the reply shows
// the call, its result and the model's answer; the calculator evaluates without eval.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEngine, type Engine } from '../src/index';
import { calculate, EXAMPLE_TOOLS, runTool } from '../demo/lib/tools';
import { runTurn } from '../demo/lib/turn';
import { fixturePath } from './helpers/fixtures';
import { tinyChatModel } from './helpers/tiny-chat-model';

let engine: Engine | undefined;
after(async () => { await engine?.dispose(); });

test('calculator: + - * / and parentheses, and refuses what it cannot read', () => {
  assert.equal(calculate('(2 + 3) * 4 - 10 / 4'), 17.5);
  assert.equal(calculate('-3*-2'), 6);
  assert.throws(() => calculate('2 + alert(1)'), /cannot read/);
  assert.match(runTool('calculate', '{"expression": "2 +"}'), /^error: unexpected end/);
  assert.equal(runTool('calculate', '{"expression": "6*7"}'), '42');
});

test('a reply with the example tools on: the call (forced open by a logit bias), its result, then the answer', async () => {
  const controls = ['<|im_end|>', '<|im_start|>', '<tool_call>', '</tool_call>'];
  const template = readFileSync(fixturePath('templates', 'Qwen-Qwen2.5-7B-Instruct.jinja'), 'utf8');
  engine = await createEngine(tinyChatModel(template, controls, { extraChars: '{}[]":,-.0123456789_<>/=|()+*' , contextLength: 4096 }), { precision: 'f32', contextLength: 4096 });
  let streamed = '';
  const turn = runTurn({
    engine, system: '', history: [{ role: 'user', content: 'What time is it?' }], tools: true,
    options: { maxTokens: 60, temperature: 1, seed: 0, logitBias: { [controls.indexOf('<tool_call>')]: 100 } },
    onText: (delta) => { streamed += delta; },
  });
  const { result, mode } = await turn.done;
  assert.equal(mode, 'chat');
  const shown = /^🔧 (current_time|calculate)\((\{.*\})\) → (.*)\n/.exec(result.text);
  assert.ok(shown, result.text);
  const tool = EXAMPLE_TOOLS.find((t) => t.function.name === shown[1])!;
  assert.ok(tool);
  if (shown[1] === 'calculate') assert.equal(shown[3], runTool('calculate', shown[2]!));
  else assert.ok(Math.abs(Date.parse(shown[3]!) - Date.now()) < 3_600_000, `the current time: ${shown[3]}`);
  assert.ok(streamed.includes(shown[0]), 'the call and its result were streamed too');
});
