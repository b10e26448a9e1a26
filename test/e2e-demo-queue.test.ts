// The chat app and <hearth-chat> while the model is still loading, and the app's words for a model that is not
// there. A message sent (Enter) during the load is shown at once, marked as waiting, and answered once the model
// is ready — never silently dropped. The model is served by a gate that holds every request until the test
// opens it, so "still loading" is a fact of the test, not a race. A 404 says the file was not found; the
// connection/CORS advice is kept for requests that got no answer at all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, repoRoot } from './helpers/browser';
import { buildApp, serveStatic, type StaticServer } from './helpers/dist-server';
import { onWebGPU, state, storedConversations, waitLoaded, waitTurnEnded } from './helpers/app-page';
import { fixturePath } from './helpers/fixtures';

const MODEL = readFileSync(join(repoRoot, 'public', 'stories260K.gguf'));
const reference = (JSON.parse(readFileSync(fixturePath('models', 'stories260K', 'refs.json'), 'utf8')) as {
  refs: { prompt: string | null; output: string }[];
}).refs.find((r) => r.prompt === 'Once upon a time')!.output;

/** Serves the model (Range, CORS) at /gated.gguf, but answers nothing until open(). */
class GatedModelServer {
  url = '';
  requests = 0;
  private opened = false;
  private readonly waiting: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((req, res) => this.handle(req, res));

  async start(): Promise<void> {
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/gated.gguf`;
  }

  /** Closes the gate again (a fresh load will wait). */
  shut(): void { this.opened = false; this.requests = 0; }

  open(): void {
    this.opened = true;
    for (const go of this.waiting.splice(0)) go();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    this.requests++;
    const answer = () => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) { res.writeHead(200, { 'Content-Length': MODEL.length }).end(MODEL); return; }
      const start = Number(m[1]), end = Math.min(Number(m[2]), MODEL.length - 1);
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${MODEL.length}`, 'Content-Length': end - start + 1 });
      res.end(MODEL.subarray(start, end + 1));
    };
    if (this.opened) answer();
    else this.waiting.push(answer);
  }
}

const PREFIX = '/apps/hearth/';
let app: StaticServer;
let cdn: StaticServer;
let gate: GatedModelServer;
let browser: Browser;

before(async () => {
  const dist = (await buildApp()).dir;
  app = await serveStatic(dist, PREFIX);
  gate = new GatedModelServer();
  await gate.start();
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>Host</title>
<script>window.__events = []; for (const t of ['ready', 'done', 'error']) document.addEventListener(t, (e) => window.__events.push(t));</script></head>
<body><script type="module" src="CDN/hearth-chat.js"></script><hearth-chat id="chat" max-tokens="20" backend="webgpu" model="${gate.url}"></hearth-chat></body></html>`;
  cdn = await serveStatic(dist, '/cdn/hearth/');
  cdn.override('/cdn/hearth/host.html', page.replace('CDN/', cdn.url));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await app?.close();
  await cdn?.close();
  await gate?.close();
});

async function withPage(url: string, fn: (page: Page) => Promise<void>): Promise<void> {
  const { page, logText, close } = await openPage(browser, url, { context: { viewport: { width: 1100, height: 760 } } });
  try {
    await fn(page);
  } catch (e) {
    console.error(logText());
    throw e;
  } finally {
    await close();
  }
}

/** Until the page's model load has reached the gate (so it is loading, and stays so until open()). */
async function waitForGate(): Promise<void> {
  for (let i = 0; i < 600 && gate.requests === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(gate.requests > 0, 'the page asked the gated server for the model');
}

test('chat app: Enter while the model loads queues the message, shows it, and answers it once the model is ready', { timeout: 300_000 }, async () => {
  gate.shut();
  await withPage(onWebGPU(`${app.url}?model=${encodeURIComponent(gate.url)}`), async (page) => {
    await waitForGate();
    assert.equal(await state(page), 'loading');
    assert.equal(await page.getByTestId('send').isDisabled(), false, 'Send works while loading');
    await page.getByTestId('prompt').fill('Once upon a time');
    await page.getByTestId('prompt').press('Enter');

    const user = page.locator('[data-testid=message][data-role=user]');
    await user.waitFor();
    assert.match(await user.innerText(), /^Once upon a time/);
    assert.match(await page.getByTestId('queued-note').innerText(), /Waiting for the model/);
    assert.equal(await page.getByTestId('prompt').inputValue(), '', 'the text left the box: it was taken');
    assert.equal(await state(page), 'loading');
    // A second message while one waits is not taken silently either: it stays in the box, and the status says why.
    await page.getByTestId('prompt').fill('and then');
    await page.getByTestId('prompt').press('Enter');
    assert.equal(await page.getByTestId('prompt').inputValue(), 'and then');
    assert.match(await page.getByTestId('status').innerText(), /already waiting/);
    await page.getByTestId('prompt').fill('');

    gate.open();
    await waitTurnEnded(page, 0);
    assert.equal(await page.getByTestId('queued-note').count(), 0);
    const [saved] = await storedConversations(page);
    assert.equal(saved?.messages.length, 2);
    assert.deepEqual(saved!.messages[0], { role: 'user', content: 'Once upon a time' });
    const reply = saved!.messages[1]!.content;
    assert.ok(reply.length > 60 && reference.startsWith(`Once upon a time${reply.slice(0, 60)}`), `the reply follows llama2.c's greedy continuation: ${JSON.stringify(reply)}`);
  });
});

test('<hearth-chat>: Enter while the model loads shows the message as waiting, then the reply streams', { timeout: 300_000 }, async () => {
  gate.shut();
  await withPage(`${cdn.url}host.html`, async (page) => {
    await waitForGate();
    const input = page.locator('hearth-chat textarea');
    await input.fill('Once upon a time');
    await input.press('Enter');
    const user = page.locator('hearth-chat .msg.user');
    await user.waitFor();
    assert.match(await user.innerText(), /^Once upon a time\s*waiting for the model/);
    assert.equal(await input.inputValue(), '');
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __events: string[] }).__events), [], 'not loaded yet');

    gate.open();
    await page.waitForFunction(() => (window as unknown as { __events: string[] }).__events.includes('done'), null, { timeout: 120_000 });
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __events: string[] }).__events), ['ready', 'done']);
    assert.equal(await user.innerText(), 'Once upon a time');
    const reply = await page.locator('hearth-chat .msg.bot').innerText();
    const squash = (t: string) => t.replace(/\s+/g, ' ').trim();
    assert.ok(reply.length > 40 && squash(reference).startsWith(squash(`Once upon a time${reply}`)), `the reply follows llama2.c's greedy continuation: ${JSON.stringify(reply)}`);
  });
});

test('chat app: a 404 says the model file was not found; a server that cannot be reached gets the connection/CORS advice', { timeout: 300_000 }, async () => {
  await withPage(onWebGPU(`${app.url}?model=missing.gguf`), async (page) => {
    assert.equal(await waitLoaded(page), 'error');
    assert.equal(await page.getByTestId('screen-title').innerText(), 'Model file not found');
    assert.match(await page.getByTestId('screen-message').innerText(), /404/);
    const hint = await page.getByTestId('screen-hint').innerText();
    assert.match(hint, /no file at that address/);
    assert.doesNotMatch(hint, /CORS|connection/);
  });
  // A port nothing listens on: the request gets no answer at all.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await withPage(onWebGPU(`${app.url}?model=${encodeURIComponent(`http://127.0.0.1:${port}/model.gguf`)}`), async (page) => {
    assert.equal(await waitLoaded(page), 'error');
    assert.equal(await page.getByTestId('screen-title').innerText(), 'Download failed');
    assert.match(await page.getByTestId('screen-hint').innerText(), /connection[\s\S]*CORS/);
  });
});
