// Build steps of the static dist/: the service worker's precache list, and the embed's size budget.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

type Bundle = Parameters<NonNullable<Extract<Plugin['generateBundle'], (...args: never[]) => unknown>>>[1];

const bytesOf = (item: Bundle[string]) => (item.type === 'chunk' ? item.code : item.source);
const gzipSize = (data: string | Uint8Array) => gzipSync(data).length;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

function publicFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join(posix.sep));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Emits sw.js: `VERSION` (a hash of every emitted file and public file), `SHELL` (the files the app needs,
 * relative to sw.js) and `MODELS` (the bundled .gguf files) followed by the hand-written worker `source`.
 */
export function serviceWorker(options: { source: string; publicDir: string; lazy?: RegExp }): Plugin {
  return {
    name: 'hearth:service-worker',
    apply: 'build',
    enforce: 'post',
    generateBundle(_output, bundle) {
      const files = publicFiles(options.publicDir);
      const models = files.filter((f) => f.endsWith('.gguf'));
      const emitted = Object.keys(bundle).filter((f) => !f.endsWith('.map'));
      // `lazy` files (the WebAssembly backend: its chunk and llama.cpp's 10 MB binary) are cached when first
      // fetched, not at install: WebGPU visitors never download them.
      const lazy = emitted.filter((f) => options.lazy?.test(f)).sort();
      const shell = [...emitted.filter((f) => !lazy.includes(f)), ...files.filter((f) => !f.endsWith('.gguf'))].sort();
      const source = readFileSync(options.source, 'utf8');
      const hash = createHash('sha256').update(source);
      for (const f of emitted) hash.update(f).update(bytesOf(bundle[f]!));
      for (const f of files) hash.update(f).update(readFileSync(join(options.publicDir, f)));
      const version = hash.digest('hex').slice(0, 16);
      const header = `const VERSION = ${JSON.stringify(version)};\nconst SHELL = ${JSON.stringify(shell)};\nconst MODELS = ${JSON.stringify(models)};\nconst LAZY = ${JSON.stringify(lazy)};\n`;
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: header + source });
      console.log(`service worker sw.js: version ${version}, ${shell.length} app files, models ${models.join(', ') || 'none'}`);
    },
  };
}

/**
 * Adds up the gzip size of what a page that embeds `entry` loads: the entry, its static imports, and the
 * worker scripts they start (with the worker's own imports). Lazy chunks the embed never loads (the engine
 * core for `worker: false`) are listed but not counted. Fails the build past `limitBytes`.
 * `separate`: files of a backend the embed loads only where it is taken (llama.cpp WebAssembly, for visitors
 * without a hardware WebGPU adapter): reported beside the budget, not in it, so the WebGPU path keeps its 150 KB.
 * `optional`: the worker's lazy chunks of features a chat never takes (a Hugging Face safetensors repo, load-time
 * quantization, split GGUFs, JSON mode and tool grammars, logprobs), listed beside the budget the same way.
 */
export function embedBudget(options: { entry: string; limitBytes: number; separate?: RegExp; optional?: RegExp }): Plugin {
  return {
    name: 'hearth:embed-budget',
    apply: 'build',
    enforce: 'post',
    generateBundle(_output, bundle) {
      const entry = bundle[options.entry];
      if (!entry || entry.type !== 'chunk') return; // a build without the embed (e.g. a test page)
      const loaded = new Set<string>();
      const lazy = new Set<string>();
      const scriptFiles = Object.keys(bundle).filter((f) => f.endsWith('.js'));
      const separate = new Set<string>();
      const visit = (fileName: string) => {
        if (loaded.has(fileName)) return;
        if (options.separate?.test(fileName)) { separate.add(fileName); return; }
        if (options.optional?.test(fileName)) { lazy.add(fileName); return; }
        const item = bundle[fileName];
        if (!item) return;
        loaded.add(fileName);
        if (item.type === 'chunk') {
          item.imports.forEach(visit);
          for (const d of item.dynamicImports) lazy.add(d);
        }
        // Worker scripts (emitted as assets) and a worker's own chunks are referenced by file name.
        const code = typeof bytesOf(item) === 'string' ? (bytesOf(item) as string) : Buffer.from(bytesOf(item) as Uint8Array).toString('utf8');
        for (const other of scriptFiles) {
          if (other !== fileName && bundle[other]!.type === 'asset' && code.includes(posix.basename(other))) visit(other);
        }
      };
      visit(options.entry);
      let total = 0;
      const parts: string[] = [];
      for (const f of loaded) {
        const size = gzipSize(bytesOf(bundle[f]!));
        total += size;
        parts.push(`${f} ${kb(size)}`);
      }
      const notLoaded = [...lazy].filter((f) => !loaded.has(f)).map((f) => `${f} ${kb(gzipSize(bytesOf(bundle[f]!)))}`);
      console.log(`embed ${options.entry}: ${kb(total)} gzip of ${kb(options.limitBytes)} budget (${parts.join(', ')})` +
        (notLoaded.length ? `; not loaded by the embed: ${notLoaded.join(', ')}` : '') +
        (separate.size ? `; only where the WebAssembly backend is taken: ${[...separate].map((f) => `${f} ${kb(gzipSize(bytesOf(bundle[f]!)))}`).join(', ')}` : ''));
      if (total > options.limitBytes) {
        this.error(`the embed loads ${kb(total)} of JavaScript gzip, over its ${kb(options.limitBytes)} budget: ${parts.join(', ')}`);
      }
    },
  };
}

