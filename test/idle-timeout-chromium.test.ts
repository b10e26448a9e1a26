// The idle timeout in the browser: the engine's worker fetches with the same code as Node, so a server that
// stalls (before the headers, after them, mid-body) ends a load in Chromium with the same DownloadError, and a
// single stall is retried through. The stalling server: test/helpers/stalling-server.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openEnginePage, repoRoot, startTestServer, type TestServer } from './helpers/browser';
import { StallingServer } from './helpers/stalling-server';

const MODEL = new Uint8Array(readFileSync(join(repoRoot, 'public/stories260K.gguf')));

let server: TestServer;
let stalling: StallingServer;
let browser: Browser;
before(async () => {
  server = await startTestServer();
  stalling = new StallingServer(MODEL);
  await stalling.start();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  await stalling?.close();
});

/** Page code as a string: the test runner's transform would add helpers the page does not have. */
const LOAD_IN_PAGE = `async ({ url }) => {
  try {
    const engine = await window.hearth.createEngine(url, { idleTimeoutMs: 500, retry: { attempts: 1, delayMs: 1 } });
    const vocab = engine.model.vocabSize;
    await engine.dispose();
    return { ok: true, vocab };
  } catch (e) {
    return { ok: false, name: e.name, code: e.code, message: e.message };
  }
}`;

test('Chromium: a server that stops sending ends the load with a DownloadError; one stall is retried through', { timeout: 240_000 }, async () => {
  const tp = await openEnginePage(browser, server.url);
  try {
    const load = () => tp.page.evaluate(`(${LOAD_IN_PAGE})(${JSON.stringify({ url: stalling.url })})`) as Promise<{ ok: boolean; vocab?: number; code?: string; message?: string }>;
    for (const mode of ['no-headers', 'headers-only', 'half-body'] as const) {
      stalling.set(['ok', mode], mode === 'half-body' ? 'headers-only' : mode);
      const r = await load();
      assert.equal(r.ok, false, `${mode}: ${JSON.stringify(r)}\n${tp.logText()}`);
      assert.equal(r.code, 'download', mode);
      assert.match(r.message!, /stopped responding[\s\S]*idleTimeoutMs/, mode);
    }
    stalling.set(['ok', 'half-body'], 'ok');
    assert.deepEqual(await load(), { ok: true, vocab: 512 }, tp.logText());
  } finally {
    await tp.close();
  }
});
