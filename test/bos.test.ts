// BOS only where the model file asks for it. Qwen2, Qwen3 and GPT-2 files say tokenizer.ggml.add_bos_token =
// false (their tokenizer_config.json, add_bos_token: false): llama.cpp then puts no BOS before a text
// prompt, and every front door of Hearth must do the same — generate, tokenize, completions, the pipeline,
// the CLI, and a safetensors repo saying it in tokenizer_config.json — or greedy outputs differ from the
// first token. Compared with llama.cpp on the tiny models of test/helpers/tiny-models.ts (whose top-2
// margins the arch tests check on this prompt). An explicit addBos still wins.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEngine, pipeline } from '../src/index';
import { repoRoot } from './helpers/browser';
import { writeGGUF } from './helpers/gguf-writer';
import { ggufToRepo } from './helpers/hf-writer';
import { closeLlamaCpp, openOracle } from './helpers/llama-cpp';
import { ARCH_CASES, NO_BOS, tinyModelSpec, type ArchCase } from './helpers/tiny-models';

const STEPS = 16;
const run = promisify(execFile);
let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hearth-bos-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); await closeLlamaCpp(); });

/** llama.cpp's prompt ids and greedy continuation (cut at its first end-of-generation token). */
async function llamaCpp(path: string, prompt: string): Promise<{ addsBos: boolean; bosId: number; promptIds: number[]; ids: number[] }> {
  const oracle = await openOracle(path);
  try {
    const promptIds = oracle.tokenize(prompt, oracle.addsBos);
    const { ids } = await oracle.greedy(promptIds, STEPS, { logits: false });
    const eog = ids.findIndex((id) => oracle.isEog(id));
    return { addsBos: oracle.addsBos, bosId: oracle.bosId, promptIds, ids: eog < 0 ? ids : ids.slice(0, eog) };
  } finally {
    await oracle.close();
  }
}

for (const arch of NO_BOS) {
  const c: ArchCase = ARCH_CASES.find((a) => a.arch === arch)!;
  test(`${arch} (add_bos_token false): no BOS, and llama.cpp's greedy ids, through generate, tokenize, completions, the pipeline and the CLI`, async () => {
    const path = join(dir, `${arch}.gguf`);
    await writeFile(path, writeGGUF(tinyModelSpec(arch, c.options)));
    const ref = await llamaCpp(path, c.prompt);
    assert.equal(ref.addsBos, false, 'llama.cpp reads the file as adding no BOS');
    assert.notEqual(ref.promptIds[0], ref.bosId);

    const engine = await createEngine(path, { contextLength: 64, precision: 'f32' });
    let text: string;
    try {
      assert.deepEqual(await engine.tokenize(c.prompt), ref.promptIds, 'engine.tokenize');
      const r = await engine.generate(c.prompt, { maxTokens: STEPS }).result;
      assert.deepEqual(r.promptTokens, ref.promptIds, 'generate: prompt');
      assert.deepEqual(r.tokens, ref.ids, 'generate: greedy ids');
      text = r.text;
      const completion = await engine.completions.create({ prompt: c.prompt, max_tokens: STEPS, temperature: 0 });
      assert.equal(completion.usage!.prompt_tokens, ref.promptIds.length, 'completions: prompt tokens');
      assert.equal(completion.usage!.completion_tokens, ref.ids.length);
      assert.equal(completion.choices[0]!.text, text, 'completions: text');
      // An explicit addBos still wins.
      const withBos = await engine.generate(c.prompt, { maxTokens: 1, addBos: true }).result;
      assert.deepEqual(withBos.promptTokens, [ref.bosId, ...ref.promptIds]);
    } finally {
      await engine.dispose();
    }

    const generator = await pipeline('text-generation', path, { contextLength: 64, precision: 'f32' });
    try {
      assert.deepEqual(generator.tokenizer.encode(c.prompt), ref.promptIds, 'pipeline tokenizer');
      assert.deepEqual(await generator(c.prompt, { max_new_tokens: STEPS, return_full_text: false }), [{ generated_text: text }], 'pipeline');
    } finally {
      await generator.dispose();
    }

    const { stdout } = await run(process.execPath, ['--import', './scripts/register.mjs', 'src/cli.ts', 'generate', '--model', path, '--prompt', c.prompt, '--max-tokens', String(STEPS), '--precision', 'f32', '--json'], { cwd: repoRoot });
    const cli = JSON.parse(stdout) as { promptTokens: number[]; tokens: number[] };
    assert.deepEqual([cli.promptTokens, cli.tokens], [ref.promptIds, ref.ids], 'hearth generate');
  });
}

test('a safetensors repo whose tokenizer_config.json says add_bos_token: false gets no BOS; one that says true gets it', async () => {
  const c = ARCH_CASES.find((a) => a.arch === 'qwen2')!;
  const gguf = writeGGUF(tinyModelSpec('qwen2', c.options));
  const path = join(dir, 'qwen2-for-repo.gguf');
  await writeFile(path, gguf);
  const ref = await llamaCpp(path, c.prompt);
  for (const addBos of [false, true]) {
    const repo = join(dir, `qwen2-repo-${addBos}`);
    await mkdir(repo, { recursive: true });
    for (const [name, bytes] of Object.entries(await ggufToRepo(gguf, { tokenizerConfig: { add_bos_token: addBos } }))) await writeFile(join(repo, name), bytes);
    const engine = await createEngine(repo, { contextLength: 64, precision: 'f32' });
    try {
      const r = await engine.generate(c.prompt, { maxTokens: STEPS }).result;
      assert.deepEqual(r.promptTokens, addBos ? [ref.bosId, ...ref.promptIds] : ref.promptIds);
      if (!addBos) assert.deepEqual(r.tokens, ref.ids, 'llama.cpp\'s greedy ids');
    } finally {
      await engine.dispose();
    }
  }
});

test('a vocabulary that asks for BOS (Llama) still gets it everywhere; addBos: false leaves it out', async () => {
  const c = ARCH_CASES.find((a) => a.arch === 'llama')!;
  const path = join(dir, 'llama.gguf');
  await writeFile(path, writeGGUF(tinyModelSpec('llama', c.options)));
  const ref = await llamaCpp(path, c.prompt);
  assert.equal(ref.addsBos, true);
  const engine = await createEngine(path, { contextLength: 64, precision: 'f32' });
  try {
    const r = await engine.generate(c.prompt, { maxTokens: STEPS }).result;
    assert.deepEqual([r.promptTokens, r.tokens], [ref.promptIds, ref.ids]);
    assert.deepEqual(await engine.tokenize(c.prompt, { addBos: false }), ref.promptIds.slice(1));
  } finally {
    await engine.dispose();
  }
});
