// The installable, offline app: the built dist/ under a path prefix. One online visit installs the service
// worker (it precaches the app shell and keeps the bundled model in the model cache); with the network off
// (context.setOffline) a reload starts the app and it chats — the engine reads the model through the
// service worker's Range answers. Then a new version is deployed: it installs while a reply streams, waits
// until the reply ends (the reply is not cut off), takes over, and the next reload runs it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './helpers/browser';
import { buildApp, serveStatic, type StaticServer } from './helpers/dist-server';
import { onWebGPU, sendAndWait, setSetting, storedConversations, turnsCompleted, waitLoaded, waitTurnEnded, TURN_TIMEOUT } from './helpers/app-page';
import { fixturePath } from './helpers/fixtures';

const reference = (JSON.parse(readFileSync(fixturePath('models', 'stories260K', 'refs.json'), 'utf8')) as {
  refs: { prompt: string | null; output: string }[];
}).refs.find((r) => r.prompt === 'Once upon a time')!.output;

const PREFIX = '/pwa/hearth/';
let app: StaticServer;
let browser: Browser;
let dist: string;

before(async () => {
  dist = (await buildApp()).dir;
  app = await serveStatic(dist, PREFIX);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await app?.close();
});

/** Polls an async page function from here until it returns true (its promise is awaited each time). */
async function until(page: Page, fn: (arg: string | null) => Promise<boolean>, arg: string | null, what: string, timeout = 60_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await page.evaluate(fn, arg))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const swState = (page: Page) => page.evaluate(async () => {
  const r = await navigator.serviceWorker.getRegistration();
  return {
    active: r?.active?.state ?? null, waiting: r?.waiting?.state ?? null, scope: r?.scope ?? null,
    controlled: navigator.serviceWorker.controller !== null, caches: (await caches.keys()).sort(),
  };
});

test('after one online visit the app starts and chats offline; a new version waits for the running reply and is used from the next reload', { timeout: 300_000 }, offlineAndUpdate);

async function offlineAndUpdate(): Promise<void> {
  const { page, logText, close } = await openPage(browser, null, { context: { viewport: { width: 1000, height: 700 } } });
  const context = page.context();
  try {
    // Online visit: the manifest is linked, the service worker installs and controls the page.
    await page.goto(onWebGPU(app.url));
    assert.equal(await waitLoaded(page), 'ready');
    await page.waitForFunction(() => document.body.dataset.serviceWorker === 'active' && navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    const online = await swState(page);
    assert.equal(online.active, 'activated');
    assert.equal(online.scope, app.url);
    assert.equal(online.caches.length, 2);
    assert.match(online.caches[0]!, /^hearth-models$/);
    assert.match(online.caches[1]!, /^hearth-shell-[0-9a-f]{16}$/);
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel=manifest]')!;
      return { href: link.href, body: await (await fetch(link.href)).json() as { start_url: string; icons: { src: string }[] } };
    });
    assert.equal(manifest.href, `${app.url}manifest.webmanifest`);
    assert.equal(manifest.body.start_url, './');
    assert.ok(manifest.body.icons.some((i) => i.src.endsWith('512.png')));

    // Offline: reload, and the app starts and chats from the caches alone.
    await context.setOffline(true);
    const requestsBefore = app.requests.length;
    await page.reload();
    assert.equal(await waitLoaded(page), 'ready', await page.getByTestId('status').innerText());
    await setSetting(page, 'max-tokens', '30');
    await sendAndWait(page, 'Once upon a time');
    const [offlineChat] = await storedConversations(page);
    const reply = offlineChat!.messages[1]!.content;
    assert.ok(reply.length > 40 && reference.startsWith(`Once upon a time${reply}`), `offline reply should follow llama2.c: ${JSON.stringify(reply)}`);
    // The browser's own update check for sw.js escapes Playwright's offline emulation (really offline, it
    // just fails and is retried later); the page, its worker and the model must not touch the network.
    assert.deepEqual(app.requests.slice(requestsBefore).filter((p) => p !== `${PREFIX}sw.js`), [], 'nothing reached the server while offline');
    assert.equal((await swState(page)).active, 'activated');

    // A new deploy (here: a changed sw.js) while a long reply streams: it installs and waits.
    await context.setOffline(false);
    const oldShell = (await swState(page)).caches.find((c) => c.startsWith('hearth-shell-'))!;
    const sw = readFileSync(join(dist, 'sw.js'), 'utf8');
    const version = /const VERSION = "([0-9a-f]+)"/.exec(sw)![1]!;
    await setSetting(page, 'max-tokens', '1500');
    const turns = await turnsCompleted(page);
    await page.getByTestId('prompt').fill('Then a big dog came');
    await page.getByTestId('send').click();
    await page.waitForFunction(() => document.body.dataset.state === 'generating', null, { timeout: TURN_TIMEOUT });
    // Deployed only now that the reply streams: the browser's own retry of the update check that failed offline
    // could otherwise install it before the reply starts (seen in full-suite runs), and it would take over at once.
    app.override(`${PREFIX}sw.js`, sw.replace(`const VERSION = "${version}"`, `const VERSION = "${version}0"`));
    await page.evaluate(async () => { await (await navigator.serviceWorker.getRegistration())!.update(); });
    // As the browser's own periodic check would, look again while no new version is installing: an update
    // check that raced the browser's retry of the one that failed offline can come back empty.
    const requestsOnline = app.requests.length;
    await until(page, async () => {
      const r = await navigator.serviceWorker.getRegistration();
      const g = globalThis as { lastUpdateCheck?: number; updateLog?: string[] };
      g.updateLog ??= [];
      if (!r?.waiting && !r?.installing && Date.now() - (g.lastUpdateCheck ?? 0) > 2000) {
        g.lastUpdateCheck = Date.now();
        g.updateLog.push(`update at ${document.body.dataset.state}`);
        r?.update().catch((e: Error) => g.updateLog!.push(`update failed: ${e.message}`));
      }
      return r?.waiting?.state === 'installed';
    }, null, 'the new version to install', 150_000).catch(async (e: Error) => {
      const log = await page.evaluate(() => (globalThis as { updateLog?: string[] }).updateLog ?? []);
      throw new Error(`${e.message}; ${JSON.stringify(await swState(page))}; page: ${log.join(' | ')}; server: ${app.requests.slice(requestsOnline).join(' ')}; state ${await page.evaluate(() => document.body.dataset.state)}`);
    }); // the install competes with the reply for the 2 cores
    const during = await page.evaluate(() => ({ state: document.body.dataset.state, chars: document.querySelector('.message.assistant.streaming .content')?.textContent?.length ?? 0 }));
    assert.equal(during.state, 'generating', 'the new version waits while the reply streams');
    // The reply goes on streaming with the new version installed.
    await page.waitForFunction((n) => (document.querySelector('.message.assistant.streaming .content')?.textContent?.length ?? 0) > n + 20, during.chars, { timeout: TURN_TIMEOUT });
    await page.getByTestId('stop').click();
    await waitTurnEnded(page, turns);
    const afterStop = (await storedConversations(page))[0]!.messages;
    assert.equal(afterStop[3]!.stats?.finishReason, 'abort');
    assert.ok(afterStop[3]!.content.length > during.chars, 'the reply was not cut off by the update');

    // Idle now: the new version takes over, and the page says so; the old shell is gone.
    await page.waitForFunction(() => /new version of Hearth is ready/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 60_000 });
    // The new worker drops the old shell as it activates.
    await until(page, async (old) => !(await caches.keys()).includes(old!), oldShell, 'the old shell to be dropped');
    const updated = await swState(page);
    assert.equal(updated.waiting, null);
    assert.ok(updated.caches.includes(`hearth-shell-${version}0`) && !updated.caches.includes(oldShell), updated.caches.join(', '));
    await page.reload();
    assert.equal(await waitLoaded(page), 'ready');
    assert.equal((await storedConversations(page))[0]!.messages.length, 4, 'history survives the update');
    const scriptVersion = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return (await (await fetch(r!.active!.scriptURL)).text()).match(/const VERSION = "([0-9a-f]+)"/)?.[1];
    });
    assert.equal(scriptVersion, `${version}0`);
  } catch (e) {
    console.error(logText());
    throw e;
  } finally {
    app.override(`${PREFIX}sw.js`, undefined);
    await close();
  }
}
