// Starts the engine's Web Worker from the script's own URL, also when that script came from another origin
// (the <hearth-chat> embed on someone else's page). A worker script must be same-origin with the page, so a
// cross-origin one is started through a same-origin blob: module that imports it; module scripts load
// across origins with CORS, and the worker's own imports then resolve against its real URL.

/**
 * Shadows the global `Worker` in this module so that the `new Worker(new URL(…, import.meta.url))` below
 * stays the literal pattern Vite recognises (and bundles as a worker chunk), while the URL it computes goes
 * through `sameOriginUrl` at run time.
 */
function crossOriginCapableWorker(): typeof Worker {
  return class extends globalThis.Worker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(sameOriginUrl(new URL(url, location.href)), options);
    }
  };
}

function sameOriginUrl(url: URL): string | URL {
  if (url.origin === location.origin || url.protocol === 'blob:' || url.protocol === 'data:') return url;
  const shim = `import ${JSON.stringify(url.href)};`;
  return URL.createObjectURL(new Blob([shim], { type: 'text/javascript' }));
}

export function startWorker(): Worker {
  const Worker = crossOriginCapableWorker();
  return new Worker(new URL('../../worker.ts', import.meta.url), { type: 'module', name: 'hearth-engine' });
}
