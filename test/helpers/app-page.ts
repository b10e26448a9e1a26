// Driving the chat app (demo/) in Chromium the way a person does — type, press Enter, click — and reading
// back what it stored in IndexedDB (the app's own record of each conversation), for the app's tests.
import type { Page } from 'playwright-core';

export const LOAD_TIMEOUT = 120_000;
export const TURN_TIMEOUT = 120_000;

export interface StoredConversation {
  id: string;
  title: string;
  systemPrompt: string;
  messages: { role: 'user' | 'assistant'; content: string; stats?: { tokens: number; promptTokens: number; cachedTokens: number; finishReason: string } }[];
  created: number;
  updated: number;
}

export const state = (page: Page) => page.evaluate(() => document.body.dataset.state);

export async function waitForState(page: Page, want: string, timeout = TURN_TIMEOUT): Promise<void> {
  await page.waitForFunction((s) => document.body.dataset.state === s, want, { timeout, polling: 50 });
}

/** Waits until loading ends (ready or error) and returns the state. */
export async function waitLoaded(page: Page): Promise<string> {
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', null, { timeout: LOAD_TIMEOUT, polling: 50 });
  return (await state(page))!;
}

const turnsCompleted = (page: Page) => page.evaluate(() => Number(document.body.dataset.turns ?? 0));

/** Types `text`, sends it (Enter or the Send button) and waits until that turn has ended. */
export async function sendAndWait(page: Page, text: string, how: 'enter' | 'click' = 'enter'): Promise<void> {
  const before = await turnsCompleted(page);
  await page.getByTestId('prompt').fill(text);
  if (how === 'enter') await page.getByTestId('prompt').press('Enter');
  else await page.getByTestId('send').click();
  await waitTurnEnded(page, before);
}

export async function waitTurnEnded(page: Page, before: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.body.dataset.turns ?? 0) > n && document.body.dataset.state === 'ready',
    before, { timeout: TURN_TIMEOUT, polling: 50 });
}

export { turnsCompleted };

/** Opens the sidebar's settings, sets a field, closes them again (the app saves on change). */
export async function setSetting(page: Page, testid: string, value: string): Promise<void> {
  const details = page.getByTestId('settings');
  const wasOpen = await details.evaluate((d) => (d as HTMLDetailsElement).open);
  if (!wasOpen) await details.locator('summary').click();
  await page.getByTestId(testid).fill(value);
  await page.getByTestId(testid).dispatchEvent('change');
  if (!wasOpen) await details.locator('summary').click();
}

/** The conversations the app stored in IndexedDB, newest first. */
export async function storedConversations(page: Page): Promise<StoredConversation[]> {
  return page.evaluate(() => new Promise<StoredConversation[]>((resolve, reject) => {
    const open = indexedDB.open('hearth-chat');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('conversations')) { db.close(); resolve([]); return; }
      const all = db.transaction('conversations').objectStore('conversations').getAll();
      all.onsuccess = () => { db.close(); resolve((all.result as StoredConversation[]).sort((a, b) => b.updated - a.updated)); };
      all.onerror = () => reject(all.error);
    };
  }));
}

/** Writes a conversation record straight into the app's IndexedDB store (as an earlier visit would have). */
export async function storeConversation(page: Page, c: StoredConversation): Promise<void> {
  await page.evaluate((record) => new Promise<void>((resolve, reject) => {
    const open = indexedDB.open('hearth-chat');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('conversations', 'readwrite');
      tx.objectStore('conversations').put(record);
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), c);
}

/** Text of the replies as shown (rendered markdown), last one last. */
export const shownReplies = (page: Page) =>
  page.locator('[data-testid=transcript] .message.assistant .content').evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText));

/**
 * Records, while the page is generating, each change to the reply being streamed (its text length), so a
 * test can tell a reply that grew token by token from one that appeared at once.
 */
export async function recordGrowth(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __growth: number[] };
    w.__growth = [];
    new MutationObserver(() => {
      if (document.body.dataset.state !== 'generating') return;
      const reply = document.querySelector('[data-testid=transcript] .message.assistant.streaming .content');
      if (reply) w.__growth.push(reply.textContent?.length ?? 0);
    }).observe(document.getElementById('transcript')!, { subtree: true, childList: true, characterData: true });
  });
}

export const growth = (page: Page) => page.evaluate(() => (window as unknown as { __growth: number[] }).__growth);

/**
 * Decodes a PNG screenshot in the browser and measures it: distinct colours (quantized) and the share of
 * pixels that differ from the most common one — a blank or single-colour page has ~1 colour and ~0%.
 */
export async function imageStats(page: Page, png: Buffer): Promise<{ width: number; height: number; colors: number; nonBackground: number }> {
  return page.evaluate(async (b64) => {
    const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
    const bitmap = await createImageBitmap(blob);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    const counts = new Map<number, number>();
    for (let i = 0; i < data.length; i += 4) {
      const key = ((data[i]! >> 3) << 10) | ((data[i + 1]! >> 3) << 5) | (data[i + 2]! >> 3);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const pixels = data.length / 4;
    const top = Math.max(...counts.values());
    return { width: bitmap.width, height: bitmap.height, colors: counts.size, nonBackground: (pixels - top) / pixels };
  }, png.toString('base64'));
}

/**
 * `url` (absolute, or a path and query like '?model=x.gguf') with `backend=webgpu`: the app's WebGPU path, which
 * its default 'auto' does not take on this Chromium's SwiftShader (a software adapter: llama.cpp WebAssembly).
 */
export function onWebGPU(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}backend=webgpu`;
}
