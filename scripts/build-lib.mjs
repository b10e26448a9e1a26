// Builds the library that `import … from 'hearth'` resolves to (package.json "exports"):
//   dist/lib/browser/  ES module for bundlers and browsers: dependencies bundled, the engine's Web Worker as its
//                      own chunk started from `new URL(…, import.meta.url)` (bundlers re-bundle it), onnxruntime stubbed;
//   dist/lib/node/     ES modules for Node (index.js, and cli.js behind `npx hearth`): dependencies bundled as in the
//                      browser build, `webgpu` left to the user, WGSL inlined, the Node-only file
//                      reader imported directly (the sources hide it from browser bundles behind a variable);
//   dist/lib/types/    declarations (tsc).
// Run by `npm run build` after the demo build (which empties dist/).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { wgslRaw } from './wgsl-raw.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const stubs = [
  { find: 'onnxruntime-web', replacement: here('src/stubs/empty.ts') },
  { find: 'onnxruntime-node', replacement: here('src/stubs/empty.ts') },
  // The WebAssembly backend (wllama and llama.cpp's 10 MB binary) stays out of the one-file library worker.
  { find: /^\.\/wllama-core$/, replacement: here('src/stubs/wllama-core.ts') },
];
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

/** Rewrites `from './x'` in every .d.ts below `dir` to './x.js' or './x/index.js', whichever exists. */
function addDeclarationExtensions(dir) {
  for (const name of readdirSync(dir, { recursive: true })) {
    const file = join(dir, name);
    if (!file.endsWith('.d.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const out = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*)\2/g, (all, lead, quote, spec) => {
      if (/\.(js|mjs|cjs|json)$/.test(spec)) return all;
      const base = join(dirname(file), spec);
      const resolved = existsSync(`${base}.d.ts`) ? `${spec}.js` : existsSync(join(base, 'index.d.ts')) ? `${spec}/index.js` : null;
      if (!resolved) throw new Error(`${relative(root, file)}: cannot resolve declaration import '${spec}'`);
      return `${lead}${quote}${resolved}${quote}`;
    });
    if (out !== text) writeFileSync(file, out);
  }
}

/** The licences of the packages bundled into dist/lib, which their licences ask to travel with their code. */
function writeThirdPartyNotices(file, names) {
  const sections = names.map((name) => {
    const dir = here(`node_modules/${name}`);
    const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const text = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f) && statSync(join(dir, f)).isFile());
    return `## ${name} ${version} (${license})\n\n${text ? readFileSync(join(dir, text), 'utf8').trim() : `Licensed under ${license}.`}\n`;
  });
  writeFileSync(file, `# Third-party code bundled into Hearth's dist/lib\n\n${sections.join('\n')}`);
}

rmSync(here('dist/lib'), { recursive: true, force: true });

await build({
  configFile: false,
  root,
  publicDir: false,
  logLevel: quiet,
  // Relative asset URLs: the worker is found next to the module that starts it, wherever that is served from.
  base: './',
  plugins: [wgslRaw()],
  resolve: { alias: stubs },
  // One self-contained worker file, so a bundler that copies it as an asset copies everything it needs.
  worker: { format: 'es', plugins: () => [wgslRaw()], rollupOptions: { output: { codeSplitting: false } } },
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
  plugins: [directNodeImports(), wgslRaw()],
  resolve: { alias: stubs },
  build: {
    outDir: here('dist/lib/node'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    ssr: true,
    rollupOptions: {
      input: { index: here('src/index.ts'), cli: here('src/cli.ts') },
      preserveEntrySignatures: 'strict',
      // Dawn is the user's to install (an optional peer); everything else Hearth runs is in these files.
      external: ['webgpu', /^node:/, 'fs', 'path', 'url'],
      output: { entryFileNames: '[name].js', format: 'es' },
    },
  },
  // Bundled like the browser build: a consumer installs no tokenizer, template or RPC package (and so no
  // onnxruntime or sharp, which @xenova/transformers would pull in for models Hearth never runs).
  ssr: { noExternal: true, external: ['webgpu'] },
});

// Declarations: relative specifiers get their file extension, so they resolve under `nodenext` and `node16`
// as well as `bundler`.
execFileSync(process.execPath, [here('node_modules/typescript/bin/tsc'), '-p', here('tsconfig.lib.json')], { stdio: 'inherit' });
addDeclarationExtensions(here('dist/lib/types'));
writeThirdPartyNotices(here('dist/lib/THIRD_PARTY_NOTICES.md'), ['@xenova/transformers', '@huggingface/jinja', 'comlink']);
