// Builds the library that `import … from 'hearth'` resolves to (package.json "exports"):
//   dist/lib/browser/  ES module for bundlers and browsers: dependencies bundled, the engine's Web Worker as its
//                      own chunk started from `new URL(…, import.meta.url)` (bundlers re-bundle it), onnxruntime stubbed;
//   dist/lib/node/     ES module for Node: dependencies left to node_modules, WGSL inlined, the Node-only file
//                      reader imported directly (the sources hide it from browser bundles behind a variable);
//   dist/lib/types/    declarations (tsc).
// Run by `npm run build` after the demo build (which empties dist/).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const pkg = JSON.parse(readFileSync(here('package.json'), 'utf8'));
const stubs = { 'onnxruntime-web': here('src/stubs/empty.ts'), 'onnxruntime-node': here('src/stubs/empty.ts') };
const quiet = process.argv.includes('--quiet') ? 'silent' : 'warn';

/** `const m = './file-source'; await import(/* @vite-ignore *\/ m)` → `await import('./file-source')`, for Node. */
function directNodeImports() {
  return {
    name: 'hearth:direct-node-imports',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('/src/') || !code.includes('@vite-ignore')) return null;
      const consts = new Map([...code.matchAll(/const (\w+) = '(\.{1,2}\/[^']+)';/g)].map((m) => [m[1], m[2]]));
      const out = code.replace(/import\(\/\* @vite-ignore \*\/ (\w+)\)/g, (all, name) => (consts.has(name) ? `import(${JSON.stringify(consts.get(name))})` : all));
      return out === code ? null : { code: out, map: null };
    },
  };
}

rmSync(here('dist/lib'), { recursive: true, force: true });

await build({
  configFile: false,
  root,
  publicDir: false,
  logLevel: quiet,
  // Relative asset URLs: the worker is found next to the module that starts it, wherever that is served from.
  base: './',
  resolve: { alias: stubs },
  // One self-contained worker file, so a bundler that copies it as an asset copies everything it needs.
  worker: { format: 'es', rollupOptions: { output: { codeSplitting: false } } },
  build: {
    outDir: here('dist/lib/browser'),
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    lib: { entry: here('src/index.ts'), formats: ['es'], fileName: 'index' },
    // The entry exports the public API only; code shared with lazily loaded chunks goes into chunks of its own.
    rollupOptions: { preserveEntrySignatures: 'strict' },
  },
});

await build({
  configFile: false,
  root,
  publicDir: false,
  logLevel: quiet,
  plugins: [directNodeImports()],
  build: {
    outDir: here('dist/lib/node'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    ssr: here('src/index.ts'),
    rollupOptions: {
      preserveEntrySignatures: 'strict',
      external: [...Object.keys(pkg.dependencies ?? {}), 'webgpu', /^node:/],
      output: { entryFileNames: 'index.js', format: 'es' },
    },
  },
  ssr: { external: Object.keys(pkg.dependencies ?? {}) },
});

execFileSync(process.execPath, [here('node_modules/typescript/bin/tsc'), '-p', here('tsconfig.lib.json')], { stdio: 'inherit' });
