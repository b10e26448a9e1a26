// The CLI's tokenize / inspect / chat commands as a user runs them: tokenize against llama.cpp's tokenizer
// suites, inspect against the files' known layout and the loader's real GPU allocation, chat through piped
// stdin (transcript, /reset, /exit, Ctrl-C), and errors on stderr with a non-zero exit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectModel } from '../src/cli/inspect';
import { createEngine } from '../src/index';
import { MemorySource } from '../src/io/byte-source';
import { readGGUF } from '../src/model/gguf';
import { gpuBufferSize, prefillBatch, q8ScratchBytes } from '../src/model/memory';
import type { ModelConfig } from '../src/model/config';
import { repoRoot } from './helpers/browser';
import { serveFiles } from './helpers/file-server';
import { fixturePath } from './helpers/fixtures';
import { writeGGUF } from './helpers/gguf-writer';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';
import { tinyModelSpec } from './helpers/tiny-models';

interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `hearth <args>` as a separate process, optionally with `input` piped to stdin. */
function cli(args: string[], input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--import', './scripts/register.mjs', 'src/cli.ts', ...args], { cwd: repoRoot, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      const code = error ? (error as { code?: unknown }).code : 0;
      if (typeof code !== 'number') reject(error);
      else resolve({ code, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

const vocab = (name: string) => fixturePath('models', 'llama-cpp-vocab', `ggml-vocab-${name}.gguf`);
const STORIES = fixturePath('models', 'stories260K', 'stories260K.gguf');
const STORIES_F16 = fixturePath('models', 'stories260K', 'stories260K-F16.gguf');
const STORIES_Q8 = fixturePath('models', 'stories260K', 'stories260K-Q8_0.gguf');

/** test-tokenizer-0 cases (see test/tokenizer.test.ts for the format): inputs and their ids without BOS. */
async function suite(name: string): Promise<{ text: string; ids: number[] }[]> {
  const inputs = (await readFile(vocab(name) + '.inp', 'utf8')).split('\n__ggml_vocab_test__\n').slice(0, -1);
  const outputs = (await readFile(vocab(name) + '.out', 'utf8')).split('\n').slice(0, -1);
  return inputs.map((text, i) => ({ text, ids: outputs[i]!.trim() === '' ? [] : outputs[i]!.trim().split(/\s+/).map(Number) }));
}

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hearth-cli-commands-')); });
after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

describe('hearth tokenize (GGUF header and vocabulary only: vocab-only files work)', () => {
  test("llama-spm: ids equal llama.cpp's, BOS first because the vocabulary's add_bos_token says so; --no-bos drops it", async () => {
    const cases = (await suite('llama-spm')).filter((c) => c.text.trim() !== '');
    for (const { text, ids } of [cases[0]!, cases.find((c) => c.text.includes('\n') && /\w/.test(c.text))!]) {
      const json = await cli(['tokenize', '--model', vocab('llama-spm'), '--text', text, '--json']);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), { ids: [1, ...ids] }, `input ${JSON.stringify(text)}`);
      const plain = await cli(['tokenize', '--model', vocab('llama-spm'), '--text', text, '--no-bos']);
      assert.equal(plain.stdout, `${ids.join(' ')}\n`);
    }
  });

  test('gpt-2 adds no BOS (no add_bos_token; byte-level BPE defaults to none)', async () => {
    const { text, ids } = (await suite('gpt-2')).find((c) => c.text.length > 20)!;
    const r = await cli(['tokenize', '--model', vocab('gpt-2'), '--text', text, '--json']);
    assert.deepEqual(JSON.parse(r.stdout), { ids });
  });

  test('--special reads control-token texts as tokens, and a BOS the text writes is not doubled', async () => {
    const special = await cli(['tokenize', '--model', vocab('llama-spm'), '--text', '<s>[INST] Hi [/INST]', '--special', '--json']);
    const plain = await cli(['tokenize', '--model', vocab('llama-spm'), '--text', '[INST] Hi [/INST]', '--json']);
    assert.deepEqual(JSON.parse(special.stdout), JSON.parse(plain.stdout));
    const asText = await cli(['tokenize', '--model', vocab('llama-spm'), '--text', '<s>', '--json']);
    assert.ok(JSON.parse(asText.stdout).ids.filter((id: number) => id === 1).length === 1, 'without --special "<s>" is text');
  });
});

describe('hearth inspect (header only, no GPU)', () => {
  // stories260K (models/README.md): dim 64, 5 layers, 8 heads of 8, 4 KV heads, FFN 172, vocab 512, n_ctx_train 2048.
  const dim = 64, layers = 5, headDim = 8, kvHeads = 4, ffn = 172, vocabSize = 512;
  const perLayer = 2 * dim + dim * dim * 2 + dim * kvHeads * headDim * 2 + 3 * dim * ffn; // norms, q/o, k/v, gate/up/down
  const parameters = 2 * vocabSize * dim + layers * perLayer + dim; // embedding, output, layers, output norm
  const kvCache = (ctx: number) => 2 * layers * ctx * kvHeads * headDim * 4;

  test('F32 file: fields, a one-type histogram, weights and KV cache from the config', async () => {
    const r = await cli(['inspect', '--model', STORIES, '--json', '--context-length', '256']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.architecture, 'llama');
    assert.equal(report.parameters, parameters);
    assert.equal(report.trainedContextLength, 2048);
    assert.equal(report.vocabSize, vocabSize);
    assert.equal(report.chatTemplate, false);
    assert.equal(report.problem, null);
    assert.deepEqual(report.tensorTypes, { F32: { count: 48, bytes: 4 * parameters } });
    const m = report.gpuMemory;
    assert.equal(m.contextLength, 256);
    assert.equal(m.weights, 4 * parameters, 'F32 tensors go to the GPU as stored');
    assert.equal(m.kvCache, kvCache(256));
    assert.equal(m.total, m.weights + m.kvCache + m.activations);
  });

  test('--kv-cache f16: the KV cache at 2 bytes an element (lavapipe has shader-f16), reported; auto keeps f32 on this CPU adapter', async () => {
    const [f16, auto] = await Promise.all([['--kv-cache', 'f16'], []].map(async (flag) => {
      const r = await cli(['inspect', '--model', STORIES, '--json', '--context-length', '256', ...flag]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    }));
    assert.deepEqual(f16.kvCache, { requested: 'f16', chosen: 'f16', problem: null });
    assert.deepEqual(auto.kvCache, { requested: 'auto', chosen: 'f32', problem: null });
    assert.equal(f16.gpuMemory.kvCache, kvCache(256) / 2);
    assert.equal(auto.gpuMemory.kvCache, kvCache(256));
    assert.equal(auto.gpuMemory.total - f16.gpuMemory.total, kvCache(256) / 2);
    const text = await cli(['inspect', '--model', STORIES, '--kv-cache', 'f16']);
    assert.match(text.stdout, /^KV cache\s+f16 keys and values \(requested, on .+\)$/m);
  });

  test("the estimate is the loader's exact allocation: stories260K F32/F16/Q8_0 and a tiny model of every architecture", async () => {
    const models: [string, Uint8Array][] = [];
    for (const file of [STORIES, STORIES_F16, STORIES_Q8]) models.push([file, await readFile(file)]);
    for (const arch of ['llama', 'qwen2', 'qwen3', 'phi3', 'gemma2', 'gemma3', 'gpt2'] as const) {
      models.push([arch, writeGGUF(tinyModelSpec(arch, { dim: 64, ff: 128 }))]);
    }
    for (const [name, bytes] of models) {
      const contextLength = 48;
      const engine = await createEngine(bytes, { contextLength });
      const actual = engine.model.gpuBytes;
      const { precision } = engine.model; // 'auto' on this CPU adapter: q8 for the Q8_0 file
      await engine.dispose();
      const estimate = inspectModel(await readGGUF(new MemorySource(bytes, name)), contextLength, undefined, { precision }).gpuMemory!;
      assert.equal(estimate.total, actual, `${name}: estimated ${estimate.total} bytes, the loader allocated ${actual} (keep src/model/memory.ts in step with the loader)`);
    }
  });

  test('Q8_0 file: histogram as llama-quantize left it, weights at their quantized size', async () => {
    const report = JSON.parse((await cli(['inspect', '--model', STORIES_Q8, '--json'])).stdout);
    const matrices = (rows: number, cols: number) => rows * cols;
    // Q8_0: blocks of 32 weights in 34 bytes. ffn_down (172 columns) cannot be blocked and stays F16; norms stay F32.
    const q8 = matrices(vocabSize, dim) * 2 + layers * (2 * matrices(dim, dim) + 2 * matrices(dim, kvHeads * headDim) + 2 * matrices(dim, ffn));
    assert.deepEqual(report.tensorTypes, {
      Q8_0: { count: 2 + layers * 6, bytes: (q8 / 32) * 34 },
      F16: { count: layers, bytes: layers * dim * ffn * 2 },
      F32: { count: 2 * layers + 1, bytes: (2 * layers + 1) * dim * 4 },
    });
    assert.equal(report.parameters, parameters);
    assert.equal(report.gpuMemory.contextLength, 2048, 'defaults to what createEngine uses: min(2048, n_ctx_train)');
    assert.equal(report.gpuMemory.weights, (q8 / 32) * 34 + layers * dim * ffn * 2 + (2 * layers + 1) * dim * 4);
    assert.equal(report.gpuMemory.kvCache, kvCache(2048));
    const f32 = JSON.parse((await cli(['inspect', '--model', STORIES, '--json'])).stdout);
    // 'auto' on this CPU adapter: q8 for the Q8_0 file (its activation scratch on top), the F32 file's own arithmetic for F32.
    assert.equal(report.precision.chosen, 'q8');
    assert.notEqual(f32.precision.chosen, 'q8');
    const config = { embeddingLength: dim, headCount: 8, headDim, feedForwardLength: ffn } as ModelConfig;
    assert.equal(report.gpuMemory.activations, f32.gpuMemory.activations + gpuBufferSize(q8ScratchBytes(config, prefillBatch(config, 2048))), 'same config, same activations, and the q8 scratch');
  });

  test('a URL works like a path (the header is read with Range requests)', async () => {
    const server = await serveFiles({ '/m.gguf': await readFile(STORIES_Q8) }, { range: true });
    try {
      const [byUrl, byPath] = await Promise.all([cli(['inspect', '--model', `${server.url}/m.gguf`, '--json']), cli(['inspect', '--model', STORIES_Q8, '--json'])]);
      assert.equal(byUrl.code, 0, byUrl.stderr);
      assert.deepEqual(JSON.parse(byUrl.stdout), JSON.parse(byPath.stdout));
      const ids = await cli(['tokenize', '--model', `${server.url}/m.gguf`, '--text', 'Once upon a time', '--json']);
      assert.deepEqual(JSON.parse(ids.stdout), { ids: [1, 403, 407, 261, 378] }, 'llama2.c\'s prompt ids (stories260K/refs.json)');
    } finally {
      await server.close();
    }
  });

  test('text output; a vocab-only file says why it cannot run', async () => {
    const text = await cli(['inspect', '--model', STORIES, '--context-length', '99999']);
    assert.match(text.stdout, /^architecture\s+llama$/m);
    assert.match(text.stdout, /^parameters\s+292\.8K \(292,800\)$/m);
    assert.match(text.stdout, /^tensor types\s+F32\s+48 tensors/m);
    assert.match(text.stdout, /^GPU memory\s+.* for 2048 positions$/m, '--context-length is capped at n_ctx_train');
    const vocabOnly = JSON.parse((await cli(['inspect', '--model', vocab('qwen2'), '--json'])).stdout);
    assert.equal(vocabOnly.chatTemplate, true);
    assert.equal(vocabOnly.gpuMemory, null);
    assert.match(vocabOnly.problem, /architecture 'qwen2'|required tensor/);
  });
});

describe('hearth chat (stdin piped)', () => {
  let chatModel: string;
  before(async () => {
    chatModel = join(dir, 'tiny-chatml.gguf');
    await writeFile(chatModel, tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>']));
  });
  const stats = (stderr: string) => [...stderr.matchAll(/\[(\d+) prompt tokens \((\d+) computed\), (\d+) generated, (\w+)/g)].map((m) => ({ prompt: +m[1]!, computed: +m[2]!, generated: +m[3]!, finish: m[4]! }));

  test('a transcript of two turns: the prompt is the ChatML rendering, the second turn extends the first', async () => {
    const r = await cli(['chat', '--model', chatModel, '--system', 'Be nice.', '--max-tokens', '4', '--verbose'], 'Hello there\nAnd then?\n');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('> ')), ['> Hello there', '> And then?']);
    assert.match(r.stdout, /^> Hello there\n[\s\S]*\n> And then\?\n[\s\S]*\n$/);
    const [first, second] = stats(r.stderr);
    const rendered = '<|im_start|>system\nBe nice.<|im_end|>\n<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\n';
    const { ids } = JSON.parse((await cli(['tokenize', '--model', chatModel, '--text', rendered, '--special', '--json'])).stdout);
    assert.equal(first!.prompt, ids.length);
    assert.ok(second!.prompt > first!.prompt + first!.generated, 'the history is in the second prompt');
    assert.ok(second!.computed < second!.prompt, 'and its cached prefix is reused');
  });

  test('--tools FILE: the model calls a tool (schema-valid arguments), /result answers it as a tool message, the model replies', async () => {
    const qwen = join(dir, 'tiny-qwen-tools.gguf');
    await writeFile(qwen, tinyChatModel(readFileSync(fixturePath('templates', 'Qwen-Qwen2.5-7B-Instruct.jinja'), 'utf8'), ['<|im_end|>', '<|im_start|>', '<tool_call>', '</tool_call>'], { extraChars: '{}[]":,-.0123456789_<>/=|()', contextLength: 4096 }));
    const tools = join(dir, 'tools.json');
    await writeFile(tools, JSON.stringify([{ type: 'function', function: { name: 'add', description: 'Adds', parameters: { type: 'object', properties: { a: { type: 'integer', description: 'a' }, b: { type: 'integer', description: 'b' } }, required: ['a', 'b'] } } }]));
    const r = await cli(['chat', '--model', qwen, '--tools', tools, '--tool-choice', 'add', '--context-length', '4096', '--max-tokens', '60', '--temperature', '1', '--verbose'], 'Add 2 and 3\n/result 5\n');
    assert.equal(r.code, 0, r.stderr);
    const call = /\(tool call (call_\w+): add\((\{.*\})\); \/result TEXT answers it\)/.exec(r.stderr);
    assert.ok(call, r.stderr);
    const args = JSON.parse(call[2]!) as { a: unknown; b: unknown };
    assert.ok(Number.isInteger(args.a) && Number.isInteger(args.b), call[2]);
    assert.match(r.stdout, /^> Add 2 and 3\n<tool_call>\n\{"name": "add", "arguments": /);
    assert.match(r.stdout, /\n> \/result 5\n/);
    const [first, second] = stats(r.stderr);
    assert.ok(second && second.prompt > first!.prompt + 20, 'the model replied after the call and its result, which are in its prompt');
  });

  test('/reset forgets the conversation, /exit quits before the next line', async () => {
    const r = await cli(['chat', '--model', chatModel, '--max-tokens', '3', '--verbose'], 'Hello\n/reset\nHello\n/exit\nNever\n');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('> ')), ['> Hello', '> Hello']);
    assert.match(r.stderr, /\(conversation cleared\)/);
    const [first, second] = stats(r.stderr);
    assert.deepEqual(second, { ...first!, finish: second!.finish, generated: second!.generated }, 'after /reset the same line is a fresh, fully computed prompt');
    assert.equal(second!.computed, second!.prompt);
  });

  test('a base model: the CLI says it has no chat template and continues the text instead', async () => {
    const r = await cli(['chat', '--model', STORIES, '--max-tokens', '20'], 'Once upon a time\n');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /has no chat template \(a base model\)/);
    const generated = await cli(['generate', '--model', STORIES, '--prompt', 'Once upon a time', '--max-tokens', '20']);
    assert.equal(r.stdout, `> Once upon a time\n${generated.stdout}`);
  });

  test('Ctrl-C stops a reply and the chat goes on; Ctrl-C again (at the prompt) quits', async () => {
    for (const quitWithCtrlC of [false, true]) {
      const child = spawn(process.execPath, ['--import', './scripts/register.mjs', 'src/cli.ts', 'chat', '--model', STORIES, '--max-tokens', '2000', '--verbose'], { cwd: repoRoot });
      try {
        let stdout = '';
        let stderr = '';
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        /** Resolves once `pattern` shows up in the output (events, not timers, decide when to press Ctrl-C). */
        const seen = (stream: 'stdout' | 'stderr', pattern: RegExp) => new Promise<void>((resolve) => {
          const check = () => { if (pattern.test(stream === 'stdout' ? stdout : stderr)) resolve(); };
          child[stream].on('data', check);
          check();
        });
        child.stdout.on('data', (d) => { stdout += d; });
        child.stderr.on('data', (d) => { stderr += d; });
        child.stdin.write('Once upon a time\n');
        await seen('stdout', /^> Once upon a time\n./);
        child.kill('SIGINT');
        await seen('stderr', /\(stopped\)/);
        if (quitWithCtrlC) child.kill('SIGINT');
        else child.stdin.end('/exit\n');
        const code = await exited;
        assert.equal(code, quitWithCtrlC ? 130 : 0, stderr);
        assert.deepEqual(stats(stderr).map((s) => s.finish), ['abort']);
        assert.ok(stats(stderr)[0]!.generated < 2000);
      } finally {
        child.kill();
      }
    }
  });
});

describe('errors go to stderr with a non-zero exit and nothing on stdout', () => {
  test('bad arguments and bad files', async () => {
    const wrongMagic = join(dir, 'wrong-magic.gguf');
    await writeFile(wrongMagic, Buffer.concat([Buffer.from('GGML'), (await readFile(STORIES)).subarray(4)]));
    const cases: [string[], RegExp, number][] = [
      [['tokenize', '--text', 'hi'], /--model is required/, 2],
      [['tokenize', '--model', vocab('llama-spm')], /--text is required/, 2],
      [['tokenize', '--model', join(dir, 'missing.gguf'), '--text', 'hi'], /does not exist/, 1],
      [['inspect', '--model', wrongMagic], /FormatError: .*not a GGUF file/i, 1],
      [['inspect', '--model', STORIES, '--context-length', '0'], /--context-length must be a positive integer/, 2],
      [['inspect', '--model', STORIES, '--precision', 'f64'], /--precision must be auto, f16, f32 or q8/, 2],
      [['inspect', '--model', STORIES, '--kv-cache', 'q8'], /--kv-cache must be auto, f16 or f32/, 2],
      [['generate', '--model', STORIES, '--max-tokens', 'abc'], /--max-tokens must be a number[\s\S]*usage: hearth generate/, 2],
      [['generate', '--model', STORIES, '--temperature=-1'], /InvalidRequestError: .*temperature/, 1],
      [['inspect', '--model', STORIES, '--bogus'], /Unknown option '--bogus'[\s\S]*usage: hearth inspect/, 2],
      [['chat', '--model', STORIES, '--temperature', 'hot'], /--temperature must be a number/, 2],
      [['frobnicate'], /unknown command 'frobnicate'[\s\S]*usage: hearth generate/, 2],
      [[], /usage: hearth generate/, 2],
    ];
    // Each is a quick process start: run them side by side.
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    for (const [i, [args, message, exitCode]] of cases.entries()) {
      const r = results[i]!;
      assert.equal(r.code, exitCode, `exit code of ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
  });

  test('a turn the engine refuses (prompt longer than the context) is reported and the chat goes on', async () => {
    const long = 'This line is far too long for a context of forty positions, one token per character.';
    const model = join(dir, 'tiny-chatml-refuses.gguf');
    await writeFile(model, tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>']));
    const r = await cli(['chat', '--model', model, '--context-length', '40', '--max-tokens', '2'], `${long}\nHi\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /hearth: the prompt is \d+ tokens but the context holds 40.*\(\/reset starts over\)/);
    assert.match(r.stdout, new RegExp(`^> ${long}\n> Hi\n`));
  });
});
