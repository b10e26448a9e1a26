// Progress events for everything between "user picked a model" and "ready to generate".
import type { ByteSource } from './byte-source';

export interface LoadProgress {
  /** File name or URL the event is about. */
  file: string;
  /** Units done so far (bytes for download and upload). */
  loaded: number;
  /** Units in all (0 if unknown). */
  total: number;
  /** Bytes per second over the phase so far (0 if not meaningful). */
  rate: number;
  phase: 'download' | 'upload' | 'compile' | 'ready';
}

export type ProgressCallback = (p: LoadProgress) => void;

/** Tracks rate and throttles events so a callback is not flooded with one call per chunk. */
export class ProgressReporter {
  private readonly start = performance.now();
  private lastEmit = -Infinity;
  constructor(
    private readonly onProgress: ProgressCallback | undefined,
    private readonly file: string,
    private readonly total: number,
    private readonly phase: LoadProgress['phase'],
    private readonly minIntervalMs = 50,
  ) {}

  /** Reports `loaded`; always emits the final (loaded === total) event. */
  report(loaded: number): void {
    if (!this.onProgress) return;
    const now = performance.now();
    const done = this.total > 0 && loaded >= this.total;
    if (!done && now - this.lastEmit < this.minIntervalMs) return;
    this.lastEmit = now;
    const seconds = (now - this.start) / 1000;
    this.onProgress({ file: this.file, loaded, total: this.total, rate: seconds > 0 ? loaded / seconds : 0, phase: this.phase });
  }
}

/** Reads a whole source in chunks (bounded memory per read), reporting 'download' progress. */
export async function readAll(source: ByteSource, onProgress?: ProgressCallback, chunkSize = 4 * 1024 * 1024): Promise<Uint8Array> {
  const out = new Uint8Array(source.size);
  const reporter = new ProgressReporter(onProgress, source.name, source.size, 'download');
  reporter.report(0);
  for (let offset = 0; offset < source.size; offset += chunkSize) {
    const length = Math.min(chunkSize, source.size - offset);
    out.set(await source.read(offset, length), offset);
    reporter.report(offset + length);
  }
  return out;
}
