// End to end: the chat app as built (vite build → static files served under a path prefix on 127.0.0.1)
// in headless Chromium with WebGPU on SwiftShader, driving the real engine on the bundled stories260K the
// way a person does: type, Enter, watch it stream, Stop (Escape), Regenerate, Copy, reload. Replies are
// checked against llama2.c's greedy continuation; the app's own IndexedDB records are read back. Also: a
// stored reply full of HTML/script/javascript: renders inert; the error screens; screenshots (light,
// dark, phone width) saved under test-artifacts/app/ and checked to be non-blank.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchChromium, openPage, repoRoot } from './helpers/browser';
import { artifactDir, buildApp, serveStatic, type StaticServer } from './helpers/dist-server';
import {
  growth, imageStats, onWebGPU, recordGrowth, sendAndWait, setSetting, shownReplies, state, storeConversation, storedConversations,
  turnsCompleted, waitForState, waitLoaded, waitTurnEnded, TURN_TIMEOUT,
} from './helpers/app-page';
import { fixturePath } from './helpers/fixtures';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';
import { createEngine } from '../src/index';

/** llama2.c's greedy continuation of "Once upon a time" (an independent reference). */
const reference = (JSON.parse(readFileSync(fixturePath('models', 'stories260K', 'refs.json'), 'utf8')) as {
  refs: { prompt: string | null; output: string }[];
}).refs.find((r) => r.prompt === 'Once upon a time')!.output;

const PREFIX = '/apps/hearth/';
let app: StaticServer;
let other: StaticServer;
let browser: Browser;
let distDir: string;

before(async () => {
  distDir = (await buildApp()).dir;
  app = await serveStatic(distDir, PREFIX);
  // Another origin serving broken "models", with CORS, like a model host.
  other = await serveStatic(distDir, '/nothing-here/');
  const model = readFileSync(join(repoRoot, 'public', 'stories260K.gguf'));
  other.override('/not-a-model.gguf', '<!doctype html><title>Model page</title><p>Download the model here.</p>'.repeat(40));
  other.override('/truncated.gguf', model.subarray(0, 4096));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await app?.close();
  await other?.close();
});

/** A fresh browser context (empty IndexedDB) on `path`; on failure the page's log is part of the error. */
async function withApp(path: string, options: BrowserContextOptions & { init?: string }, fn: (page: Page) => Promise<void>): Promise<void> {
  const { init, ...contextOptions } = options;
  const { page, logText, close } = await openPage(browser, onWebGPU(`${app.url}${path}`), { context: { viewport: { width: 1100, height: 760 }, ...contextOptions }, init });
  try {
    await fn(page);
  } catch (e) {
    const where = await page.evaluate(() => ({ state: document.body.dataset.state, status: document.getElementById('status')?.textContent })).catch(() => 'page gone');
    console.error(`page at failure: ${JSON.stringify(where)}\n${logText()}`);
    throw e;
  } finally {
    await close();
  }
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

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('chat app (built, under a path prefix)', () => {
  test('sends and streams, regenerates, copies, stops (Escape); a reload restores the conversation, which continues; new chat, delete', { timeout: 300_000 }, async () => {
    await withApp('', { permissions: ['clipboard-read', 'clipboard-write'] }, async (page) => {
      assert.equal(await step('load', () => waitLoaded(page)), 'ready');
      assert.match(await page.getByTestId('model-info').innerText(), /stories260K.*llama.*F32/i);
      assert.match(await page.getByTestId('memory').innerText(), /GPU memory \d+(\.\d)? (KB|MB)/);

      // Turn 1: greedy, 40 tokens; it must stream and match llama2.c.
      await setSetting(page, 'max-tokens', '40');
      await recordGrowth(page);
      await step('turn 1', () => sendAndWait(page, 'Once upon a time', 'enter'));
      const [saved] = await storedConversations(page);
      assert.equal(saved?.messages.length, 2);
      assert.deepEqual(saved!.messages[0], { role: 'user', content: 'Once upon a time' });
      const reply1 = saved!.messages[1]!.content;
      assert.ok(reply1.length > 60, `a 40-token reply was expected, got ${JSON.stringify(reply1)}`);
      assert.ok(reference.startsWith(`Once upon a time${reply1}`), `greedy output should follow llama2.c's:\n  got      ${JSON.stringify(reply1)}\n  expected ${JSON.stringify(reference.slice(16, 16 + reply1.length))}…`);
      assert.equal(squash((await shownReplies(page))[0]!), squash(reply1), 'the reply on screen is the stored text');
      const lengths = await growth(page);
      assert.ok(new Set(lengths).size >= 5, `the reply should grow token by token while generating; lengths seen: ${lengths.join(',')}`);
      assert.match(await page.getByTestId('turn-stats').innerText(), /^40 tokens · [\d.]+ tok\/s/);
      assert.match(await page.getByTestId('tokens-per-second').innerText(), /^\d+(\.\d+)? tok\/s$/);
      assert.equal(await page.getByTestId('conversation').first().innerText(), 'Once upon a time');

      // Regenerate: greedy gives the same reply again, in place of the old one.
      let turns = await turnsCompleted(page);
      await page.getByTestId('regenerate').click();
      await step('regenerate', () => waitTurnEnded(page, turns));
      const afterRegenerate = (await storedConversations(page))[0]!;
      assert.equal(afterRegenerate.messages.length, 2);
      assert.equal(afterRegenerate.messages[1]!.content, reply1, 'a greedy regeneration reproduces the reply');

      // Copy puts the reply's text (markdown source) on the clipboard.
      await page.locator('.message.assistant [data-testid=copy]').last().click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), reply1);

      // Turn 2: a long request, stopped with Escape once it is visibly streaming.
      await setSetting(page, 'max-tokens', '1500');
      turns = await turnsCompleted(page);
      await page.getByTestId('prompt').fill('Then a big dog came');
      await page.getByTestId('send').click();
      await step('turn 2 streaming', () => page.waitForFunction(() => document.body.dataset.state === 'generating' &&
        (document.querySelector('.message.assistant.streaming .content')?.textContent ?? '').length > 40, null, { timeout: TURN_TIMEOUT, polling: 20 }));
      await page.keyboard.press('Escape');
      await step('turn 2 stop', () => waitTurnEnded(page, turns));
      const stopped = (await storedConversations(page))[0]!.messages;
      assert.equal(stopped.length, 4);
      assert.equal(stopped[3]!.stats?.finishReason, 'abort');
      assert.ok(stopped[3]!.stats!.tokens < 1500 && stopped[3]!.content.length > 40);
      assert.match(await page.locator('.message.assistant').last().getAttribute('class') ?? '', /\bstopped\b/);
      assert.match(await page.getByTestId('turn-stats').innerText(), /[1-9]\d* cached\) · stopped/, 'turn 2 reuses the KV cache of turn 1 and ends as stopped');
      const shownAfterStop = await shownReplies(page);
      for (let i = 0; i < 5; i++) {
        await page.waitForTimeout(100);
        assert.deepEqual(await shownReplies(page), shownAfterStop, 'text kept growing after Stop');
      }
      assert.equal(await state(page), 'ready');

      // Reload: the conversation comes back from IndexedDB, and continues.
      await page.reload();
      assert.equal(await step('reload', () => waitLoaded(page)), 'ready');
      assert.equal(await page.getByTestId('message').count(), 4);
      assert.deepEqual((await shownReplies(page)).map(squash), [stopped[1]!.content, stopped[3]!.content].map(squash));
      assert.equal(await page.locator('[data-testid=conversation][aria-current=true]').innerText(), 'Once upon a time');
      assert.equal(await page.getByTestId('max-tokens').inputValue(), '1500', 'settings survive the reload');
      await setSetting(page, 'max-tokens', '20');
      await step('turn 3', () => sendAndWait(page, 'The end.', 'click'));
      const continued = (await storedConversations(page))[0]!.messages;
      assert.equal(continued.length, 6);
      assert.ok(continued[5]!.content.length > 0 && continued[5]!.stats!.tokens <= 20);

      // New chat: empty, and the first turn again follows llama2.c from scratch; then delete it.
      await page.getByTestId('new-chat').click();
      assert.equal(await page.getByTestId('message').count(), 0);
      await setSetting(page, 'max-tokens', '40');
      await step('new chat turn', () => sendAndWait(page, 'Once upon a time'));
      const all = await storedConversations(page);
      assert.equal(all.length, 2);
      assert.equal(all[0]!.messages[1]!.content, reply1, 'a new chat starts from a fresh context');
      assert.equal(await page.getByTestId('conversation').count(), 2);
      await page.getByRole('button', { name: 'Delete conversation “Once upon a time”' }).first().click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=conversation]').length === 1);
      assert.equal((await storedConversations(page)).length, 1);
    });
  });

  test('a stored reply with HTML, script and javascript: links renders inert; screenshots in light, dark and at phone width', { timeout: 300_000 }, async () => {
    await withApp('', { colorScheme: 'light' }, async (page) => {
      assert.equal(await step('load', () => waitLoaded(page)), 'ready');
      const dialogs: string[] = [];
      page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
      const hostile = [
        'Here is an image: <img src=x onerror="window.__pwned = \'img\'"> and <svg onload="window.__pwned = \'svg\'"></svg>',
        '',
        'A [markdown link](javascript:window.__pwned=\'md-link\') and <a href="javascript:window.__pwned=\'a\'">an HTML link</a>',
        'and ![pic](javascript:window.__pwned=\'image\') <script>window.__pwned = \'script\'</script>',
        '<iframe src="javascript:window.parent.__pwned=\'iframe\'"></iframe> <form action="javascript:alert(1)"><button>go</button></form>',
        '',
        '```js',
        'alert("only text inside a code block");',
        '```',
        '',
        'A **safe** [link](https://example.com/docs) stays.',
      ].join('\n');
      await storeConversation(page, {
        id: 'hostile', title: 'Rendering test', systemPrompt: '', created: Date.now(), updated: Date.now() + 60_000,
        messages: [
          { role: 'user', content: 'Show me <b>HTML</b> <img src=x onerror="window.__pwned=\'user\'">' },
          { role: 'assistant', content: hostile },
        ],
      });
      await page.reload();
      assert.equal(await step('reload', () => waitLoaded(page)), 'ready');
      await page.waitForTimeout(500); // give any handler a chance to run (none may)
      const report = await page.evaluate(() => {
        const root = document.getElementById('transcript')!;
        const elements = [...root.querySelectorAll('*')];
        return {
          pwned: (window as unknown as { __pwned?: string }).__pwned,
          handlers: elements.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${e.tagName} ${a.name}`)),
          dangerous: elements.filter((e) => /^(IMG|SCRIPT|SVG|IFRAME|FORM|OBJECT|EMBED|STYLE)$/i.test(e.tagName)).map((e) => e.tagName),
          hrefs: [...root.querySelectorAll('a')].map((a) => a.getAttribute('href')),
          links: [...root.querySelectorAll('a[href]')].map((a) => `${a.getAttribute('href')} ${a.getAttribute('rel')} ${a.getAttribute('target')}`),
          text: root.innerText,
          code: root.querySelector('pre code.language-js')?.textContent,
          userText: root.querySelector('.message.user .content')?.textContent,
        };
      });
      assert.equal(report.pwned, undefined, 'no script from the reply ran');
      assert.deepEqual(report.handlers, [], 'no event-handler attributes');
      assert.deepEqual(report.dangerous, [], 'no img/script/svg/iframe/form elements');
      assert.ok(report.hrefs.every((h) => h === null || /^(https?:|mailto:)/.test(h)), `only http(s)/mailto links: ${report.hrefs.join(', ')}`);
      assert.deepEqual(report.links, ['https://example.com/docs noopener noreferrer nofollow _blank']);
      assert.match(report.text, /<img src=x onerror=/, 'the raw HTML is shown as text');
      assert.equal(report.code, 'alert("only text inside a code block");\n');
      assert.equal(report.userText, 'Show me <b>HTML</b> <img src=x onerror="window.__pwned=\'user\'">');
      // Clicking the neutralized links does nothing.
      await page.getByText('markdown link').click();
      await page.getByText('an HTML link').click();
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned), undefined);
      assert.deepEqual(dialogs, []);
      assert.match(page.url(), new RegExp(`${PREFIX}\\?backend=webgpu$`));

      // Every control has an accessible name (its text, a <label>, or aria-label).
      const unnamed = await page.evaluate(`[...document.querySelectorAll('button, input, select, textarea, summary, [tabindex]')]
        .filter((el) => !(el.getAttribute('aria-label') || (el.labels && el.labels.length) || el.textContent.trim()))
        .map((el) => el.outerHTML.slice(0, 80))`);
      assert.deepEqual(unnamed, []);

      // Screenshots: light, dark, phone width — saved, and each must show a real page.
      const dir = artifactDir('app');
      const shots: { name: string; png: Buffer }[] = [];
      shots.push({ name: 'light', png: await page.screenshot({ animations: 'disabled' }) });
      const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page.emulateMedia({ colorScheme: 'dark' });
      shots.push({ name: 'dark', png: await page.screenshot({ animations: 'disabled' }) });
      const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const luminance = (rgb: string) => { const [r, g, b] = rgb.match(/\d+/g)!.map(Number); return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255; };
      assert.ok(luminance(lightBg) > 0.8 && luminance(darkBg) < 0.2, `light ${lightBg}, dark ${darkBg}`);
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize({ width: 390, height: 844 });
      shots.push({ name: 'phone', png: await page.screenshot({ animations: 'disabled' }) });
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'nothing overflows a phone-width screen');
      assert.equal(await page.locator('#sidebar').isVisible(), false, 'at phone width the sidebar is a drawer');
      await page.getByRole('button', { name: 'Conversations and settings' }).click();
      await page.waitForFunction(() => getComputedStyle(document.getElementById('sidebar')!).visibility === 'visible');
      assert.equal(await page.locator('#menu').getAttribute('aria-expanded'), 'true');
      shots.push({ name: 'phone-menu', png: await page.screenshot({ animations: 'disabled' }) });

      const analyzer = await page.context().newPage();
      for (const { name, png } of shots) {
        writeFileSync(join(dir, `${name}.png`), png);
        const s = await imageStats(analyzer, png);
        assert.ok(s.colors > 30 && s.nonBackground > 0.03, `${name}.png looks blank: ${JSON.stringify(s)}`);
      }
    });
  });

  test('a model with a chat template: the system prompt and messages go through the template; the second turn reuses the first from the KV cache', { timeout: 300_000 }, async () => {
    const model = tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>']);
    // The reference: the same prompt through the engine in Node.
    const engine = await createEngine(model);
    const messages = [{ role: 'system' as const, content: 'Be kind.' }, { role: 'user' as const, content: 'Hi!' }];
    const expectedPrompt = (await engine.chat(messages, { maxTokens: 1 }).result).promptTokens.length;
    await engine.dispose();
    app.override(`${PREFIX}tiny-chat.gguf`, Buffer.from(model));
    try {
      await withApp('?model=tiny-chat.gguf', {}, async (page) => {
        assert.equal(await waitLoaded(page), 'ready');
        assert.match(await page.getByTestId('model-info').innerText(), / · chat · /);
        await page.locator('#system-panel > summary').click();
        await page.getByTestId('system-prompt').fill('Be kind.');
        await setSetting(page, 'max-tokens', '8');
        await sendAndWait(page, 'Hi!');
        const [first] = await storedConversations(page);
        assert.equal(first!.systemPrompt, 'Be kind.');
        assert.equal(first!.messages[1]!.stats!.promptTokens, expectedPrompt,
          'the prompt is the template rendered with the system prompt and the message, as engine.chat renders it');
        await sendAndWait(page, 'And now?');
        const stats = await page.getByTestId('turn-stats').innerText();
        const cached = Number(/\((\d+) cached\)/.exec(stats)?.[1]);
        assert.ok(cached >= expectedPrompt, `the second turn should reuse at least the first prompt from the KV cache: ${stats}`);
      });
    } finally {
      app.override(`${PREFIX}tiny-chat.gguf`, undefined);
    }
  });

  test('example tools switched on: the reply shows the call the model made, its result, and then the answer', { timeout: 300_000 }, async () => {
    // A silent model says token 0 at every step: '<tool_call>', so under 'auto' it opens a call at once, which the
    // grammar then forces to be valid (the smallest allowed token each step: calculate with blank arguments).
    const template = readFileSync(fixturePath('templates', 'Qwen-Qwen2.5-7B-Instruct.jinja'), 'utf8');
    const model = tinyChatModel(template, ['<tool_call>', '<|im_end|>', '<|im_start|>', '</tool_call>'], { silent: true, extraChars: '{}[]":,-.0123456789_<>/=|()+*', contextLength: 2048 });
    app.override(`${PREFIX}tiny-tools.gguf`, Buffer.from(model));
    try {
      await withApp('?model=tiny-tools.gguf', {}, async (page) => {
        assert.equal(await waitLoaded(page), 'ready');
        await page.getByTestId('settings').locator('summary').click();
        await page.getByTestId('tools').check();
        await page.getByTestId('settings').locator('summary').click();
        await setSetting(page, 'max-tokens', '200');
        await sendAndWait(page, 'What is 2 + 3?');
        const reply = await page.getByTestId('message').last().innerText();
        assert.match(reply, /🔧 calculate\(\{ "expression" : " +" \}\) → error: unexpected end/);
        const [stored] = await storedConversations(page);
        assert.match(stored!.messages[1]!.content, /^🔧 calculate\(/, 'the stored reply keeps the call and its result');
      });
    } finally {
      app.override(`${PREFIX}tiny-tools.gguf`, undefined);
    }
  });

  test('error screens: no WebGPU; download failed, then Retry loads it; not GGUF / truncated; settings out of range', { timeout: 300_000 }, async () => {
    await withApp('', { init: `Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });` }, async (page) => {
      assert.equal(await waitLoaded(page), 'error');
      assert.equal(await page.getByTestId('screen').isVisible(), true);
      assert.equal(await page.getByTestId('screen-title').innerText(), 'WebGPU is not available in this browser');
      assert.match(await page.getByTestId('screen-hint').innerText(), /Chrome or Edge 113/);
      assert.equal(await page.getByTestId('screen-retry').isVisible(), false);
      assert.equal(await page.getByTestId('send').isDisabled(), true);
    });

    await withApp('?model=later.gguf', {}, async (page) => {
      assert.equal(await waitLoaded(page), 'error');
      assert.equal(await page.getByTestId('screen-title').innerText(), 'Model file not found');
      assert.match(await page.getByTestId('screen-message').innerText(), /404/);
      // The file appears on the server (the connection is back): Retry loads it.
      app.override(`${PREFIX}later.gguf`, readFileSync(join(repoRoot, 'public', 'stories260K.gguf')));
      try {
        await page.getByTestId('screen-retry').click();
        assert.equal(await waitLoaded(page), 'ready');
        assert.equal(await page.getByTestId('screen').isVisible(), false);
        assert.match(await page.getByTestId('model-info').innerText(), /llama · F32/);
      } finally {
        app.override(`${PREFIX}later.gguf`, undefined);
      }
    });

    await withApp(`?model=${encodeURIComponent(`${other.origin}/truncated.gguf`)}`, {}, async (page) => {
      assert.equal(await waitLoaded(page), 'error');
      const text = await page.getByTestId('error-panel').innerText();
      assert.match(text, /not a valid GGUF/i);
      assert.match(text, /truncated/i);
    });

    await withApp(`?model=${encodeURIComponent(`${other.origin}/not-a-model.gguf`)}`, {}, async (page) => {
      assert.equal(await waitLoaded(page), 'error');
      assert.match(await page.getByTestId('error-panel').innerText(), /not a GGUF file[\s\S]*Choose another model/i);
      // The model picker: the bundled model loads from it.
      await page.getByTestId('model-button').click();
      assert.equal(await page.getByTestId('model-panel').isVisible(), true);
      assert.ok(await page.getByTestId('model-choice').count() >= 5, 'the bundled model and the curated hub models are offered');
      // Pre-flight (checkModel, from the header alone): the bundled model fits, with its GPU memory named.
      const bundled = page.getByTestId('model-list').locator('li').first();
      await bundled.getByTestId('verdict').filter({ hasText: 'Fits this device' }).waitFor({ timeout: 60_000 });
      const planned = /needs ([\d.]+ MB) of GPU memory; 1\.1 MB to download/.exec(await bundled.getByTestId('verdict-reasons').innerText());
      assert.ok(planned, await bundled.innerText());
      await page.getByRole('button', { name: /^Load stories260K/ }).click();
      assert.equal(await waitLoaded(page), 'ready');
      assert.match(await page.getByTestId('memory').innerText(), new RegExp(`^GPU memory ${planned[1]!.replace('.', '\\.')}`), 'the pre-flight estimate is what loading took');
      assert.equal(await page.getByTestId('error-panel').isVisible(), false);

      // Settings out of range: the error names the field; nothing is sent and the text stays.
      await setSetting(page, 'temperature', '-1');
      await page.getByTestId('prompt').fill('Tom and Sam');
      await page.getByTestId('send').click();
      await page.getByTestId('error-panel').waitFor({ state: 'visible' });
      assert.match(await page.getByTestId('error-panel').innerText(), /Temperature must be 0 \(greedy\) or more/);
      assert.equal(await page.getByTestId('prompt').inputValue(), 'Tom and Sam');
      assert.equal(await page.getByTestId('message').count(), 0);
      await waitForState(page, 'ready');
    });
  });
});
