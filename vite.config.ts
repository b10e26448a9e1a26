import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./demo'),
  publicDir: here('./public'),
  resolve: {
    alias: {
      'onnxruntime-web': here('./src/stubs/empty.ts'),
      'onnxruntime-node': here('./src/stubs/empty.ts'),
    },
  },
  server: { host: '127.0.0.1', fs: { allow: [here('.')] } },
  preview: { host: '127.0.0.1' },
  worker: { format: 'es' },
  build: { outDir: here('./dist'), emptyOutDir: true, target: 'es2022' },
});
