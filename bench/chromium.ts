// Starts the bench page (bench/browser/) on a Vite dev server, cross-origin isolated (COOP/COEP, so that wllama
// gets SharedArrayBuffer and threads), in the Debian Chromium the browser tests use (WebGPU on SwiftShader).
import { launchChromium, startTestServer, type TestServer } from '../test/helpers/browser';
import type { Browser, Page } from 'playwright-core';
import type { HearthBenchPage } from './browser/page';

export interface BenchBrowser {
  /** Calls window.hearthBench[method](...args) in the page. */
  call<K extends keyof HearthBenchPage>(method: K, ...args: Parameters<HearthBenchPage[K]>): Promise<Awaited<ReturnType<HearthBenchPage[K]>>>;
  /** Page URL of a file on this machine (the server allows the repo and `extraRoots`). */
  urlOf(path: string): string;
  version: string;
  close(): Promise<void>;
}

export async function openBenchBrowser(extraRoots: string[], repoRoot: string): Promise<BenchBrowser> {
  const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  const server: TestServer = await startTestServer({ server: { headers: isolation, fs: { allow: extraRoots } } });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page: Page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') logs.push(m.text()); });
    page.on('pageerror', (e) => logs.push(e.stack ?? e.message));
    await page.goto(`${server.url}/bench/browser/index.html`);
    await page.waitForFunction(() => 'hearthBench' in globalThis, undefined, { timeout: 60_000 }).catch((e) => {
      throw new Error(`the bench page did not start: ${String(e)}\n${logs.join('\n')}`);
    });
    const b = browser;
    return {
      version: b.version(),
      call: async (method, ...args) => {
        try {
          return await page.evaluate(([m, a]) => (globalThis as never as { hearthBench: Record<string, (...x: unknown[]) => unknown> }).hearthBench[m]!(...a), [method, args] as const) as never;
        } catch (e) {
          throw new Error(`${method} in Chromium: ${String(e)}${logs.length ? `\npage log:\n${logs.join('\n')}` : ''}`);
        }
      },
      urlOf: (path: string) => {
        const rel = path.startsWith(repoRoot) ? `/${path.slice(repoRoot.length).replace(/^\//, '')}` : `/@fs${path}`;
        return `${server.url}${rel}`;
      },
      close: async () => { await b.close(); await server.close(); },
    };
  } catch (e) {
    await browser?.close();
    await server.close();
    throw e;
  }
}
