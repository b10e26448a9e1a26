// The model cache in browsers: the origin-private file system (OPFS), chosen over Cache Storage because
//  - a download resumes in place: a file can be reopened and appended to at its current length, and in the
//    engine's worker a sync access handle writes straight into the file, so a dropped connection (or a closed
//    tab) keeps every byte that arrived; a Cache Storage entry is one whole Response, put only once complete;
//  - reads are random access without loading the file: File.slice() of a multi-gigabyte model reads just the
//    tensor asked for, where a cached Response's body is a stream from the start;
//  - it is quota-managed storage like Cache Storage (navigator.storage.estimate()/persist() cover it).
import { DownloadError, ResourceError } from '../errors';
import { checkRange, type ByteSource } from './byte-source';
import type { CacheStore, CacheWriter } from './cache-store';

interface SyncAccessHandle {
  write(bytes: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}
type SyncFileHandle = FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncAccessHandle> };
type WritableFileHandle = FileSystemFileHandle & {
  createWritable?: (options?: { keepExistingData?: boolean }) => Promise<FileSystemWritableFileStream>;
};
type IterableDirectory = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };

export function opfsAvailable(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

export class OpfsStore implements CacheStore {
  readonly name = 'browser storage (origin-private file system)';
  private root?: Promise<FileSystemDirectoryHandle>;

  private async dir(segments: string[], create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
    let dir = await (this.root ??= navigator.storage.getDirectory());
    for (const s of segments) {
      try {
        dir = await dir.getDirectoryHandle(s, { create });
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw storageError(e, segments.join('/'));
      }
    }
    return dir;
  }

  private async file(path: string, create: boolean): Promise<FileSystemFileHandle | undefined> {
    const segments = path.split('/');
    const dir = await this.dir(segments.slice(0, -1), create);
    if (!dir) return undefined;
    try {
      return await dir.getFileHandle(segments.at(-1)!, { create });
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw storageError(e, path);
    }
  }

  async readText(path: string): Promise<string | undefined> {
    const handle = await this.file(path, false);
    return handle ? (await handle.getFile()).text() : undefined;
  }

  async writeText(path: string, text: string): Promise<void> {
    const handle = (await this.file(path, true))!;
    const bytes = new TextEncoder().encode(text);
    if (typeof (handle as WritableFileHandle).createWritable === 'function') {
      // A writable stream replaces the file atomically when it closes.
      try {
        const writable = await (handle as WritableFileHandle).createWritable!();
        await writable.write(bytes);
        await writable.close();
      } catch (e) {
        throw storageError(e, path);
      }
      return;
    }
    const sync = await this.syncHandle(handle, path);
    try {
      sync.truncate(0);
      sync.write(bytes, { at: 0 });
      sync.flush();
    } catch (e) {
      throw storageError(e, path);
    } finally {
      sync.close();
    }
  }

  async fileSize(path: string): Promise<number | undefined> {
    const handle = await this.file(path, false);
    return handle ? (await handle.getFile()).size : undefined;
  }

  async openWriter(path: string, at: number): Promise<CacheWriter> {
    const handle = (await this.file(path, true))!;
    if (typeof (handle as SyncFileHandle).createSyncAccessHandle === 'function') {
      // Worker: writes go straight into the file, so whatever arrived survives a crash or a closed tab.
      const sync = await this.syncHandle(handle, path);
      try {
        sync.truncate(at);
      } catch (e) {
        sync.close();
        throw storageError(e, path);
      }
      let position = at;
      return {
        write: async (bytes) => {
          try {
            position += sync.write(bytes, { at: position });
          } catch (e) {
            throw storageError(e, path);
          }
        },
        close: async () => { sync.flush(); sync.close(); },
      };
    }
    // Page thread: a writable stream over a copy of the file, committed on close (also after a failure).
    let writable: FileSystemWritableFileStream;
    try {
      writable = await (handle as WritableFileHandle).createWritable!({ keepExistingData: true });
      await writable.truncate(at);
      await writable.seek(at);
    } catch (e) {
      throw storageError(e, path);
    }
    return {
      write: async (bytes) => {
        try {
          await writable.write(bytes as Uint8Array<ArrayBuffer>);
        } catch (e) {
          throw storageError(e, path);
        }
      },
      close: () => writable.close().catch((e: unknown) => { throw storageError(e, path); }),
    };
  }

  async openReader(path: string, name: string): Promise<ByteSource> {
    const handle = await this.file(path, false);
    if (!handle) throw new DownloadError(`${name} is no longer in the browser's model cache; load it again to download it`);
    const file = await handle.getFile();
    const source: ByteSource = {
      name,
      size: file.size,
      read: async (offset, length) => {
        checkRange(source, offset, length);
        return new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
      },
    };
    return source;
  }

  async remove(path: string): Promise<void> {
    const segments = path.split('/').filter(Boolean);
    if (segments.length === 0) {
      const root = (await this.dir([], false))! as IterableDirectory;
      for await (const [name] of root.entries()) await root.removeEntry(name, { recursive: true });
      return;
    }
    const parent = await this.dir(segments.slice(0, -1), false);
    try {
      await parent?.removeEntry(segments.at(-1)!, { recursive: true });
    } catch (e) {
      if (!isMissing(e)) throw storageError(e, path);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const segments = prefix.split('/').filter(Boolean);
    const start = await this.dir(segments, false);
    const out: string[] = [];
    const walk = async (dir: FileSystemDirectoryHandle, rel: string) => {
      for await (const [name, entry] of (dir as IterableDirectory).entries()) {
        const child = rel ? `${rel}/${name}` : name;
        if (entry.kind === 'directory') await walk(entry as FileSystemDirectoryHandle, child);
        else out.push(child);
      }
    };
    if (start) await walk(start, segments.join('/'));
    return out;
  }

  async available(): Promise<number | undefined> {
    const estimate = await navigator.storage.estimate?.();
    if (estimate?.quota === undefined) return undefined;
    return Math.max(0, estimate.quota - (estimate.usage ?? 0));
  }

  async persist(): Promise<boolean> {
    // persist() exists on the page only (not in workers); createEngine asks from the page.
    const storage = navigator.storage as StorageManager & { persist?: () => Promise<boolean> };
    if (await storage.persisted?.()) return true;
    return typeof storage.persist === 'function' ? storage.persist().catch(() => false) : false;
  }

  private async syncHandle(handle: FileSystemFileHandle, path: string): Promise<SyncAccessHandle> {
    try {
      return await (handle as SyncFileHandle).createSyncAccessHandle!();
    } catch (e) {
      throw storageError(e, path);
    }
  }
}

function isMissing(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return name === 'NotFoundError' || name === 'TypeMismatchError';
}

function storageError(e: unknown, path: string): Error {
  const name = (e as { name?: string })?.name;
  if (name === 'QuotaExceededError') {
    return new ResourceError(`the browser's storage for this site is full (writing ${path}); free space with the model cache's clear() or delete(), or allow the site more storage`, { cause: e });
  }
  if (name === 'NoModificationAllowedError') {
    return new ResourceError(`${path} is being written by another tab or worker; wait for that download to finish`, { cause: e });
  }
  return new ResourceError(`the browser's model cache failed (${path}: ${(e as Error)?.message ?? String(e)})`, { cause: e });
}
