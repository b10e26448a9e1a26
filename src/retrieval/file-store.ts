// Documents in a directory, for Node: <id>.json (everything but the vectors) and <id>.f32 (the vectors' bytes),
// each written to a temporary name and renamed, so a crash never leaves half a document.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DocumentStore, StoredDocument } from './store';

/** A file name for any id: letters, digits, '-' and '_' kept, everything else as _hex. */
const fileName = (id: string) => [...id].map((c) => (/[\w-]/.test(c) ? c : `_${c.codePointAt(0)!.toString(16)}_`)).join('');

/**
 * The documents of an index kept in `dir` (created when missing).
 * @public read through a variable-specifier import, which knip cannot follow
 */
export function directoryStore(dir: string): DocumentStore {
  const path = (id: string, ext: string) => join(dir, `${fileName(id)}.${ext}`);
  const replace = async (file: string, data: string | Uint8Array) => {
    await writeFile(`${file}.tmp`, data);
    await rename(`${file}.tmp`, file);
  };
  return {
    async load() {
      await mkdir(dir, { recursive: true });
      const docs: StoredDocument[] = [];
      for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json'))) {
        const meta = JSON.parse(await readFile(join(dir, name), 'utf8')) as Omit<StoredDocument, 'vectors'>;
        const bytes = await readFile(path(meta.id, 'f32'));
        docs.push({ ...meta, vectors: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) });
      }
      return docs;
    },
    async put(doc) {
      await mkdir(dir, { recursive: true });
      const { vectors, ...meta } = doc;
      // Vectors first: a .json is only ever there with its .f32.
      await replace(path(doc.id, 'f32'), new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
      await replace(path(doc.id, 'json'), JSON.stringify(meta));
    },
    async delete(id) {
      await rm(path(id, 'json'), { force: true });
      await rm(path(id, 'f32'), { force: true });
    },
  };
}
