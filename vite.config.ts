import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { embedBudget, serviceWorker } from './scripts/vite-plugins.ts';
import { wgslRaw } from './scripts/wgsl-raw.mjs';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const CROSS_ORIGIN_ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Prints each worker chunk's size: the worker is what a page downloads before the first token. */
function reportWorkerSize(): Plugin {
  return {
    name: 'hearth:report-worker-size',
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const kb = (n: number) => (n / 1024).toFixed(1);
        console.log(`worker bundle ${chunk.fileName}: ${kb(chunk.code.length)} KB, ${kb(gzipSync(chunk.code).length)} KB gzip`);
      }
    },
  };
}

/** @xenova/transformers' tokenizer module's hub client, replaced by src/stubs/transformers-hub.ts (see there). */
function tokenizerHubStub(): Plugin {
  return {
    name: 'hearth:tokenizer-hub-stub',
    enforce: 'pre',
    resolveId(source, importer) {
      return source === './utils/hub.js' && importer?.replaceAll('\\', '/').endsWith('@xenova/transformers/src/tokenizers.js') ? here('./src/stubs/transformers-hub.ts') : null;
    },
  };
}

export default defineConfig({
  root: here('./demo'),
  publicDir: here('./public'),
  // 'mpa': a missing file is a 404, not index.html (which a wrong ?model= URL would then "load").
  appType: 'mpa',
  resolve: {
    alias: {
      'onnxruntime-web': here('./src/stubs/empty.ts'),
      'onnxruntime-node': here('./src/stubs/empty.ts'),
    },
  },
  // Relative asset URLs: dist/ works from any origin and under any path prefix.
  base: './',
  // Cross-origin isolated (COOP/COEP): SharedArrayBuffer, so llama.cpp's WebAssembly backend runs multi-threaded.
  // The app fetches models with CORS, which isolation allows; a page without these headers gets one thread.
  server: { host: '127.0.0.1', fs: { allow: [here('.')] }, headers: CROSS_ORIGIN_ISOLATION },
  // CORS so that <hearth-chat> can be embedded from the preview server on pages of other origins; CORP
  // cross-origin so that isolated host pages may load it too.
  preview: { host: '127.0.0.1', cors: true, headers: { ...CROSS_ORIGIN_ISOLATION, 'Cross-Origin-Resource-Policy': 'cross-origin' } },
  worker: { format: 'es', plugins: () => [wgslRaw(), tokenizerHubStub(), reportWorkerSize()] },
  plugins: [
    wgslRaw(),
    tokenizerHubStub(),
    // The service worker precaches everything the build emits (demo/pwa/sw.js).
    serviceWorker({ source: here('./demo/pwa/sw.js'), publicDir: here('./public'), lazy: /wllama/ }),
    // The embed's JavaScript, worker included, must stay within 150 KB gzip (the build fails past it).
    // The WebAssembly backend's chunk (wllama) loads only for visitors without a hardware WebGPU adapter.
    // Chunks only a request the widget never makes loads (see embedBudget's `optional`) are listed beside it.
    embedBudget({ entry: 'hearth-chat.js', limitBytes: 150 * 1024, separate: /wllama-core-/, optional: /\/(repo|quantize|gguf-split|constraint|grammar|token-bytes)-[\w-]+\.js$/ }),
  ],
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      // The chat app, and the <hearth-chat> embed under a fixed name that pages can link to.
      input: { app: here('./demo/index.html'), 'hearth-chat': here('./demo/embed/hearth-chat.ts') },
      output: { entryFileNames: (chunk) => (chunk.name === 'hearth-chat' ? '[name].js' : 'assets/[name]-[hash].js') },
    },
  },
});
