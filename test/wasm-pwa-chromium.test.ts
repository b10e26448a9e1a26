// The installable app in a Chromium launched WITHOUT WebGPU: the built dist/ under a path prefix, as a visitor
// with no usable GPU gets it. The first online visit runs on llama.cpp's WebAssembly build ('auto'), installs the
// service worker, and the backend's files join the cache as they are first used; with the network off a reload
// starts the app on the same backend and it chats from the caches alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchChromiumWithoutWebGPU, openPage } from './helpers/browser';
import { buildApp, serveStatic, type StaticServer } from './helpers/dist-server';
import { sendAndWait, setSetting, storedConversations, waitLoaded } from './helpers/app-page';
import { fixturePath } from './helpers/fixtures';

const reference = (JSON.parse(readFileSync(fixturePath('models', 'stories260K', 'refs.json'), 'utf8')) as {
  refs: { prompt: string | null; output: string }[];
}).refs.find((r) => r.prompt === 'Once upon a time')!.output;

const PREFIX = '/pwa-wasm/hearth/';
let app: StaticServer;
let browser: Browser;

before(async () => {
  app = await serveStatic((await buildApp()).dir, PREFIX);
  browser = await launchChromiumWithoutWebGPU(); // requestAdapter() answers null, as for a visitor without a usable GPU
});

after(async () => {
  await browser?.close();
  await app?.close();
});

test('PWA without WebGPU: the first visit chats on llama.cpp WebAssembly and caches it; offline, a reload chats from the caches alone', { timeout: 300_000 }, async () => {
  const { page, logText, close } = await openPage(browser, app.url, { context: { viewport: { width: 1000, height: 700 } } });
  try {
    assert.equal(await waitLoaded(page), 'ready', logText());
    assert.match(await page.getByTestId('status').innerText(), /on llama\.cpp WebAssembly \(\d+ threads?\): no WebGPU adapter/);
    await page.waitForFunction(() => document.body.dataset.serviceWorker === 'active' && navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    await setSetting(page, 'max-tokens', '30');
    await sendAndWait(page, 'Once upon a time');
    const online = (await storedConversations(page))[0]!.messages[1]!.content;
    assert.ok(online.length > 40 && reference.startsWith(`Once upon a time${online}`), `the reply should follow llama2.c: ${JSON.stringify(online)}`);
    // The first visit fetched llama.cpp's binary before the service worker controlled the page: the page asks it to keep it.
    await page.waitForFunction(async () => {
      for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) if (r.url.endsWith('.wasm')) return true;
      return false;
    }, null, { timeout: 60_000, polling: 250 });

    await page.context().setOffline(true);
    const requestsBefore = app.requests.length;
    await page.reload();
    assert.equal(await waitLoaded(page), 'ready', `${await page.getByTestId('status').innerText()}\n${logText()}`);
    assert.match(await page.getByTestId('status').innerText(), /llama\.cpp WebAssembly/);
    await page.getByTestId('new-chat').click();
    await sendAndWait(page, 'Once upon a time');
    const conversations = await storedConversations(page);
    assert.equal(conversations.length, 2, 'a second conversation, answered offline');
    for (const c of conversations) {
      const reply = c.messages[1]?.content ?? '';
      assert.ok(reply.length > 40 && reference.startsWith(`Once upon a time${reply}`), `every reply, offline too, follows llama2.c: ${JSON.stringify(reply)}`);
    }
    assert.deepEqual(app.requests.slice(requestsBefore).filter((p) => p !== `${PREFIX}sw.js`), [], 'nothing reached the server while offline');
  } catch (e) {
    console.error(logText());
    throw e;
  } finally {
    await close();
  }
});
