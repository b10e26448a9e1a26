import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

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
  server: { host: '127.0.0.1', fs: { allow: [here('.')] } },
  preview: { host: '127.0.0.1' },
  worker: { format: 'es', plugins: () => [reportWorkerSize()] },
  build: { outDir: here('./dist'), emptyOutDir: true, target: 'es2022' },
});
