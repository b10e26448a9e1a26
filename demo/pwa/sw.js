// Hearth's service worker. The build (vite.config.ts, hearthServiceWorker) writes dist/sw.js as
//   const VERSION = '<hash of the build>'; const SHELL = [...app files]; const MODELS = ['stories260K.gguf'];
//   const LAZY = [...files of the WebAssembly backend];
// followed by this file. URLs are relative to this script, so the app works under any path prefix.
//
// - The app shell is precached per version ('hearth-shell-<VERSION>') and served cache-first (its file
//   names carry content hashes); page loads are network-first (3 s) so a reload online shows the newest
//   page, and the cached page offline.
// - The WebAssembly backend's files (LAZY: only visitors without a hardware WebGPU adapter load them) join the
//   shell cache when first fetched, and all of them when the page says it runs on that backend
//   ('cache-wasm-backend'), so such a visitor also works offline after the first visit.
// - Models go to 'hearth-models', kept across versions. The bundled model is stored at install; Range
//   requests for it are answered from the cached file, so the engine reads it offline exactly as online.
// - A new version installs in the background and waits; the page tells it to take over ('skip-waiting')
//   only while no reply is streaming, and it then drops the old shell.
/* global VERSION, SHELL, MODELS, LAZY */
const SHELL_CACHE = `hearth-shell-${VERSION}`;
const MODEL_CACHE = 'hearth-models';
const NAVIGATION_TIMEOUT_MS = 3000;
const scope = self.registration.scope;
const here = (path) => new URL(path, scope).href;
const shellUrls = new Set(SHELL.map(here));
const modelUrls = new Set(MODELS.map(here));
const lazyUrls = new Set(LAZY.map(here));

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL_CACHE);
    // cache: 'reload' skips the HTTP cache, so a new version never precaches a stale file.
    await shell.addAll([...shellUrls].map((url) => new Request(url, { cache: 'reload' })));
    const models = await caches.open(MODEL_CACHE);
    for (const url of modelUrls) if (!(await models.match(url))) await models.add(new Request(url, { cache: 'reload' }));
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
  // The page runs on the WebAssembly backend: keep all of its files, also those fetched before this worker
  // controlled the page (a first visit's), so the next visit works offline.
  if (event.data && event.data.type === 'cache-wasm-backend') event.waitUntil(cacheLazyFiles());
});

async function cacheLazyFiles() {
  const shell = await caches.open(SHELL_CACHE);
  for (const url of lazyUrls) if (!(await shell.match(url))) await shell.add(new Request(url, { cache: 'reload' }));
}

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('hearth-shell-') && key !== SHELL_CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || !request.url.startsWith(scope)) return;
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  if (request.mode === 'navigate') event.respondWith(page(request, url.href));
  else if (modelUrls.has(url.href)) event.respondWith(model(request, url.href));
  else if (shellUrls.has(url.href)) event.respondWith(shellFile(request, url.href));
  else if (lazyUrls.has(url.href)) event.respondWith(lazyFile(request, url.href));
});

/** A page load: the network's answer within 3 s, else the cached copy (a shell file, or the app for its URLs). */
async function page(request, url) {
  const fallback = shellUrls.has(url) ? url : here('index.html');
  // caches.match with a cacheName never creates a cache (caches.open would re-create an old version's).
  const cached = caches.match(fallback, { cacheName: SHELL_CACHE });
  const network = fetch(request);
  const timeout = new Promise((resolve) => setTimeout(resolve, NAVIGATION_TIMEOUT_MS));
  try {
    const first = await Promise.race([network, timeout]);
    if (first) return first;
    return (await cached) ?? (await network);
  } catch (e) {
    const copy = await cached;
    if (copy) return copy;
    throw e;
  }
}

async function shellFile(request, url) {
  const cached = await caches.match(url, { cacheName: SHELL_CACHE });
  return cached ?? fetch(request);
}

/** A file of the WebAssembly backend: from the shell cache, else from the network and into the cache. */
async function lazyFile(request, url) {
  const cached = await caches.match(url, { cacheName: SHELL_CACHE });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await (await caches.open(SHELL_CACHE)).put(url, response.clone());
  return response;
}

/** The cached model, or the bytes a Range request asks for (206), like a server that honours Range. */
async function model(request, url) {
  const cached = await caches.match(url, { cacheName: MODEL_CACHE });
  if (!cached) return fetch(request);
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get('range') ?? '');
  if (!range) return cached;
  const body = await cached.blob();
  const start = Number(range[1]);
  const end = Math.min(range[2] ? Number(range[2]) : body.size - 1, body.size - 1);
  if (start >= body.size) return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${body.size}` } });
  return new Response(body.slice(start, end + 1), {
    status: 206,
    headers: {
      'Content-Range': `bytes ${start}-${end}/${body.size}`,
      'Content-Length': String(end - start + 1),
      'Content-Type': cached.headers.get('Content-Type') ?? 'application/octet-stream',
      'Accept-Ranges': 'bytes',
    },
  });
}
