// The chat app and <hearth-chat> in a Chromium launched WITHOUT WebGPU: both load the bundled stories260K on
// llama.cpp's WebAssembly build ('auto'), answer as llama2.c does (greedy), stream, stop, and name the backend.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchChromiumWithoutWebGPU, openPage, repoRoot, startTestServer, type TestServer } from './helpers/browser';
import { fixturePath } from './helpers/fixtures';
import { growth, recordGrowth, sendAndWait, setSetting, storedConversations, turnsCompleted, waitLoaded, waitTurnEnded, TURN_TIMEOUT } from './helpers/app-page';

/** llama2.c's greedy continuation of "Once upon a time" (an independent reference). */
const reference = (JSON.parse(readFileSync(fixturePath('models', 'stories260K', 'refs.json'), 'utf8')) as {
  refs: { prompt: string | null; output: string }[];
}).refs.find((r) => r.prompt === 'Once upon a time')!.output;

let server: TestServer;
let browser: Browser;

before(async () => {
  server = await startTestServer({ root: `${repoRoot}demo` });
  browser = await launchChromiumWithoutWebGPU(); // requestAdapter() answers null, as for a visitor without a usable GPU
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('chat app without WebGPU: loads on llama.cpp WebAssembly, says so, answers as llama2.c does, streams and stops', { timeout: 300_000 }, async () => {
  const tp = await openPage(browser, `${server.url}/`);
  try {
    assert.equal(await waitLoaded(tp.page), 'ready', tp.logText());
    assert.match(await tp.page.getByTestId('status').innerText(), /^Ready: .* on llama\.cpp WebAssembly \(\d+ threads?\): no WebGPU adapter\./);
    assert.match(await tp.page.getByTestId('model-info').innerText(), / · CPU: llama\.cpp WebAssembly \(\d+ threads?\)$/);
    assert.doesNotMatch(await tp.page.getByTestId('memory').innerText(), /GPU memory/);

    await setSetting(tp.page, 'max-tokens', '40');
    await recordGrowth(tp.page);
    await sendAndWait(tp.page, 'Once upon a time');
    const [saved] = await storedConversations(tp.page);
    const reply = saved!.messages[1]!.content;
    assert.equal(saved!.messages[1]!.stats?.tokens, 40);
    assert.ok(reply.length > 60, `a 40-token reply was expected, got ${JSON.stringify(reply)}`);
    assert.ok(reference.startsWith(`Once upon a time${reply}`), `greedy output should follow llama2.c's:\n  got      ${JSON.stringify(reply)}\n  expected ${JSON.stringify(reference.slice(16, 16 + reply.length))}…`);
    const lengths = await growth(tp.page);
    assert.ok(new Set(lengths).size >= 5, `the reply should grow token by token; lengths seen: ${lengths.join(',')}`);

    // A long request, stopped with the Stop button once it is visibly streaming.
    await setSetting(tp.page, 'max-tokens', '1500');
    const turns = await turnsCompleted(tp.page);
    await tp.page.getByTestId('prompt').fill('Then a big dog came');
    await tp.page.getByTestId('send').click();
    await tp.page.waitForFunction(() => document.body.dataset.state === 'generating' &&
      (document.querySelector('.message.assistant.streaming .content')?.textContent ?? '').length > 40, null, { timeout: TURN_TIMEOUT, polling: 20 });
    await tp.page.getByTestId('stop').click();
    await waitTurnEnded(tp.page, turns);
    const stopped = (await storedConversations(tp.page))[0]!.messages;
    assert.equal(stopped[3]!.stats?.finishReason, 'abort');
    assert.ok(stopped[3]!.stats!.tokens < 1500 && stopped[3]!.content.length > 40);
    assert.ok(stopped[3]!.stats!.cachedTokens > 0, 'llama.cpp reused the first turn\'s prompt cache');
  } finally {
    await tp.close();
  }
});

test('<hearth-chat> without WebGPU, on a page that is not cross-origin isolated: one thread of llama.cpp WebAssembly; replies stream and stop', { timeout: 300_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
  // A host page without COOP/COEP (the dev server's own pages have them), on the server's origin.
  await page.route(`${server.url}/host.html`, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8">
<script>window.__events = []; for (const t of ['ready', 'token', 'done', 'error']) document.addEventListener(t, (e) => window.__events.push({ type: t, detail: t === 'ready' ? { backend: e.detail.model.backend, adapter: e.detail.model.adapter } : e.detail }));</script>
<script type="module" src="/embed/hearth-chat.ts"></script>
<hearth-chat id="chat" max-tokens="400" model="/stories260K.gguf"></hearth-chat>` }));
  try {
    await page.goto(`${server.url}/host.html`);
    type Event = { type: string; detail: Record<string, unknown> };
    const events = () => page.evaluate(() => (window as unknown as { __events: Event[] }).__events);
    await page.waitForFunction(() => (window as unknown as { __events: Event[] }).__events.some((e) => e.type === 'ready' || e.type === 'error'), null, { timeout: 120_000 });
    const ready = (await events()).find((e) => e.type === 'ready');
    assert.deepEqual(ready?.detail, { backend: 'wasm', adapter: 'llama.cpp WebAssembly (1 thread)' }, JSON.stringify(await events()));
    assert.equal(await page.evaluate(() => crossOriginIsolated), false);
    assert.match(await page.evaluate(() => document.querySelector('hearth-chat')!.shadowRoot!.querySelector('.status')!.textContent!), /ready · WebAssembly \(CPU\)$/);

    // Stop once a few tokens have streamed: the reply ends there.
    const reply = page.evaluate(() => (document.querySelector('hearth-chat') as HTMLElement & { send(t: string): Promise<string> }).send('Once upon a time'));
    await page.waitForFunction(() => (window as unknown as { __events: Event[] }).__events.filter((e) => e.type === 'token').length >= 5, null, { timeout: 120_000 });
    await page.evaluate(() => (document.querySelector('hearth-chat') as HTMLElement & { stop(): void }).stop());
    const text = await reply;
    const done = (await events()).filter((e) => e.type === 'done');
    assert.equal(done.length, 1);
    assert.equal(done[0]!.detail.finishReason, 'abort');
    assert.ok((done[0]!.detail.tokens as number) >= 5 && (done[0]!.detail.tokens as number) < 400);
    assert.ok(reference.startsWith(`Once upon a time${text}`), `greedy, as llama2.c: ${JSON.stringify(text)}`);
  } catch (e) {
    throw new Error(`${String(e)}\n${logs.join('\n')}`);
  } finally {
    await context.close();
  }
});
