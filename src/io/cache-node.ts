// The model cache in Node: a directory (default `hearth` under the user's cache directory). Written files are
// appended in place, so an interrupted download resumes from its last byte; small JSON files are replaced
// atomically (write to a temporary file, then rename).
import { mkdir, open, readFile, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidRequestError } from '../errors';
import type { ByteSource } from './byte-source';
import type { CacheStore, CacheWriter } from './cache-store';
import { FileSource } from './file-source';

/**
 * $HEARTH_CACHE_DIR, else the platform's per-user cache directory + /hearth (XDG on Linux).
 * @public read through a variable-specifier import, which knip cannot follow
 */
export function defaultCacheDir(): string {
  if (process.env.HEARTH_CACHE_DIR) return process.env.HEARTH_CACHE_DIR;
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'hearth', 'Cache');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'hearth');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hearth');
}

/**
 * The model cache as files in a directory (Node).
 * @public read through a variable-specifier import, which knip cannot follow
 */
export class DirectoryStore implements CacheStore {
  constructor(readonly name: string) {}

  private path(p: string): string {
    return join(this.name, ...p.split('/'));
  }

  async readText(p: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(p), 'utf8');
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.error(e, p);
    }
  }

  async writeText(p: string, text: string): Promise<void> {
    const path = this.path(p);
    try {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, path);
    } catch (e) {
      throw this.error(e, p);
    }
  }

  async fileSize(p: string): Promise<number | undefined> {
    try {
      const s = await stat(this.path(p));
      return s.isFile() ? s.size : undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.error(e, p);
    }
  }

  async openWriter(p: string, at: number): Promise<CacheWriter> {
    const path = this.path(p);
    try {
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(path, (await this.fileSize(p)) === undefined ? 'w' : 'r+');
      await handle.truncate(at);
      let position = at;
      return {
        write: async (bytes) => {
          let done = 0;
          while (done < bytes.length) {
            const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position);
            done += bytesWritten;
            position += bytesWritten;
          }
        },
        close: () => handle.close(),
      };
    } catch (e) {
      throw this.error(e, p);
    }
  }

  openReader(p: string, name: string): Promise<ByteSource> {
    return FileSource.open(this.path(p), name);
  }

  async remove(p: string): Promise<void> {
    await rm(this.path(p), { recursive: true, force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const root = this.path(prefix);
    const out: string[] = [];
    const walk = async (dir: string, rel: string) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isMissing(e)) return;
        throw this.error(e, rel);
      }
      for (const entry of entries) {
        const childRel = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(join(dir, entry.name), childRel);
        else if (entry.isFile() && !entry.name.endsWith('.tmp')) out.push(childRel);
      }
    };
    await walk(root, prefix.replace(/\/+$/, ''));
    return out;
  }

  async available(): Promise<number | undefined> {
    // The cache directory may not exist yet: ask about the nearest existing ancestor.
    for (let dir = this.name; ; dir = dirname(dir)) {
      try {
        const s = await statfs(dir);
        return s.bavail * s.bsize;
      } catch (e) {
        if (!isMissing(e) || dirname(dir) === dir) return undefined;
      }
    }
  }

  private error(e: unknown, p: string): Error {
    return new InvalidRequestError(`the model cache at ${this.name} cannot be used (${p}: ${(e as Error).message}); pass another cacheDir (--cache-dir) or fix its permissions`, { cause: e });
  }
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
