// Where the model cache keeps its bytes: a directory in Node (./cache-node.ts), the origin-private file system
// in browsers (./cache-opfs.ts). Paths are '/'-separated, relative to the store's root, made of safe segments.
import type { ByteSource } from './byte-source';

export interface CacheWriter {
  /** Appends `bytes` (written in place: a dropped download keeps what arrived). */
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface CacheStore {
  /** The directory, or 'browser storage', for messages. */
  readonly name: string;
  readText(path: string): Promise<string | undefined>;
  /** Replaces the file's text as one step (a reader sees the old or the new text, never half of it). */
  writeText(path: string, text: string): Promise<void>;
  /** The file's size, or undefined when it does not exist. */
  fileSize(path: string): Promise<number | undefined>;
  /** Opens `path` for appending at byte `at` (created when missing; anything after `at` is cut off). */
  openWriter(path: string, at: number): Promise<CacheWriter>;
  /** Random access to a complete file; `name` names it in messages and progress events. */
  openReader(path: string, name: string): Promise<ByteSource>;
  /** Removes a file or a folder with everything in it; nothing happens when it does not exist. */
  remove(path: string): Promise<void>;
  /** Paths of every file under `prefix` (a folder path, '' for all). */
  list(prefix: string): Promise<string[]>;
  /** Bytes that may still be stored (free disk space, or the origin's quota minus its usage); undefined when unknown. */
  available(): Promise<number | undefined>;
  /** Asks the browser not to evict this origin's storage under pressure; true when granted. */
  persist?(): Promise<boolean>;
}

/** A path segment from arbitrary text: keeps letters, digits and `._-`, replaces the rest, never '.' or '..'. */
export function safeSegment(text: string): string {
  const s = text.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' || s === '.' || s === '..' ? `_${s}` : s;
}
