// Loading from the hub in headless Chromium: the engine's worker downloads into the origin-private file system,
// a second load makes no request, the model loads with the hub offline, a dropped connection resumes, a quota
// too small (CDP override of the origin's quota) is refused before the download, and checkModel runs on the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type * as Hearth from '../src/index';
import { launchChromium, openEnginePage, openPage, startTestServer, type TestPage, type TestServer } from './helpers/browser';
import { LocalHub } from './helpers/hub-server';
import { fixturePath } from './helpers/fixtures';
import { onWebGPU } from './helpers/app-page';

declare global {
  interface Window { hearth: typeof Hearth; hearthReady: boolean }
}

const Q8_PATH = fixturePath('models/stories260K/stories260K-Q8_0.gguf');
const Q8 = new Uint8Array(readFileSync(Q8_PATH));
const REPO = 'tests/stories260K-GGUF';

let server: TestServer;
let browser: Browser;
let hub: LocalHub;

before(async () => {
  server = await startTestServer({ server: { fs: { allow: [fixturePath()] } } });
  // Chromium reports a static quota to estimate() (privacy); the real one makes the quota test meaningful.
  browser = await launchChromium(['--disable-features=StaticStorageQuota']);
  hub = await LocalHub.start();
  hub.addRepo(REPO, [{ path: 'stories260K-Q8_0.gguf', bytes: Q8 }, { path: 'README.md', bytes: new TextEncoder().encode('hi') }]);
});
after(async () => {
  await browser?.close();
  await server?.close();
  await hub?.stop().catch(() => {});
});

const enginePage = (): Promise<TestPage> => openEnginePage(browser, server.url);

interface LoadResult { ok: boolean; logits?: number[]; phases?: string[]; name?: string; code?: string; message?: string }

/**
 * createEngine in the page (worker), BOS logits and the progress phases, or the error as data. Page code is a
 * string: the test runner's transform would add helpers (esbuild's __name) that the page does not have.
 */
const LOAD_IN_PAGE = `async ({ model, options }) => {
  const phases = [];
  try {
    const engine = await window.hearth.createEngine(model, {
      contextLength: 32, precision: 'f32', ...options,
      onProgress: (p) => { if (phases.at(-1) !== p.phase) phases.push(p.phase); },
    });
    const logits = Array.from(await engine.logits([1]));
    await engine.dispose();
    return { ok: true, logits, phases };
  } catch (e) {
    return { ok: false, name: e.name, code: e.code, message: e.message, phases };
  }
}`;

function load(tp: TestPage, model: string, options: Record<string, unknown>): Promise<LoadResult> {
  return tp.page.evaluate(`(${LOAD_IN_PAGE})(${JSON.stringify({ model, options })})`) as Promise<LoadResult>;
}

test('Chromium: a hub id downloads into OPFS in the worker, loads again with no request, and offline', async () => {
  const tp = await enginePage();
  try {
    const reference = await load(tp, `/@fs${Q8_PATH}`, {});
    assert.ok(reference.ok, reference.message);
    const first = await load(tp, REPO, { hubUrl: hub.url });
    assert.ok(first.ok, `${first.message}\n${tp.logText()}`);
    assert.deepEqual(first.logits, reference.logits, 'the same logits as the file by URL');
    assert.deepEqual(first.phases, ['download', 'cache-read', 'compile', 'ready']);

    const seen = hub.requests.length;
    const second = await load(tp, REPO, { hubUrl: hub.url });
    assert.ok(second.ok, second.message);
    assert.equal(hub.requests.length, seen, 'no request the second time');
    assert.deepEqual(second.phases, ['cache-read', 'compile', 'ready']);

    await hub.stop();
    try {
      const offline = await load(tp, REPO, { hubUrl: hub.url });
      assert.ok(offline.ok, offline.message);
      assert.deepEqual(offline.logits, reference.logits);
    } finally {
      await hub.restart();
    }

    // The page sees the worker's cache: the same origin-private file system.
    const listed = await tp.page.evaluate(async () => (await (await window.hearth.openModelCache())!.list()).map((f) => ({ url: f.url, complete: f.complete, verified: f.verified, size: f.size })));
    assert.deepEqual(listed, [{ url: `${hub.url}/${REPO}/resolve/main/stories260K-Q8_0.gguf`, complete: true, verified: 'sha256', size: Q8.length }]);

    // A dropped connection resumes with a Range request (the worker writes through a sync access handle).
    await tp.page.evaluate(async () => { await (await window.hearth.openModelCache())!.clear(); });
    // Slowly, so the worker has read the bytes before the connection drops (an errored stream loses queued chunks).
    hub.fault({ file: 'stories260K-Q8_0.gguf', dropAfter: 150_000, slowMs: 10 });
    const start = hub.fileRequests().length;
    const resumed = await load(tp, REPO, { hubUrl: hub.url });
    assert.ok(resumed.ok, resumed.message);
    assert.deepEqual(resumed.logits, reference.logits);
    const ranges = hub.fileRequests().slice(start).map((r) => r.range ?? 'whole');
    assert.equal(ranges.length, 2);
    assert.match(ranges[1]!, /^bytes=[1-9]\d*-$/);
  } finally {
    await tp.close();
  }
});

test('Chromium: a storage quota too small refuses the download before it starts; checkModel says why on the page', async () => {
  hub.clearFaults();
  const tp = await enginePage();
  try {
    const cdp = await tp.page.context().newCDPSession(tp.page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 100_000 });
    const start = hub.requests.length;
    const refused = await load(tp, REPO, { hubUrl: hub.url });
    assert.equal(refused.ok, false);
    assert.equal(refused.code, 'resources', refused.message);
    assert.match(refused.message!, /needs 370\.\d KiB of storage to download, but only [\d.]+ KiB is available/);
    assert.deepEqual(hub.requests.slice(start).map((r) => r.path).filter((p) => !p.startsWith('/api/')), [], 'no file was requested');

    const check = await tp.page.evaluate(async (hubUrl) => {
      const c = await window.hearth.checkModel('tests/stories260K-GGUF', { hubUrl, precision: 'f16' });
      return { ok: c.ok, reasons: c.reasons, downloadBytes: c.downloadBytes, adapter: c.adapter?.adapter };
    }, hub.url);
    assert.equal(check.ok, false);
    assert.equal(check.downloadBytes, Q8.length);
    assert.match(check.reasons.join('\n'), /shader-f16/);
    assert.match(check.reasons.join('\n'), /of storage to download/);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url });
    const fits = await tp.page.evaluate((hubUrl) => window.hearth.checkModel('tests/stories260K-GGUF', { hubUrl, precision: 'f32' }).then((c) => c.reasons), hub.url);
    assert.deepEqual(fits, []);
  } finally {
    await tp.close();
  }
});

/** Records every value of the progress bar and every status line of the chat app, from the page's start. */
const RECORD_PROGRESS = `
  window.__seen = [];
  document.addEventListener('DOMContentLoaded', () => {
    const progress = document.getElementById('progress');
    const status = document.getElementById('status');
    const record = () => window.__seen.push({ value: progress.hasAttribute('value') ? progress.value : null, status: status.textContent });
    new MutationObserver(record).observe(progress, { attributes: true });
    new MutationObserver(record).observe(status, { childList: true, characterData: true, subtree: true });
  });`;

test('Chromium chat app pointed at the local hub (?hub=): a progress bar through a dropped connection, then an offline start from the cache', async () => {
  hub.clearFaults();
  const { page, logText, close } = await openPage(browser, null, { init: RECORD_PROGRESS });
  type Seen = { value: number | null; status: string }[];
  const seen = () => page.evaluate('window.__seen') as Promise<Seen>;
  const ready = () => page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 120_000 });
  try {
    // Slow enough to watch, and cut once mid-body.
    hub.fault({ file: 'stories260K-Q8_0.gguf', slowMs: 15, dropAfter: 200_000 });
    const start = hub.fileRequests().length;
    await page.goto(onWebGPU(`${server.url}/demo/index.html?hub=${encodeURIComponent(hub.url)}&model=${encodeURIComponent(`${REPO}/stories260K-Q8_0.gguf`)}`));
    await ready();
    const first = await seen();
    const downloading = first.filter((s) => s.status.startsWith('Downloading') && s.value !== null && s.value > 0 && s.value < 1);
    assert.ok(downloading.length >= 3, `the bar moved while downloading: ${JSON.stringify(first.slice(0, 12))}`);
    assert.ok(first.some((s) => s.status.startsWith('Reading from the model cache')), 'then read from the cache');
    const ranges = hub.fileRequests().slice(start).map((r) => r.range ?? 'whole');
    assert.equal(ranges[0], 'whole');
    assert.match(ranges.at(-1)!, /^bytes=[1-9]\d*-$/, `resumed after the drop: ${ranges.join(', ')}`);

    await hub.stop();
    try {
      await page.reload();
      await ready();
      const offline = await seen();
      assert.ok(!offline.some((s) => s.status.startsWith('Downloading')), 'nothing to download');
      assert.ok(offline.some((s) => s.status.startsWith('Reading from the model cache')), JSON.stringify(offline));
    } finally {
      await hub.restart();
    }
  } catch (e) {
    console.error(logText());
    throw e;
  } finally {
    await close();
  }
});
