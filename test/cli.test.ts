// The CLI as a user runs it: greedy output equals llama2.c's token ids; errors go to stderr with a non-zero exit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/browser';
import { fixturePath } from './helpers/fixtures';
import { tinyLlamaSpec, writeGGUF } from './helpers/gguf-writer';

const run = promisify(execFile);
interface CliResult { code: number; stdout: string; stderr: string }
async function cli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', './scripts/register.mjs', 'src/cli.ts', ...args], { cwd: repoRoot, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

interface Ref { prompt: string | null; prompt_token_ids: number[]; generated_token_ids: number[] }
const refs: Ref[] = JSON.parse(await readFile(fixturePath('models/stories260K/refs.json'), 'utf8')).refs;
const model = fixturePath('models/stories260K/stories260K.gguf');

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hearth-cli-')); });
after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

test('cli generate --json: greedy ids equal llama2.c for every reference prompt', async () => {
  for (const r of refs) {
    const { code, stdout, stderr } = await cli('generate', '--model', model, '--prompt', r.prompt ?? '', '--max-tokens', String(r.generated_token_ids.length), '--precision', 'f32', '--json');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    assert.deepEqual(out.promptTokens, r.prompt_token_ids);
    assert.deepEqual(out.tokens, r.generated_token_ids, `prompt ${JSON.stringify(r.prompt)}`);
    assert.equal(typeof out.text, 'string');
    assert.ok(out.decodeTokensPerSecond > 0 && out.prefillTokensPerSecond > 0);
  }
});

test('cli generate: plain mode streams the same continuation the JSON reports', async () => {
  const args = ['generate', '--model', model, '--prompt', 'Lily wanted to', '--max-tokens', '40'];
  const plain = await cli(...args);
  const json = await cli(...args, '--json');
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, `${JSON.parse(json.stdout).text}\n`);
  assert.match(plain.stdout, /^ [A-Za-z]/, 'the continuation keeps its leading space');
});

test('cli generate: bad input gives a typed message on stderr and a non-zero exit', async () => {
  const good = await readFile(model);
  const truncated = join(dir, 'truncated.gguf');
  await writeFile(truncated, good.subarray(0, 4096));
  const wrongMagic = join(dir, 'wrong-magic.gguf');
  await writeFile(wrongMagic, Buffer.concat([Buffer.from('GGML'), good.subarray(4)]));
  const mamba = join(dir, 'mamba.gguf');
  await writeFile(mamba, writeGGUF(tinyLlamaSpec({ metadata: { 'general.architecture': 'mamba' } })));

  const cases: [string[], RegExp][] = [
    [['--model', truncated], /FormatError: .*truncated/i],
    [['--model', wrongMagic], /FormatError: .*not a GGUF file/i],
    [['--model', mamba], /UnsupportedError: .*architecture 'mamba'/],
    [['--model', join(dir, 'missing.gguf')], /does not exist/],
    [['--model', model, '--max-tokens', 'many'], /--max-tokens must be a number/],
    [['--model', model, '--temperature=-1'], /InvalidRequestError: --temperature must be a finite number >= 0 .*, got -1/],
    [['--model', model, '--top-k', '1.5'], /InvalidRequestError: --top-k must be an integer >= 0 .*, got 1\.5/],
    [['--prompt', 'hi'], /--model is required/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await cli('generate', ...args);
    assert.notEqual(code, 0, `exit code for ${args.join(' ')}`);
    assert.match(stderr, message);
    assert.equal(stdout, '');
  }
});
