// Headless Chromium tests: a Vite dev server over the whole repo (so a page can import /test/... and
// /src/... exactly as the app does, ?raw shaders included) and a Playwright-driven Debian Chromium
// with WebGPU on SwiftShader. Reuse one browser per test file; a page per test.
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { createServer, mergeConfig, type InlineConfig, type ViteDevServer } from 'vite';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { ResourceError } from '../../src/errors';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface TestServer {
  /** Origin without a trailing slash, e.g. http://127.0.0.1:41234; pages live at `${url}/test/browser/x.html`. */
  url: string;
  vite: ViteDevServer;
  close(): Promise<void>;
}

/**
 * Starts Vite in dev mode with the project's vite.config.ts (aliases, worker format, fs.allow) but with
 * the repo root as root, on a free port of 127.0.0.1 (a secure context, so navigator.gpu exists).
 * No file watching, no HMR, no dependency discovery: test pages import project files only, and
 * pre-bundling would crawl every HTML entry in the repo. Pass `overrides` to change any of it.
 */
export async function startTestServer(overrides: InlineConfig = {}): Promise<TestServer> {
  const base: InlineConfig = {
    configFile: `${repoRoot}vite.config.ts`,
    root: repoRoot,
    logLevel: 'error',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] },
  };
  const vite = await createServer(mergeConfig(base, overrides));
  await vite.listen();
  const address = vite.httpServer?.address() as AddressInfo | null;
  if (!address || typeof address !== 'object') {
    await vite.close();
    throw new Error('The Vite test server did not report a listening address.');
  }
  return { url: `http://127.0.0.1:${address.port}`, vite, close: () => vite.close() };
}

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, with WebGPU (SwiftShader) and no background network traffic; `extraArgs` added.
 * Throws a ResourceError where its pages get no WebGPU adapter (requireWebGPU).
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu', ...extraArgs],
    });
  } catch (cause) {
    throw new Error(`Could not launch Chromium at ${chromiumPath} (set CHROMIUM_PATH, or run scripts/setup-webgpu.sh as root): ${String(cause)}`, { cause });
  }
  try {
    await requireWebGPU(browser);
  } catch (e) {
    await browser.close();
    throw e;
  }
  return browser;
}

/**
 * Debian's Chromium, headless, WITHOUT WebGPU (no --enable-unsafe-webgpu): navigator.gpu.requestAdapter() answers
 * null, as for a visitor without a usable GPU (the WebAssembly backend's tests).
 */
export async function launchChromiumWithoutWebGPU(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--no-first-run', '--disable-background-networking'] });
}

/**
 * Throws a ResourceError, at once, where `browser`'s pages get no WebGPU adapter: without this check each test of
 * a file fails later in its own way (an engine error deep in a page, or a wait for the app running out).
 */
export async function requireWebGPU(browser: Browser): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    // navigator.gpu exists only in secure contexts, which about:blank is not; 127.0.0.1 is, and no server is needed
    // for a page the route answers itself.
    await page.route('http://127.0.0.1/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html>' }));
    await page.goto('http://127.0.0.1/');
    const probe = page.evaluate(async () => {
      if (!navigator.gpu) return 'navigator.gpu is undefined';
      return (await navigator.gpu.requestAdapter()) ? '' : 'navigator.gpu.requestAdapter() returned null';
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('navigator.gpu.requestAdapter() did not answer in 60 s'), 60_000); });
    const missing = await Promise.race([probe, timeout]).finally(() => clearTimeout(timer));
    if (missing) {
      throw new ResourceError(`No WebGPU adapter in Chromium at ${chromiumPath} (${missing}). The browser tests run WebGPU on the CPU `
        + 'with the SwiftShader that Debian\'s chromium package ships, enabled by --enable-unsafe-webgpu: install it with '
        + '`sudo bash scripts/setup-webgpu.sh` (npm test does so itself where it can), or point CHROMIUM_PATH at a Chromium that has it.');
    }
  } finally {
    await context.close();
  }
}

export interface TestPage {
  page: Page;
  /** Console messages (all types), page errors and worker errors, in order, for failure messages. */
  logs: string[];
  /** Everything logged, as one block for an assertion message. */
  logText(): string;
  close(): Promise<void>;
}

export interface OpenPageOptions {
  /** Options of the fresh context (viewport, offline, ...). */
  context?: BrowserContextOptions;
  /** A script every page of the context runs before its own (context.addInitScript). */
  init?: string;
}

/**
 * Opens `url` (or, with null, no page yet: the caller navigates) in a fresh context, so storage starts empty, and
 * records what the page and its workers print.
 */
export async function openPage(browser: Browser, url: string | null, options: OpenPageOptions = {}): Promise<TestPage> {
  const context = await browser.newContext(options.context);
  if (options.init) await context.addInitScript({ content: options.init });
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
  page.on('requestfailed', (r) => logs.push(`[requestfailed] ${r.url()}: ${r.failure()?.errorText ?? ''}`));
  page.on('worker', (w) => w.on('console', (m) => logs.push(`[worker console.${m.type()}] ${m.text()}`)));
  page.on('response', (r) => { if (r.status() >= 400) logs.push(`[http ${r.status()}] ${r.url()}`); });
  if (url !== null) await page.goto(url);
  return {
    page,
    logs,
    logText: () => (logs.length ? `browser log:\n${logs.join('\n')}` : 'browser log: (empty)'),
    close: () => context.close(),
  };
}

/** Opens the engine test page (test/browser/engine.html, which exposes `window.hearth`) and waits until it is ready. */
export async function openEnginePage(browser: Browser, serverUrl: string): Promise<TestPage> {
  const tp = await openPage(browser, `${serverUrl}/test/browser/engine.html`);
  await tp.page.waitForFunction(() => (window as unknown as { hearthReady?: boolean }).hearthReady === true, undefined, { timeout: 60_000 });
  return tp;
}

/** A dev server, a Chromium and the engine API test page (test/browser/engine-api.html) on it, ready. */
export interface EngineApiPage {
  server: TestServer;
  browser: Browser;
  tp: TestPage;
  /** Closes the page, the browser and the server. */
  close(): Promise<void>;
}

/**
 * Starts a dev server and a Chromium (with WebGPU, or without it for the WebAssembly backend) and opens the engine
 * API test page, which exposes `window.hearth` and `window.apiTest`; waits until it is ready. What it started is
 * closed again if a later step fails.
 */
export async function openEngineApiPage(options: { webgpu: boolean }): Promise<EngineApiPage> {
  const server = await startTestServer();
  let browser: Browser | undefined;
  let tp: TestPage | undefined;
  const close = async (): Promise<void> => {
    await tp?.close();
    await browser?.close();
    await server.close();
  };
  try {
    browser = options.webgpu ? await launchChromium() : await launchChromiumWithoutWebGPU();
    tp = await openPage(browser, `${server.url}/test/browser/engine-api.html`);
    await tp.page.waitForFunction(() => (window as unknown as { apiReady?: boolean }).apiReady === true, undefined, { timeout: 60_000 });
    return { server, browser, tp, close };
  } catch (e) {
    await close();
    throw e;
  }
}
