// End to end: the demo page (Vite, the real config, root demo/) in headless Chromium with WebGPU on
// SwiftShader, driving the real engine on the bundled stories260K. Checks streaming, Stop, a second
// turn, New chat, and the error panel for a missing and for broken model files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, repoRoot, startTestServer, type TestPage, type TestServer } from './helpers/browser';
import { sharedPath } from './helpers/shared';

const LOAD_TIMEOUT = 120_000;
const TURN_TIMEOUT = 120_000;

/** llama2.c's greedy continuation of "Once upon a time" (an independent reference). */
const reference = (JSON.parse(readFileSync(sharedPath('models', 'stories260K', 'refs.json'), 'utf8')) as {
  refs: { prompt: string | null; output: string }[];
}).refs.find((r) => r.prompt === 'Once upon a time')!.output;

let server: TestServer;
let browser: Browser;
let badFiles: { url: string; close(): Promise<void> };

before(async () => {
  server = await startTestServer({ root: `${repoRoot}demo` });
  browser = await launchChromium();
  const model = readFileSync(`${repoRoot}public/stories260K.gguf`);
  badFiles = await serveFiles({
    // An HTML page where a model should be: the magic is wrong.
    '/not-a-model.gguf': Buffer.from('<!doctype html><title>Model page</title><p>Download the model here.</p>'.repeat(40)),
    // The real file cut off inside its header (the vocabulary).
    '/truncated.gguf': model.subarray(0, 4096),
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await badFiles?.close();
});

/** Runs `fn` on a fresh page; on failure the page's console (and its worker's) is part of the error. */
async function withPage(path: string, fn: (page: Page) => Promise<void>): Promise<void> {
  const tp: TestPage = await openPage(browser, `${server.url}${path}`);
  try {
    await fn(tp.page);
  } catch (e) {
    const where = await tp.page.evaluate(() => ({
      state: document.body.dataset.state, status: document.getElementById('status')?.textContent,
      transcriptChars: document.getElementById('transcript')?.textContent?.length,
    })).catch(() => 'page gone');
    console.error(`page at failure: ${JSON.stringify(where)}\n${tp.logText()}`);
    throw e;
  } finally {
    await tp.close();
  }
}

const state = (page: Page) => page.locator('body').getAttribute('data-state');
const transcriptText = (page: Page) => page.getByTestId('transcript').evaluate((el) => el.textContent ?? '');

async function waitForState(page: Page, want: string, timeout = TURN_TIMEOUT): Promise<void> {
  await page.waitForFunction((s) => document.body.dataset.state === s, want, { timeout, polling: 50 });
}

const turnsCompleted = (page: Page) => page.evaluate(() => Number(document.body.dataset.turns ?? 0));

/** Sends `text` (Enter or the Send button) and waits until that turn has ended. */
async function runTurn(page: Page, text: string, how: 'enter' | 'click'): Promise<void> {
  const before = await turnsCompleted(page);
  await page.getByTestId('prompt').fill(text);
  if (how === 'enter') await page.getByTestId('prompt').press('Enter');
  else await page.getByTestId('send').click();
  await page.waitForFunction((n) => Number(document.body.dataset.turns ?? 0) > n && document.body.dataset.state === 'ready',
    before, { timeout: TURN_TIMEOUT, polling: 50 });
}

/** Names the step in the error, so a timeout says which wait it was. */
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Error) e.message = `[${name}] ${e.message}`;
    throw e;
  }
}

async function setMaxTokens(page: Page, n: number): Promise<void> {
  await page.locator('#settings > summary').click();
  await page.getByTestId('max-tokens').fill(String(n));
  await page.locator('#settings > summary').click();
}

/**
 * Records every change the page makes to the model's text while generating: with characterDataOldValue
 * each appended token leaves a record, however the observer batches them.
 */
async function recordGrowth(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __growth: number[] };
    w.__growth = [];
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'characterData' && document.body.dataset.state === 'generating') w.__growth.push(r.oldValue?.length ?? 0);
      }
    }).observe(document.getElementById('transcript')!, { subtree: true, characterData: true, characterDataOldValue: true });
  });
}

describe('demo page', () => {
  test('loads stories260K, streams a turn, stops mid-stream, continues, starts a new chat', { timeout: 600_000 }, async () => {
    await withPage('/', async (page) => {
      await step('load', () => waitForState(page, 'ready', LOAD_TIMEOUT));
      assert.match(await page.getByTestId('model-info').innerText(), /stories260K.*llama.*F32/i);
      assert.equal(await page.getByTestId('error-panel').isVisible(), false);

      // Turn 1: greedy, 40 tokens; must stream (many text updates while generating) and match llama2.c.
      await setMaxTokens(page, 40);
      await recordGrowth(page);
      await step('turn 1', () => runTurn(page, 'Once upon a time', 'enter'));
      const turn1 = await transcriptText(page);
      const growth = await page.evaluate(() => (window as unknown as { __growth: number[] }).__growth);
      assert.ok(new Set(growth).size >= 5, `the transcript should grow token by token while generating; text lengths seen: ${growth.join(',')}`);
      assert.ok(turn1.length > 'Once upon a time'.length + 60, `a 40-token continuation was expected, got ${JSON.stringify(turn1)}`);
      assert.ok(reference.startsWith(turn1), `greedy output should follow llama2.c's:\n  got      ${JSON.stringify(turn1)}\n  expected ${JSON.stringify(reference.slice(0, turn1.length))}…`);
      assert.equal(await page.locator('[data-testid=transcript] mark.user').first().innerText(), 'Once upon a time');
      assert.match(await page.getByTestId('tokens-per-second').innerText(), /^\d+(\.\d+)? tok\/s$/);
      assert.match(await page.getByTestId('turn-stats').innerText(), /40 tokens/);

      // Turn 2: a long request, stopped once it is visibly streaming.
      await setMaxTokens(page, 1500);
      await page.getByTestId('prompt').fill('Then a big dog came');
      await page.getByTestId('send').click();
      await step('turn 2 streaming', () => page.waitForFunction((n) => document.body.dataset.state === 'generating' &&
        (document.getElementById('transcript')!.textContent ?? '').length > n + 40, turn1.length + 'Then a big dog came'.length,
      { timeout: TURN_TIMEOUT, polling: 20 }));
      assert.match((await page.getByTestId('tokens-per-second').innerText()), /tok\/s/);
      await page.getByTestId('stop').click();
      await step('turn 2 stop', () => waitForState(page, 'ready'));
      const stopped = await transcriptText(page);
      // The continuation keeps its leading space: "…came to", not "…cameto" (decoded after the prompt).
      const afterTurn2Text = stopped.slice(stopped.indexOf('Then a big dog came') + 'Then a big dog came'.length);
      assert.match(afterTurn2Text, /^[\s,.!?'"]/, `the continuation should not glue onto the last word: ${JSON.stringify(afterTurn2Text.slice(0, 30))}`);
      assert.match(await page.getByTestId('turn-stats').innerText(), /stopped/, 'the turn should end as stopped, not finished');
      assert.equal(await page.locator('[data-testid=transcript] .model').last().getAttribute('class'), 'model stopped');
      // Nothing arrives after Stop: the text is the same after a few more round trips to the page.
      for (let i = 0; i < 5; i++) {
        await page.waitForTimeout(100);
        assert.equal(await transcriptText(page), stopped, 'text kept growing after Stop');
      }
      assert.equal(await state(page), 'ready');

      // Turn 3: Send works again and continues the same transcript.
      await setMaxTokens(page, 20);
      await step('turn 3', () => runTurn(page, 'The end.', 'click'));
      const turn3 = await transcriptText(page);
      const withUserText = stopped + (/\s$/.test(stopped) ? '' : ' ') + 'The end.';
      assert.ok(turn3.startsWith(withUserText), `turn 3 should continue the transcript: ${JSON.stringify(turn3.slice(stopped.length))}`);
      assert.ok(turn3.length > withUserText.length, 'turn 3 should add model text');
      assert.match(await page.getByTestId('turn-stats').innerText(), /[1-9]\d* cached/, 'the shared prefix should come from the KV cache');

      // Settings out of range: the error panel names the field; nothing is sent and the text stays.
      await page.locator('#settings > summary').click();
      await page.getByTestId('temperature').fill('-1');
      await page.getByTestId('prompt').fill('Tom and Sam');
      await page.getByTestId('send').click();
      await step('invalid settings', () => page.getByTestId('error-panel').waitFor({ state: 'visible', timeout: TURN_TIMEOUT }));
      assert.match(await page.getByTestId('error-panel').innerText(), /Temperature must be 0 \(greedy\) or more/);
      assert.equal(await transcriptText(page), turn3);
      assert.equal(await page.getByTestId('prompt').inputValue(), 'Tom and Sam');
      assert.equal(await state(page), 'ready');
      await page.getByTestId('temperature').fill('0');
      await page.locator('#settings > summary').click();

      // A turn that would overflow the context starts a fresh one, with a notice, from the new text alone.
      await setMaxTokens(page, 2040);
      await page.getByTestId('send').click();
      await step('overflow turn streaming', () => page.waitForFunction((n) => document.body.dataset.state === 'generating' &&
        (document.getElementById('transcript')!.textContent ?? '').length > n + 30, turn3.length + ' Tom and Sam'.length,
      { timeout: TURN_TIMEOUT, polling: 20 }));
      assert.equal(await page.getByTestId('error-panel').isVisible(), false, 'a successful send hides the old error');
      await page.getByTestId('stop').click();
      await step('overflow turn stop', () => waitForState(page, 'ready'));
      assert.match(await page.getByTestId('context-notice').innerText(), /fresh context/);
      assert.match(await page.getByTestId('turn-stats').innerText(), /prompt \d+ \(0 cached/, 'a fresh context has nothing cached');

      // New chat empties the transcript and the next turn starts from the new text alone.
      await page.getByTestId('new-chat').click();
      await step('new chat', () => page.waitForFunction(() => (document.getElementById('transcript')!.textContent ?? '') === '', null, { timeout: TURN_TIMEOUT }));
      await setMaxTokens(page, 40);
      await step('turn after new chat', () => runTurn(page, 'Once upon a time', 'enter'));
      const fresh = await transcriptText(page);
      assert.ok(reference.startsWith(fresh) && fresh.length > 60, `after New chat the output should again follow llama2.c: ${JSON.stringify(fresh)}`);
    });
  });

  test('a missing model URL shows a download error and the page stays usable', { timeout: 300_000 }, async () => {
    await withPage('/?model=/does-not-exist.gguf', async (page) => {
      await waitForState(page, 'error', LOAD_TIMEOUT);
      const panel = page.getByTestId('error-panel');
      assert.equal(await panel.isVisible(), true);
      const text = await panel.innerText();
      assert.match(text, /download/i);
      assert.match(text, /404/);
      assert.equal(await page.getByTestId('send').isDisabled(), true);
      // The field to load another model is there, filled with the failed URL.
      const urlField = page.getByTestId('model-url');
      assert.equal(await urlField.isVisible(), true);
      assert.match(await urlField.inputValue(), /does-not-exist\.gguf$/);
    });
  });

  test('a file that is not GGUF, and a truncated one, show a format error; another model then loads', { timeout: 300_000 }, async () => {
    await withPage(`/?model=${encodeURIComponent(`${badFiles.url}/truncated.gguf`)}`, async (page) => {
      await waitForState(page, 'error', LOAD_TIMEOUT);
      const text = await page.getByTestId('error-panel').innerText();
      assert.match(text, /not a valid GGUF/i);
      assert.match(text, /truncated/i);
    });
    await withPage(`/?model=${encodeURIComponent(`${badFiles.url}/not-a-model.gguf`)}`, async (page) => {
      await waitForState(page, 'error', LOAD_TIMEOUT);
      const text = await page.getByTestId('error-panel').innerText();
      assert.match(text, /not a valid GGUF/i);
      assert.match(text, /not a GGUF file/i);
      assert.match(text, /Load another model/i);

      await page.getByTestId('model-url').fill(`${server.url}/stories260K.gguf`);
      await page.getByTestId('load-model').click();
      await waitForState(page, 'ready', LOAD_TIMEOUT);
      assert.equal(await page.getByTestId('error-panel').isVisible(), false);
      assert.match(new URL(page.url()).searchParams.get('model') ?? '', /stories260K\.gguf$/);
    });
  });
});

/** A static file server on another origin of 127.0.0.1, with CORS and Range, like a model host. */
async function serveFiles(files: Record<string, Buffer>): Promise<{ url: string; close(): Promise<void> }> {
  const http: Server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    const body = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!body) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found'); return; }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : body.length - 1, body.length - 1);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes' });
      res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { http.closeAllConnections(); http.close(() => resolve()); }),
  };
}
