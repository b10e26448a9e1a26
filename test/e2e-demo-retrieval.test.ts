// End to end in Chromium (the chat app as built, tiny models served beside it): a user adds documents (text,
// Markdown, HTML, PDF), asks a question whose answer is only in one of them, and the reply shows that passage as its
// first source, the prompt the model was given contains it (its token count is the engine's for that prompt), the
// source opens in its document, citations [n] in a reply link to their sources, documents survive a reload and
// can be deleted, and the switch turns retrieval off. The models have random weights: what they say is noise,
// so what is checked is what was retrieved and given to the model, never the wording of the reply.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { createEngine } from '../src/index';
import { launchChromium } from './helpers/browser';
import { buildApp, serveStatic, type StaticServer } from './helpers/dist-server';
import { onWebGPU, sendAndWait, setSetting, storeConversation, storedConversations, waitLoaded } from './helpers/app-page';
import { writeGGUF } from './helpers/gguf-writer';
import { CHATML, tinyChatModel } from './helpers/tiny-chat-model';
import { tinyEncoderSpec } from './helpers/tiny-embedding-models';

const PREFIX = '/apps/hearth/';
const chatModel = tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>'], { contextLength: 2048 });
const ANSWER = 'The secret code is blue falcon, and we meet at the north gate.';

/** A one-page PDF whose text is `line` in Helvetica, with a correct cross-reference table. */
function pdf(line: string): Buffer {
  const stream = `BT /F1 12 Tf 72 712 Td (${line}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => { const at = out.length; out += `${i + 1} 0 obj\n${body}\nendobj\n`; return at; });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const FILES = [
  { name: 'garden.txt', mimeType: 'text/plain', buffer: Buffer.from('Tomatoes need full sun.\n\nWater the roses at dawn, never at noon.') },
  { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from(`# Notes\n\n${ANSWER.replace('blue falcon', '**blue falcon**')}`) },
  { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<h1>Library</h1><p>The library opens at nine.</p><script>x()</script><p>Bring your card.</p>') },
  { name: 'museum.pdf', mimeType: 'application/pdf', buffer: pdf('The museum closes at five on Sundays.') },
];

let app: StaticServer;
let browser: Browser;
before(async () => {
  app = await serveStatic((await buildApp()).dir, PREFIX);
  app.override(`${PREFIX}tiny-chat.gguf`, Buffer.from(chatModel));
  app.override(`${PREFIX}tiny-bert.gguf`, Buffer.from(writeGGUF(tinyEncoderSpec('bert', { seed: 2, contextLength: 256 }))));
  browser = await launchChromium();
});
after(async () => { await browser?.close(); await app?.close(); });

/** Prompt tokens the engine feeds for one user message to the tiny chat model (what the app's stats report). */
async function promptTokens(content: string): Promise<number> {
  const engine = await createEngine(chatModel);
  try {
    return (await engine.chat([{ role: 'user', content }], { maxTokens: 1 }).result).promptTokens.length;
  } finally {
    await engine.dispose();
  }
}

const documentTitles = (page: Page) => page.getByTestId('document').locator('.document-title').allTextContents();
const storedDocuments = (page: Page) => page.evaluate(() => new Promise<{ id: string; title: string; text: string }[]>((resolve, reject) => {
  const open = indexedDB.open('hearth-documents');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const all = open.result.transaction('documents').objectStore('documents').getAll();
    all.onsuccess = () => { open.result.close(); resolve(all.result as { id: string; title: string; text: string }[]); };
    all.onerror = () => reject(all.error);
  };
}));

test('documents in the chat app: added, retrieved into the prompt, shown as sources and citations, kept over a reload, deleted', { timeout: 600_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
  try {
    await page.goto(onWebGPU(`${app.url}?model=tiny-chat.gguf&embedder=tiny-bert.gguf`));
    assert.equal(await waitLoaded(page), 'ready');
    await setSetting(page, 'max-tokens', '4');
    await page.getByTestId('documents-panel').locator('summary').click();
    assert.equal(await page.getByTestId('retrieval').isChecked(), true, 'retrieval is on by default');

    await page.getByTestId('document-files').setInputFiles(FILES);
    await page.waitForFunction(() => document.body.dataset.documents === '4', null, { timeout: 120_000 });
    assert.deepEqual(await documentTitles(page), FILES.map((f) => f.name));
    assert.match(await page.getByTestId('documents-status').textContent() ?? '', /Added garden\.txt \(1 passages\)/);
    const stored = await storedDocuments(page);
    assert.equal(stored.find((d) => d.title === 'notes.md')!.text, `Notes\n\n${ANSWER}`, 'Markdown as its text');
    assert.equal(stored.find((d) => d.title === 'page.html')!.text, 'Library\n\nThe library opens at nine.\n\nBring your card.', 'HTML as its visible text');
    assert.match(stored.find((d) => d.title === 'museum.pdf')!.text, /The museum closes at five on Sundays\./, 'PDF text through pdf.js');

    // The question is the passage's own words (a random model knows no meaning; identical text gives cosine 1).
    const question = `Notes\n\n${ANSWER}`;
    await sendAndWait(page, question);
    const reply = page.locator('[data-testid=message][data-role=assistant]').last();
    const sources = reply.getByTestId('source');
    assert.equal(await sources.count(), 4, 'the four best passages (one per document here)');
    assert.equal(await sources.first().textContent(), '[1] notes.md · passage 1');
    const given = await reply.getByTestId('grounded-prompt').locator('pre').textContent();
    assert.ok(given!.includes(`[1] notes.md (passage 1)\nNotes\n\n${ANSWER}`), given!);
    assert.ok(given!.endsWith(`Question: ${question}`));
    const [conversation] = await storedConversations(page);
    const answer = conversation!.messages.at(-1)! as typeof conversation.messages[0] & { sources?: { title: string; text: string }[]; groundedPrompt?: string };
    assert.equal(answer.groundedPrompt, given);
    assert.deepEqual([answer.sources![0]!.title, answer.sources![0]!.text], ['notes.md', `Notes\n\n${ANSWER}`]);
    assert.equal(answer.stats!.promptTokens, await promptTokens(given!), 'the model was given exactly the grounded prompt');

    // The source opens in its document, the passage marked.
    await sources.first().click();
    assert.equal(await page.getByTestId('source-title').textContent(), 'notes.md · passage 1');
    assert.equal(await page.getByTestId('source-passage').textContent(), `Notes\n\n${ANSWER}`);
    await page.keyboard.press('Escape');

    // A reply that cites [1] links the citation to its source (stored as a reply would be, then shown after a reload).
    await storeConversation(page, { ...conversation!, id: 'cited', title: 'cited', updated: Date.now() + 1000,
      messages: [...conversation!.messages.slice(0, -1), { ...answer, content: 'The code is blue falcon [1], see also [2, 9].' }] } as never);
    await page.reload();
    assert.equal(await waitLoaded(page), 'ready');
    const citations = page.getByTestId('citation');
    assert.deepEqual(await citations.allTextContents(), ['[1]', '[2]'], 'citations of known sources are links; [9] is not');
    await citations.first().click();
    assert.equal(await page.getByTestId('source-passage').textContent(), `Notes\n\n${ANSWER}`);
    await page.keyboard.press('Escape');

    // The documents survived the reload; one is deleted, and stays deleted over another reload.
    await page.getByTestId('documents-panel').locator('summary').click();
    await page.waitForFunction(() => document.body.dataset.documents === '4');
    await page.getByRole('button', { name: 'Delete document “page.html”' }).click();
    await page.waitForFunction(() => document.body.dataset.documents === '3');
    await page.reload();
    assert.equal(await waitLoaded(page), 'ready');
    await page.waitForFunction(() => document.body.dataset.documents === '3');
    assert.deepEqual(await documentTitles(page), ['garden.txt', 'notes.md', 'museum.pdf']);
    assert.deepEqual((await storedDocuments(page)).map((d) => d.title).sort(), ['garden.txt', 'museum.pdf', 'notes.md']);

    // Retrieval off: the question goes as typed, with no sources.
    await page.getByTestId('new-chat').click();
    await page.getByTestId('documents-panel').locator('summary').click();
    await page.getByTestId('retrieval').uncheck();
    await sendAndWait(page, 'Tomatoes need full sun.');
    const plain = page.locator('[data-testid=message][data-role=assistant]').last();
    assert.equal(await plain.getByTestId('sources').count(), 0);
    const [latest] = await storedConversations(page);
    assert.equal(latest!.messages.at(-1)!.stats!.promptTokens, await promptTokens('Tomatoes need full sun.'));
  } catch (e) {
    console.error(logs.join('\n'));
    throw e;
  } finally {
    await context.close();
  }
});
