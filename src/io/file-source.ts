// Local files as a ByteSource (Node only): random access through a FileHandle, nothing read up front.
import { open, type FileHandle } from 'node:fs/promises';
import { FormatError, InvalidRequestError } from '../errors';
import { checkRange, type ByteSource } from './byte-source';

export class FileSource implements ByteSource {
  private constructor(private readonly handle: FileHandle, readonly name: string, readonly size: number) {}

  static async open(path: string): Promise<FileSource> {
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
    return new FileSource(handle, path, stat.size);
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
