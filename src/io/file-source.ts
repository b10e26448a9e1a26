// Local files as a ByteSource (Node only): random access through a FileHandle, nothing read up front.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError, InvalidRequestError } from '../errors';
import { checkRange, type ByteSource } from './byte-source';
import type { FileSet } from './model-location';

export class FileSource implements ByteSource {
  private constructor(private readonly handle: FileHandle, readonly name: string, readonly size: number) {}

  /** `name` names the file in messages and progress events (default: the path). */
  static async open(path: string, name = path): Promise<FileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new InvalidRequestError(`model file '${path}' does not exist; check the path`, { cause: e });
      if (code === 'EACCES' || code === 'EPERM') throw new InvalidRequestError(`model file '${path}' cannot be read (permission denied)`, { cause: e });
      if (code === 'EISDIR') throw new InvalidRequestError(`'${path}' is a directory, not a model file`, { cause: e });
      throw new InvalidRequestError(`cannot open model file '${path}': ${(e as Error).message}`, { cause: e });
    }
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      throw new InvalidRequestError(`'${path}' is not a regular file`);
    }
    return new FileSource(handle, name, stat.size);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new FormatError(`${this.name}: the file shrank while being read (expected ${this.size} bytes)`);
      done += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export function openFileSource(path: string): Promise<FileSource> {
  return FileSource.open(path);
}

/**
 * True when `path` is a directory (false when it is anything else or does not exist).
 * @public read through a variable-specifier import, which knip cannot follow
 */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The files of a local directory (a Hugging Face repo checkout) by relative name.
 * @public read through a variable-specifier import, which knip cannot follow
 */
export function directoryFileSet(dir: string): FileSet {
  return {
    name: dir,
    async open(file) {
      const path = join(dir, file);
      try {
        if (!(await stat(path)).isFile()) return undefined;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
        throw new InvalidRequestError(`cannot read '${path}': ${(e as Error).message}`, { cause: e });
      }
      return FileSource.open(path);
    },
  };
}
