// Start-up as a user meets it: the chat app as built (vite build, static files on 127.0.0.1) with its embedded
// default model (public/stories260K.gguf), in Chromium. The first visit downloads and caches everything; the
// second, in the same browser profile (warm cache), is timed from navigation to the model being ready, and to
// the first token of a reply whose prompt is sent the moment it is ready: the issue's "first token after page
// load with a warm cache".
import { rm } from 'node:fs/promises';
import { buildApp, serveStatic } from '../test/helpers/dist-server';
import { launchChromium } from '../test/helpers/browser';
import { waitLoaded } from '../test/helpers/app-page';
import type { Page } from 'playwright-core';

export interface DemoStartupMetrics {
  /** First visit (cold cache): navigation → model ready, ms. */
  coldReadyMs: number;
  /** Second visit (warm cache): navigation → model ready, ms. */
  warmReadyMs: number;
  /** Second visit: navigation → the reply's first token on screen, the prompt sent when the model was ready. */
  warmFirstTokenMs: number;
  /** Of that: sending the prompt → the first token on screen. */
  sendToFirstTokenMs: number;
  /** The model the app loaded, as its model line shows it. */
  model: string;
}

/** Milliseconds since this page's navigation began, once `condition` holds (polled every 5 ms). */
async function whenTrue(page: Page, condition: () => boolean): Promise<number> {
  await page.waitForFunction(condition, null, { timeout: 120_000, polling: 5 });
  return page.evaluate(() => performance.now());
}

const firstTokenShown = () => (document.querySelector('.message.assistant:last-of-type .content')?.textContent ?? '').trim().length > 0;

export async function measureDemoStartup(): Promise<DemoStartupMetrics> {
  const { dir } = await buildApp();
  const server = await serveStatic(dir, '/');
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    if ((await waitLoaded(page)) !== 'ready') throw new Error(`the app did not load its model: ${await page.getByTestId('status').innerText()}`);
    const coldReadyMs = await page.evaluate(() => performance.now());
    await page.goto(server.url); // the same profile: the model and the app come from its caches
    const warmReadyMs = await whenTrue(page, () => document.body.dataset.state === 'ready');
    await page.getByTestId('prompt').fill('Once upon a time');
    await page.getByTestId('prompt').press('Enter');
    const sentMs = await page.evaluate(() => performance.now());
    const warmFirstTokenMs = await whenTrue(page, firstTokenShown);
    const model = await page.getByTestId('model-info').innerText();
    const round = (ms: number) => Math.round(ms);
    return { coldReadyMs: round(coldReadyMs), warmReadyMs: round(warmReadyMs), warmFirstTokenMs: round(warmFirstTokenMs), sendToFirstTokenMs: round(warmFirstTokenMs - sentMs), model };
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
