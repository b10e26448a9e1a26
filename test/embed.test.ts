// <hearth-chat> on someone else's page: the built dist/ is served (under a path prefix, with CORS) on one
// port, and a host page with its own CSS and globals on another embeds it with the README's two lines.
// The widget must load its worker cross-origin relative to its script, chat (the reply is llama2.c's
// greedy continuation), stream token events, stop, and leave the host's styles and globals as they were.
// The embed's JavaScript — everything the page actually fetched, worker included — must be ≤ 150 KB gzip,
// and the build reports the same budget.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage } from './helpers/browser';
import { artifactDir, buildApp, serveStatic, type StaticServer } from './helpers/dist-server';
import { imageStats } from './helpers/app-page';
import { fixturePath } from './helpers/fixtures';

const BUDGET = 150 * 1024;
const reference = (JSON.parse(readFileSync(fixturePath('models', 'stories260K', 'refs.json'), 'utf8')) as {
  refs: { prompt: string | null; output: string }[];
}).refs.find((r) => r.prompt === 'Once upon a time')!.output;

let cdn: StaticServer;
let host: StaticServer;
let browser: Browser;
let dist: string;
let buildLog: string;

const HOST_CSS = `
  body { font-family: Georgia, serif; color: rgb(10, 20, 30); background: rgb(250, 240, 230); margin: 20px; }
  p { color: rgb(200, 0, 0); line-height: 30px; }
  button { background: rgb(0, 128, 0) !important; color: white; font-size: 22px; }
  textarea { border: 5px dashed red; }
  hearth-chat { width: 480px; height: 420px; }
`;

function hostPage(scriptUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Host</title><style>${HOST_CSS}</style>
<script>
  window.hostGlobal = 42; window.marked = 'host'; window.DOMPurify = 'host'; window.Comlink = 'host';
  window.__tokens = []; window.__events = [];
  window.__globalsBefore = Object.getOwnPropertyNames(window).concat('__globalsBefore');
  document.addEventListener('token', (e) => window.__tokens.push(e.detail.text));
  for (const type of ['ready', 'done', 'error']) document.addEventListener(type, (e) => window.__events.push({ type, detail: e.detail && { ...e.detail, model: undefined } }));
</script></head>
<body>
  <h1>A host page</h1>
  <p id="para">Host text.</p>
  <button id="host-button">Host button</button>
  <script type="module" src="${scriptUrl}"></script>
  <hearth-chat id="chat" max-tokens="30" backend="webgpu" placeholder="Ask the story model"></hearth-chat>
</body></html>`;
}

before(async () => {
  const built = await buildApp();
  dist = built.dir;
  buildLog = built.log;
  cdn = await serveStatic(dist, '/cdn/hearth/');
  host = await serveStatic(dist, '/not-served/', { '/index.html': hostPage(`${cdn.url}hearth-chat.js`) });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await cdn?.close();
  await host?.close();
});

test('the build reports the embed size and keeps it within 150 KB gzip', () => {
  const line = /embed hearth-chat\.js: ([\d.]+) KB gzip of 150\.0 KB budget \(([^)]*)\)/.exec(buildLog);
  assert.ok(line, `the build should report the embed size:\n${buildLog}`);
  assert.ok(Number(line[1]) * 1024 <= BUDGET, line[0]);
  assert.match(line[2]!, /worker-[\w-]+\.js/, 'the worker counts toward the budget');
});

test('<hearth-chat> on a page of another origin: chats, streams, stops; host styles and globals unchanged; JS it loads ≤ 150 KB gzip', { timeout: 300_000 }, async () => {
  const { page, logText, close } = await openPage(browser, null, { context: { viewport: { width: 900, height: 700 } } });
  const context = page.context();
  try {
    // A string, not a function: tsx would wrap the inner arrow function in a helper the page lacks.
    const hostStyle = () => page.evaluate(`(() => {
      const css = (sel, prop) => getComputedStyle(document.querySelector(sel)).getPropertyValue(prop);
      return {
        bodyFont: css('body', 'font-family'), bodyColor: css('body', 'color'), bodyBg: css('body', 'background-color'),
        para: css('#para', 'color'), paraLine: css('#para', 'line-height'), button: css('#host-button', 'background-color'),
        sheets: document.styleSheets.length, adopted: document.adoptedStyleSheets.length,
        head: [...document.head.children].map((e) => e.tagName).join(','),
      };
    })()`);
    await page.goto(`${host.origin}/index.html`);
    await page.waitForFunction(() => (window as unknown as { __events: { type: string }[] }).__events.some((e) => e.type === 'ready' || e.type === 'error'), null, { timeout: 120_000 });
    const events = () => page.evaluate(() => (window as unknown as { __events: { type: string; detail: Record<string, unknown> }[] }).__events);
    assert.deepEqual((await events()).map((e) => e.type), ['ready'], JSON.stringify(await events()));
    const expectedStyle = {
      bodyFont: 'Georgia, serif', bodyColor: 'rgb(10, 20, 30)', bodyBg: 'rgb(250, 240, 230)', para: 'rgb(200, 0, 0)', paraLine: '30px',
      button: 'rgb(0, 128, 0)', sheets: 1, adopted: 0, head: 'META,TITLE,STYLE,SCRIPT',
    };
    assert.deepEqual(await hostStyle(), expectedStyle, 'the host page looks as its own CSS says');

    // The widget is isolated the other way too: host rules do not reach inside its shadow root.
    const inside = await page.evaluate(() => {
      const root = document.getElementById('chat')!.shadowRoot!;
      const send = root.querySelector('button.send')!;
      return {
        sendBg: getComputedStyle(send).backgroundColor, font: getComputedStyle(root.querySelector('.root')!).fontFamily,
        textareaBorder: getComputedStyle(root.querySelector('textarea')!).borderTopStyle,
        placeholder: root.querySelector('textarea')!.placeholder, status: root.querySelector('.status')!.textContent,
      };
    });
    assert.notEqual(inside.sendBg, 'rgb(0, 128, 0)');
    assert.doesNotMatch(inside.font, /Georgia/);
    assert.equal(inside.textareaBorder, 'solid');
    assert.equal(inside.placeholder, 'Ask the story model');
    assert.match(inside.status!, /ready/);

    // Chat through the element's API: send() resolves with the reply; token events stream it.
    const reply = await page.evaluate(() => document.querySelector('hearth-chat')!.send('Once upon a time'));
    assert.ok(reply.length > 40 && reference.startsWith(`Once upon a time${reply}`), `the reply should follow llama2.c's greedy text: ${JSON.stringify(reply)}`);
    const tokens = await page.evaluate(() => (window as unknown as { __tokens: string[] }).__tokens);
    assert.ok(tokens.length >= 20, `token events: ${tokens.length}`);
    assert.equal(tokens.join(''), reply);
    const done = (await events()).find((e) => e.type === 'done')!;
    assert.equal(done.detail.text, reply);
    assert.equal(done.detail.finishReason, 'length');
    assert.equal(done.detail.tokens, 30);
    const shown = await page.evaluate(() => document.querySelector('hearth-chat')!.shadowRoot!.querySelector('.msg.bot')!.textContent);
    assert.equal(shown!.replace(/\s+/g, ' ').trim(), reply.replace(/\s+/g, ' ').trim());

    // Typing in the widget and Stop: a long reply is stopped once it streams.
    await page.evaluate(() => document.querySelector('hearth-chat')!.setAttribute('max-tokens', '1500'));
    const textarea = page.locator('hearth-chat textarea');
    await textarea.fill('Then a big dog came');
    await textarea.press('Enter');
    await page.waitForFunction((n) => (window as unknown as { __tokens: string[] }).__tokens.length > n + 10, tokens.length, { timeout: 120_000 });
    await page.locator('hearth-chat button.stop').click();
    await page.waitForFunction(() => (window as unknown as { __events: { type: string }[] }).__events.filter((e) => e.type === 'done').length === 2, null, { timeout: 120_000 });
    const stopped = (await events()).filter((e) => e.type === 'done')[1]!;
    assert.equal(stopped.detail.finishReason, 'abort');
    assert.ok((stopped.detail.tokens as number) < 1500);

    // Nothing leaked onto the host page.
    assert.deepEqual(await hostStyle(), expectedStyle, 'host styles unchanged after chatting');
    const globals = await page.evaluate(() => {
      const w = window as unknown as { __globalsBefore: string[]; hostGlobal: number; marked: string; DOMPurify: string; Comlink: string };
      const before = new Set(w.__globalsBefore);
      return {
        added: Object.getOwnPropertyNames(window).filter((n) => !before.has(n)),
        values: [w.hostGlobal, w.marked, w.DOMPurify, w.Comlink],
        defined: customElements.get('hearth-chat') !== undefined,
      };
    });
    assert.deepEqual(globals, { added: [], values: [42, 'host', 'host', 'host'], defined: true });

    // The worker came from the script's origin (cross-origin for this page), relative to the script.
    const scripts = [...new Set(cdn.requests.filter((p) => p.endsWith('.js')))];
    assert.ok(scripts.some((p) => /^\/cdn\/hearth\/assets\/worker-[\w-]+\.js$/.test(p)), `worker fetched from the script's folder: ${scripts.join(', ')}`);
    assert.ok(cdn.requests.includes('/cdn/hearth/stories260K.gguf'), 'the default model sits next to the script');
    assert.deepEqual(host.requests.filter((p) => p !== '/index.html' && p !== '/favicon.ico'), [], 'nothing was fetched from the host origin');
    // Budget: the JavaScript this page actually loaded.
    const gzipBytes = scripts.reduce((sum, p) => sum + gzipSync(readFileSync(join(dist, p.slice('/cdn/hearth/'.length)))).length, 0);
    console.log(`embed loaded ${scripts.length} scripts, ${(gzipBytes / 1024).toFixed(1)} KB gzip: ${scripts.join(', ')}`);
    assert.ok(gzipBytes <= BUDGET, `the embed loaded ${gzipBytes} bytes of JavaScript gzip`);

    const png = await page.screenshot({ animations: 'disabled' });
    writeFileSync(join(artifactDir('embed'), 'host-page.png'), png);
    const s = await imageStats(await context.newPage(), png);
    assert.ok(s.colors > 30 && s.nonBackground > 0.1, `screenshot looks blank: ${JSON.stringify(s)}`);
  } catch (e) {
    console.error(logText());
    throw e;
  } finally {
    await close();
  }
});
