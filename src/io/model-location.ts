// What a model source turned out to be, and the files of a multi-file model as a set addressed by relative name:
// the types the locators (./file-set.ts, ./hub.ts, ./file-source.ts) share.
import type { ByteSource } from './byte-source';
import type { ModelFetchOptions } from './fetch-options';
import type { ProgressCallback } from './progress';

export interface FileSetOptions { onProgress?: ProgressCallback; signal?: AbortSignal }

export interface LocateOptions extends FileSetOptions, ModelFetchOptions {
  /** Read only what a header needs (pre-flight check, inspect): nothing is downloaded into the cache. */
  headerOnly?: boolean;
}

export interface FileSet {
  /** The directory or base URL, for messages. */
  readonly name: string;
  /** The file's bytes, or undefined when the set has no such file (404, ENOENT). */
  open(file: string): Promise<ByteSource | undefined>;
}

/** What a model source turned out to be; `parts`: every part of a split GGUF in order (`source` is the first). */
export type ModelLocation = { kind: 'gguf'; source: ByteSource; parts?: ByteSource[] } | { kind: 'repo'; files: FileSet };
