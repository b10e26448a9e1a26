// The package as users get it: after the library build (scripts/build-lib.mjs, part of `npm run build`),
// `import { createEngine, pipeline } from 'hearth'` works by the package's name in plain Node (no TypeScript
// loader), type-checks against the emitted declarations, and bundles with Vite into a page whose engine runs
// in the Web Worker in Chromium — all three giving the same text as the engine run from source.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'vite';
import { createEngine } from '../src/index';
import { launchChromium, openPage, repoRoot } from './helpers/browser';
import { serveStatic } from './helpers/dist-server';
import { fixturePath } from './helpers/fixtures';

const run = promisify(execFile);
const STORIES = fixturePath('models/stories260K/stories260K.gguf');
let consumer: string;
let expected: { completion: string; pipeline: string };
let expectedIds: number[];

before(async () => {
  await run(process.execPath, [join(repoRoot, 'scripts/build-lib.mjs'), '--quiet'], { cwd: repoRoot });
  // A project that depends on hearth: node_modules/hearth → this checkout (as `npm link` or a workspace would).
  consumer = mkdtempSync(join(tmpdir(), 'hearth-consumer-'));
  mkdirSync(join(consumer, 'node_modules'));
  symlinkSync(repoRoot, join(consumer, 'node_modules', 'hearth'), 'dir');
  const engine = await createEngine(STORIES, { contextLength: 128, precision: 'f32' });
  try {
    const completion = (await engine.completions.create({ prompt: 'Once upon a time', max_tokens: 12, temperature: 0 })).choices[0]!.text;
    const pipelineText = (await engine.generate('The dog', { maxTokens: 8 }).result).text;
    expected = { completion, pipeline: `The dog${pipelineText}` };
    expectedIds = await engine.tokenize('The dog');
  } finally {
    await engine.dispose();
  }
});
after(() => { if (consumer) rmSync(consumer, { recursive: true, force: true }); });

test('Node: plain `node` imports the built package by name', async () => {
  const script = `
    import { createEngine, pipeline, TextStreamer, InvalidRequestError } from 'hearth';
    const engine = await createEngine(${JSON.stringify(STORIES)}, { contextLength: 128, precision: 'f32' });
    const completion = (await engine.completions.create({ prompt: 'Once upon a time', max_tokens: 12, temperature: 0 })).choices[0].text;
    await engine.dispose();
    const generator = await pipeline('text-generation', ${JSON.stringify(STORIES)}, { contextLength: 128, precision: 'f32' });
    const [out] = await generator('The dog', { max_new_tokens: 8 });
    await generator.dispose();
    console.log(JSON.stringify({ completion, pipeline: out.generated_text, streamer: typeof TextStreamer, error: new InvalidRequestError('x').code }));`;
  writeFileSync(join(consumer, 'main.mjs'), script);
  const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: consumer });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { ...expected, streamer: 'function', error: 'invalid_request' });
});

test('TypeScript: a consumer type-checks against the emitted declarations', async () => {
  writeFileSync(join(consumer, 'app.ts'), `
    import { createEngine, pipeline, TextStreamer, type ChatCompletion, type ChatCompletionChunk, type Engine } from 'hearth';
    export async function main(): Promise<string> {
      const engine: Engine = await createEngine('model.gguf', { contextLength: 64 });
      const c: ChatCompletion = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 });
      const stream = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], stream: true });
      for await (const chunk of stream) { const x: ChatCompletionChunk = chunk; void x; }
      const generator = await pipeline('text-generation', 'model.gguf');
      const out = await generator('Hi', { max_new_tokens: 4, streamer: new TextStreamer(generator.tokenizer) });
      return (c.choices[0]!.message.content ?? '') + JSON.stringify(out);
    }`);
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2023', 'DOM', 'DOM.Iterable'], types: ['@webgpu/types'], typeRoots: [join(repoRoot, 'node_modules/@types'), join(repoRoot, 'node_modules')] },
    files: ['app.ts'],
  }));
  await run(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', consumer], { cwd: consumer }).catch((e: { stdout?: string }) => {
    assert.fail(`tsc failed:\n${e.stdout}`);
  });
});

test('bundler: Vite bundles `from \'hearth\'` (engine in its worker chunk) and the page generates the same text in Chromium', { timeout: 240_000 }, async () => {
  const app = join(consumer, 'app');
  mkdirSync(join(app, 'public'), { recursive: true });
  copyFileSync(STORIES, join(app, 'public', 'model.gguf'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./main.js"></script>');
  writeFileSync(join(app, 'main.js'), `
    import { createEngine, pipeline } from 'hearth';
    window.result = (async () => {
      const engine = await createEngine('./model.gguf', { contextLength: 128 });
      const completion = (await engine.completions.create({ prompt: 'Once upon a time', max_tokens: 12, temperature: 0 })).choices[0].text;
      await engine.dispose();
      const generator = await pipeline('text-generation', './model.gguf', { contextLength: 128 });
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
    assert.deepEqual(result, { ...expected, tokenizer: { ids: expectedIds, text: 'The dog' } }, tab.logText());
    assert.ok(server.requests.some((p) => /\/assets\/worker-[\w-]+\.js$/.test(p)), `the engine ran in the bundled worker: ${server.requests.join(', ')}`);
  } finally {
    await browser.close();
    await server.close();
  }
});
