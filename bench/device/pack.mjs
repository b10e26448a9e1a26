// Packs what the device script needs besides the working tree into one archive, .bench-device/bundle.tar.xz
// (gitignored, ≤ 64 MiB: a GPU machine takes the tree plus that much of built files and has no network):
//   device-bench.mjs, llama-cpp-child.mjs  the bench bundled by esbuild (Hearth's source, WGSL inlined)
//   node_modules/webgpu                     index.js and the linux-x64 dawn.node
//   node_modules/node-llama-cpp (+ deps)    its runtime JS and every package it imports, without the llama.cpp sources
//   node_modules/@node-llama-cpp/linux-x64-vulkan  the prebuilt Vulkan binaries
//   lib/libvulkan.so.1                      this machine's Vulkan loader (see run.sh)
// node-llama-cpp's CUDA build does not fit (libggml-cuda.so alone is 159 MB, and it needs cuBLAS); the device
// script reports that peer as skipped. Run from the repository root: node bench/device/pack.mjs [--out path] [--level 0-9]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, '.bench-device', 'bundle.tar.xz') }, level: { type: 'string', default: '9' } } });
const LIMIT = 64 * 2 ** 20;
const stage = join(root, '.bench-device', 'stage');
const modules = join(root, 'node_modules');
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'node_modules'), { recursive: true });

// `import code from './x.wgsl?raw'`, as Vite and scripts/raw-loader.mjs read it.
const rawText = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.slice(0, -4)), namespace: 'raw' }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
  },
};
// `const m = './file-source'; await import(/* @vite-ignore */ m)` → `await import('./file-source')`, as the
// library's Node build does (scripts/build-lib.mjs): relative modules hidden from browser bundles go into this one.
const directNodeImports = {
  name: 'direct-node-imports',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const code = readFileSync(args.path, 'utf8');
      if (!code.includes('@vite-ignore')) return undefined;
      const consts = new Map([...code.matchAll(/const (\w+) = '(\.{1,2}\/[^']+)';/g)].map((m) => [m[1], m[2]]));
      return { contents: code.replace(/import\(\/\* @vite-ignore \*\/ (\w+)\)/g, (all, name) => (consts.has(name) ? `import(${JSON.stringify(consts.get(name))})` : all)), loader: 'ts' };
    });
  },
};
const built = await build({
  metafile: true, absWorkingDir: root,
  entryPoints: { 'device-bench': join(root, 'bench/device/device-bench.ts'), 'llama-cpp-child': join(root, 'bench/llama-cpp-child.ts') },
  outdir: stage, outExtension: { '.js': '.mjs' }, bundle: true, platform: 'node', format: 'esm', target: 'node20',
  external: ['webgpu', 'node-llama-cpp', '@node-llama-cpp/*'], plugins: [rawText, directNodeImports], logLevel: 'warning',
  // As the library build does (scripts/build-lib.mjs): the tokenizer module imports onnxruntime but never runs it.
  alias: { 'onnxruntime-web': join(root, 'src/stubs/empty.ts'), 'onnxruntime-node': join(root, 'src/stubs/empty.ts') },
  banner: { js: "import { createRequire as __hearthRequire } from 'node:module'; const require = __hearthRequire(import.meta.url);" },
});

const copy = (from, filter = () => true) => cpSync(join(modules, from), join(stage, 'node_modules', from), { recursive: true, filter: (src) => filter(relative(join(modules, from), src)) });

// webgpu: the loader and the one binary this machine kind needs.
for (const f of ['package.json', 'index.js', 'dist/linux-x64/dawn.node']) copy(join('webgpu', f));

// node-llama-cpp and the transitive closure of its dependencies, as npm laid them out.
const seen = new Set();
function packageDir(name, from) {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'node_modules', name);
    if (existsSync(join(p, 'package.json'))) return p;
    if (dirname(d) === d) return null;
  }
}
function closure(dir) {
  if (seen.has(dir)) return;
  seen.add(dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const d = packageDir(dep, dir);
    if (!d) throw new Error(`pack: ${dep} (a dependency of ${pkg.name}) is not installed`);
    closure(d);
  }
}
closure(join(modules, 'node-llama-cpp'));
const unneeded = /(\.map|\.d\.ts|\.md)$|^llama\/(gitRelease\.bundle|llama\.cpp)/;
for (const dir of seen) copy(relative(modules, dir), (rel) => !unneeded.test(rel));
copy('@node-llama-cpp/linux-x64-vulkan');

// The tree's files the bundle was built from, by hash: the device script tells whether the tree it runs beside is the same.
const sources = Object.keys(built.metafile.inputs).map((k) => relative(root, resolve(root, k.replace(/^[a-z]+:/, '')))).filter((f) => !f.startsWith('node_modules/')).sort();
// The Vulkan loader (Khronos libvulkan.so.1, 0.5 MB), for a machine whose image has the NVIDIA driver's Vulkan
// ICD but not the loader: run.sh puts it on the library path only where the system has none.
const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/lib/x86_64-linux-gnu/libvulkan.so.1'].find(existsSync);
if (loader) {
  mkdirSync(join(stage, 'lib'));
  cpSync(realpathSync(loader), join(stage, 'lib', 'libvulkan.so.1'));
}
const manifest = {
  vulkanLoader: loader ? basename(realpathSync(loader)) : null,
  builtAt: new Date().toISOString(), node: process.version,
  sources: Object.fromEntries(sources.map((f) => [f, createHash('sha256').update(readFileSync(join(root, f))).digest('hex').slice(0, 16)])),
  versions: Object.fromEntries(['webgpu', 'node-llama-cpp', '@node-llama-cpp/linux-x64-vulkan'].map((p) => [p, JSON.parse(readFileSync(join(modules, p, 'package.json'), 'utf8')).version])),
  gitHead: (() => { try { return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(); } catch { return null; } })(),
};
writeFileSync(join(stage, 'manifest.json'), JSON.stringify(manifest, null, 2));

mkdirSync(dirname(values.out), { recursive: true });
execFileSync('tar', ['-C', stage, '-cf', values.out, '--use-compress-program', `xz -T0 -${values.level}`, '.'], { stdio: 'inherit' });
rmSync(stage, { recursive: true, force: true });
const size = statSync(values.out).size;
console.log(`${relative(root, values.out)}: ${(size / 2 ** 20).toFixed(1)} MiB (limit 64 MiB)`);
if (size > LIMIT) {
  console.error('pack: the bundle is over the 64 MiB a device run may carry');
  process.exit(1);
}
