// The production build: the worker bundle carries the engine and tokenizer but none of onnxruntime,
// and the chat page's own JavaScript (its entry and the chunks it imports: UI, markdown, sanitizer) stays
// small because the engine lives in the worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { repoRoot } from './helpers/browser';

/**
 * Upper bounds in gzip bytes; a new dependency that breaks them should be a conscious decision. The hard
 * limit is the embed's 150 KB (worker + element, enforced by the build, test/embed.test.ts); the worker's
 * share leaves the element and the lazily loaded chunks (hub, cache, JSON grammar) room within it.
 */
const WORKER_GZIP_LIMIT = 100 * 1024;
const PAGE_GZIP_LIMIT = 60 * 1024;

test('vite build: worker bundle has no onnxruntime, and both bundles stay within their size budgets', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'hearth-build-'));
  try {
    await build({ configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    const assets = await readdir(join(outDir, 'assets'));
    const read = (name: string) => readFile(join(outDir, 'assets', name), 'utf8');
    const worker = assets.find((f) => f.startsWith('worker-') && f.endsWith('.js'));
    const page = assets.find((f) => f.startsWith('app-') && f.endsWith('.js'));
    assert.ok(worker, `no worker chunk among ${assets.join(', ')}`);
    assert.ok(page, `no page chunk among ${assets.join(', ')}`);

    const workerCode = await read(worker);
    // Strings only onnxruntime's own code contains (its wasm loader and session API).
    const leaked = workerCode.match(/ort-wasm[\w-]*|onnxruntime-(?:web|node|common)|InferenceSession\.create/);
    assert.equal(leaked, null, `onnxruntime leaked into the worker bundle: ${leaked?.[0]}`);
    assert.ok(workerCode.includes('byte_fallback'), 'the tokenizer is in the worker bundle');
    const workerGzip = gzipSync(workerCode).length;
    // The page's entry and the chunks it imports statically (`from"./x.js"` in the minified entry).
    const entryCode = await read(page);
    const imported = [...entryCode.matchAll(/from\s*["']\.\/([\w.-]+\.js)["']|import\s*["']\.\/([\w.-]+\.js)["']/g)].map((m) => m[1] ?? m[2]!);
    const pageCode = [entryCode, ...(await Promise.all(imported.map(read)))].join('\n');
    const pageGzip = [entryCode, ...(await Promise.all(imported.map(read)))].reduce((n, code) => n + gzipSync(code).length, 0);
    console.log(`worker bundle ${(workerCode.length / 1024).toFixed(1)} KB, ${(workerGzip / 1024).toFixed(1)} KB gzip; page ${(pageGzip / 1024).toFixed(1)} KB gzip (${[page, ...imported].join(', ')})`);
    assert.ok(workerGzip < WORKER_GZIP_LIMIT, `worker bundle is ${workerGzip} bytes gzip`);
    assert.ok(pageGzip < PAGE_GZIP_LIMIT, `page bundle is ${pageGzip} bytes gzip`);
    assert.ok(!pageCode.includes('byte_fallback'), 'the page bundle should not carry the engine');

    // The WebAssembly backend (wllama's JavaScript and llama.cpp's binary) loads only when taken: a chunk and an
    // asset of its own, neither in the worker bundle above nor in the page's.
    const wasmChunk = assets.find((f) => /^wllama-core-[\w-]+\.js$/.test(f));
    assert.ok(wasmChunk, `no chunk of its own for the WebAssembly backend among ${assets.join(', ')}`);
    assert.ok((await read(wasmChunk)).includes('wllamaStart'), 'wllama is in the WebAssembly backend\'s chunk');
    assert.ok(assets.some((f) => /^wllama-[\w-]+\.wasm$/.test(f)), 'llama.cpp\'s WebAssembly binary is emitted as an asset');
    for (const [name, code] of [['worker', workerCode], ['page', pageCode]]) {
      assert.ok(!code.includes('wllamaStart'), `wllama leaked into the ${name} bundle`);
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});
