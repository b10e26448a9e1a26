// The package as a user gets it: `npm pack`, then a new app in a temporary folder installs the tarball from the
// registry's way of installing (nothing but `npm install hearth webgpu`: no overrides, no download outside the
// registry). In that app: without `webgpu` Node says to install it; with it, `import … from 'hearth'` generates on
// the bundled model in plain Node, `npx hearth generate --json` does too, the declarations type-check under
// `nodenext`, `node16` and `bundler`, and Vite bundles the package into a page whose engine runs in its Web Worker
// in Chromium — all giving the same text as the engine run from source.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'vite';
import { createEngine } from '../src/index';
import { launchChromium, openPage, repoRoot } from './helpers/browser';
import { serveStatic } from './helpers/dist-server';
import { fixturePath } from './helpers/fixtures';

const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, maxBuffer: 1 << 24 });
const STORIES = fixturePath('models/stories260K/stories260K.gguf');
const PROMPT = 'Once upon a time';
const webgpuVersion = (JSON.parse(readFileSync(join(repoRoot, 'node_modules/webgpu/package.json'), 'utf8')) as { version: string }).version;

let work: string;
let consumer: string;
let expected: { completion: string; pipeline: string; tokens: number[] };
let expectedIds: number[];
let withoutWebgpu: { stdout: string; stderr: string };

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'hearth-pack-'));
  await run('npm', ['pack', '--pack-destination', work], { cwd: repoRoot, maxBuffer: 1 << 24 }); // prepack builds dist/lib
  const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  consumer = join(work, 'app');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  await npm(['install', tarball], consumer);
  writeFileSync(join(consumer, 'no-webgpu.mjs'), `
    import { createEngine, ResourceError } from 'hearth';
    try { await createEngine(${JSON.stringify(STORIES)}); console.log('loaded'); }
    catch (e) { console.log(JSON.stringify({ name: e.name, typed: e instanceof ResourceError, message: e.message })); }`);
  withoutWebgpu = await run(process.execPath, ['no-webgpu.mjs'], { cwd: consumer });
  await npm(['install', `webgpu@${webgpuVersion}`], consumer);

  const engine = await createEngine(STORIES, { contextLength: 128, precision: 'f32' });
  try {
    const completion = (await engine.completions.create({ prompt: PROMPT, max_tokens: 12, temperature: 0 })).choices[0]!.text;
    const pipelineText = (await engine.generate('The dog', { maxTokens: 8 }).result).text;
    const { tokens } = await engine.generate(PROMPT, { maxTokens: 12, temperature: 0 }).result;
    expected = { completion, pipeline: `The dog${pipelineText}`, tokens };
    expectedIds = await engine.tokenize('The dog');
  } finally {
    await engine.dispose();
  }
});
after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

test('the install holds the package and its peers only, every file from the registry', async () => {
  const installed = readdirSync(join(consumer, 'node_modules')).flatMap((d) => (d.startsWith('@') ? readdirSync(join(consumer, 'node_modules', d)).map((s) => `${d}/${s}`) : [d])).filter((d) => !d.startsWith('.'));
  for (const heavy of ['@xenova/transformers', 'onnxruntime-node', 'onnxruntime-web', 'sharp', 'tsx', 'comlink', '@huggingface/jinja']) {
    assert.ok(!installed.includes(heavy), `${heavy} is installed: ${installed.join(', ')}`);
  }
  assert.ok(installed.includes('hearth') && installed.includes('webgpu'), installed.join(', '));
  const shipped = JSON.parse(readFileSync(join(consumer, 'node_modules/hearth/package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  assert.deepEqual(Object.keys(shipped.dependencies ?? {}), ['@webgpu/types'], 'runtime dependencies: what dist/ imports (types for the declarations)');
  assert.ok(!existsSync(join(consumer, 'node_modules/hearth/src')), 'the TypeScript sources are not shipped');
  const { stdout: registry } = await run('npm', ['config', 'get', 'registry'], { cwd: consumer });
  const lock = JSON.parse(readFileSync(join(consumer, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
  for (const [name, entry] of Object.entries(lock.packages)) {
    if (name === '' || name === 'node_modules/hearth') continue;
    // No `resolved` (npm's omit-lockfile-registry-resolved) means the configured registry too.
    assert.ok(entry.resolved === undefined || entry.resolved.startsWith(registry.trim().replace(/\/?$/, '/')), `${name} came from ${entry.resolved}`);
  }
});

test('Node without `webgpu`: a typed error that says to install it', () => {
  const report = JSON.parse(withoutWebgpu.stdout.trim()) as { name: string; typed: boolean; message: string };
  assert.equal(report.name, 'ResourceError');
  assert.ok(report.typed);
  assert.match(report.message, /npm install webgpu/);
});

test('Node: plain `node` imports the installed package by name and generates on the bundled model', async () => {
  writeFileSync(join(consumer, 'main.mjs'), `
    import { createEngine, pipeline, TextStreamer, InvalidRequestError } from 'hearth';
    const engine = await createEngine(${JSON.stringify(STORIES)}, { contextLength: 128, precision: 'f32' });
    const completion = (await engine.completions.create({ prompt: ${JSON.stringify(PROMPT)}, max_tokens: 12, temperature: 0 })).choices[0].text;
    await engine.dispose();
    const generator = await pipeline('text-generation', ${JSON.stringify(STORIES)}, { contextLength: 128, precision: 'f32' });
    const [out] = await generator('The dog', { max_new_tokens: 8 });
    await generator.dispose();
    console.log(JSON.stringify({ completion, pipeline: out.generated_text, streamer: typeof TextStreamer, error: new InvalidRequestError('x').code }));`);
  const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: consumer });
  const { tokens: _, ...texts } = expected;
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { ...texts, streamer: 'function', error: 'invalid_request' });
});

test('`npx hearth generate --json` runs the built CLI; bad arguments exit 2', async () => {
  const { stdout } = await run('npx', ['--no', 'hearth', 'generate', '--model', STORIES, '--prompt', PROMPT, '--max-tokens', '12', '--precision', 'f32', '--json'], { cwd: consumer });
  const result = JSON.parse(stdout) as { text: string; tokens: number[] };
  assert.deepEqual(result.tokens, expected.tokens);
  assert.equal(result.text, expected.completion);
  const bad = await run('npx', ['--no', 'hearth', 'generate', '--model', STORIES, '--max-tokens', 'abc'], { cwd: consumer }).then(() => null, (e: { code: number; stderr: string }) => e);
  assert.equal(bad?.code, 2);
  assert.match(bad!.stderr, /--max-tokens must be a number/);
});

test('TypeScript: a consumer type-checks against the shipped declarations under nodenext, node16 and bundler', async () => {
  writeFileSync(join(consumer, 'app.ts'), `
    import { createEngine, pipeline, TextStreamer, InvalidRequestError, type ChatCompletion, type ChatCompletionChunk, type Engine, type LoadOptions } from 'hearth';
    export async function main(): Promise<string> {
      const options: LoadOptions = { contextLength: 64 };
      const engine: Engine = await createEngine('model.gguf', options);
      const c: ChatCompletion = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 });
      const stream = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], stream: true });
      for await (const chunk of stream) { const x: ChatCompletionChunk = chunk; void x; }
      const generator = await pipeline('text-generation', 'model.gguf');
      const out = await generator('Hi', { max_new_tokens: 4, streamer: new TextStreamer(generator.tokenizer) });
      if (out.length === 0) throw new InvalidRequestError('no output');
      return (c.choices[0]!.message.content ?? '') + JSON.stringify(out);
    }`);
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  for (const [module, moduleResolution] of [['nodenext', 'nodenext'], ['node16', 'node16'], ['esnext', 'bundler']]) {
    // No skipLibCheck: the declarations themselves must resolve and check.
    const config = { compilerOptions: { target: 'ES2022', module, moduleResolution, strict: true, noEmit: true, types: [] }, files: ['app.ts'] };
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(config));
    await run(process.execPath, [tsc, '-p', consumer], { cwd: consumer }).catch((e: { stdout?: string }) => {
      assert.fail(`tsc (${moduleResolution}) failed:\n${e.stdout}`);
    });
  }
});

test('bundler: Vite bundles `from \'hearth\'` (engine in its worker chunk) and the page generates the same text in Chromium', { timeout: 240_000 }, async () => {
  const app = join(consumer, 'web');
  mkdirSync(join(app, 'public'), { recursive: true });
  copyFileSync(STORIES, join(app, 'public', 'model.gguf'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./main.js"></script>');
  writeFileSync(join(app, 'main.js'), `
    import { createEngine, pipeline } from 'hearth';
    window.result = (async () => {
      const engine = await createEngine('./model.gguf', { contextLength: 128, backend: 'webgpu' });
      const completion = (await engine.completions.create({ prompt: ${JSON.stringify(PROMPT)}, max_tokens: 12, temperature: 0 })).choices[0].text;
      await engine.dispose();
      const generator = await pipeline('text-generation', './model.gguf', { contextLength: 128, device: 'webgpu' });
      const [out] = await generator('The dog', { max_new_tokens: 8 });
      // The page's own tokenizer (the engine's is in the worker): synchronous, as transformers.js's.
      const ids = generator.tokenizer.encode('The dog');
      const tokenizer = { ids: Array.isArray(ids) ? ids : String(ids), text: generator.tokenizer.decode(ids, { skip_special_tokens: true }) };
      await generator.dispose();
      return { completion, pipeline: out.generated_text, tokenizer };
    })().catch((e) => ({ error: String(e && e.stack || e) }));`);
  const outDir = join(app, 'dist');
  await build({ root: app, configFile: false, logLevel: 'silent', base: './', build: { outDir, emptyOutDir: true, target: 'es2022' } });
  const server = await serveStatic(outDir, '/app/');
  const browser = await launchChromium();
  try {
    const tab = await openPage(browser, `${server.url}index.html`);
    const result = await tab.page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result);
    const { tokens: _, ...texts } = expected;
    assert.deepEqual(result, { ...texts, tokenizer: { ids: expectedIds, text: 'The dog' } }, tab.logText());
    assert.ok(server.requests.some((p) => /\/assets\/worker-[\w-]+\.js$/.test(p)), `the engine ran in the bundled worker: ${server.requests.join(', ')}`);
  } finally {
    await browser.close();
    await server.close();
  }
});
