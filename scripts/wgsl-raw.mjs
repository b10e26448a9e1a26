// `import code from './x.wgsl?raw'` in builds (the app, the embed, the library): the shader's text without
// comments, indentation and blank lines, so pages download the kernels in about half the bytes. WGSL has no
// string literals, so this is the same program. Node (scripts/raw-loader.mjs) and the dev server read the files
// as they are, and compile errors quote the offending line either way.
import { readFile } from 'node:fs/promises';

/** @param {string} code */
export function compactWgsl(code) {
  return code
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, '').trim())
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
