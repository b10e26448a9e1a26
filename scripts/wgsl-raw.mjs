// `import code from './x.wgsl?raw'` in builds (the app, the embed, the library): the shader's text without
// comments, indentation, blank lines and the spaces no token needs, so pages download the kernels in about half
// the bytes. WGSL has no string literals, so this is the same program. Node (scripts/raw-loader.mjs) and the dev
// server read the files as they are, and compile errors quote the offending line either way.
import { readFile } from 'node:fs/promises';

/** Two-character WGSL tokens: a space between their characters must stay (`a - -b` is not `a--b`). */
const PAIRS = new Set(['&&', '||', '==', '!=', '<=', '>=', '<<', '>>', '->', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '//', '/*', '*/']);
const WORD = /[A-Za-z0-9_]/;

/** A run of spaces at `at` in `line`: one space between two words or a two-character token's halves, else none. */
function spaces(run, at, line) {
  const [left, right] = [line[at - 1], line[at + run.length]];
  if (left === undefined || right === undefined) return '';
  return (WORD.test(left) && WORD.test(right)) || PAIRS.has(left + right) ? ' ' : '';
}

/** @param {string} code */
export function compactWgsl(code) {
  return code
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, '').replace(/\s+/g, ' ').trim().replace(/ +/g, spaces))
    .filter((line) => line !== '')
    .join('\n');
}

/** @returns {import('vite').Plugin} */
export function wgslRaw() {
  return {
    name: 'hearth:wgsl-raw',
    apply: 'build',
    enforce: 'pre',
    async load(id) {
      const [file, query] = id.split('?');
      if (!file.endsWith('.wgsl') || query !== 'raw') return null;
      return `export default ${JSON.stringify(compactWgsl(await readFile(file, 'utf8')))};`;
    },
  };
}
