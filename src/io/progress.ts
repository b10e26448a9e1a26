// Progress events for everything between "user picked a model" and "ready to generate".
import type { ByteSource } from './byte-source';

export interface LoadProgress {
  /** File name or URL the event is about. */
  file: string;
  /** Units done so far (bytes for download and upload). */
  loaded: number;
  /** Units in all (0 if unknown). */
  total: number;
  /** Bytes per second over the phase so far (0 if not meaningful; a resumed download counts only the new bytes). */
  rate: number;
  /**
   * download: bytes arriving from the network (into the cache, or straight to the GPU by Range requests);
   * cache-read: weights read from the local model cache; upload: weights written to the GPU from memory or a
   * local file; compile: building the GPU pipelines; ready: done.
   */
  phase: 'download' | 'cache-read' | 'upload' | 'compile' | 'ready';
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

  /**
   * Reports `loaded`; always emits the first and the final (loaded === total) event. `base`: bytes that were
   * already there when the phase started (a resumed download), left out of the rate.
   */
  report(loaded: number, base = 0): void {
    if (!this.onProgress) return;
    const now = performance.now();
    const done = this.total > 0 && loaded >= this.total;
    if (!done && now - this.lastEmit < this.minIntervalMs) return;
    this.lastEmit = now;
    const seconds = (now - this.start) / 1000;
    this.onProgress({ file: this.file, loaded, total: this.total, rate: seconds > 0 ? Math.max(0, loaded - base) / seconds : 0, phase: this.phase });
  }
}

/** Union of byte ranges [start, end), kept merged and sorted. */
export class Coverage {
  private spans: [number, number][] = [];
  bytes = 0;

  /** How many bytes of [start, end) are not covered yet. */
  uncovered(start: number, end: number): number {
    let overlap = 0;
    for (const [a, b] of this.spans) overlap += Math.max(0, Math.min(b, end) - Math.max(a, start));
    return end - start - overlap;
  }

  add(start: number, end: number): void {
    // Reads mostly extend the last span: merge in place before falling back to a sort.
    const last = this.spans[this.spans.length - 1];
    if (last && start >= last[0] && start <= last[1]) {
      const grown = Math.max(last[1], end);
      this.bytes += grown - last[1];
      last[1] = grown;
      return;
    }
    const merged: [number, number][] = [];
    for (const span of [...this.spans, [start, end] as [number, number]].sort((x, y) => x[0] - y[0])) {
      const prev = merged[merged.length - 1];
      if (prev && span[0] <= prev[1]) prev[1] = Math.max(prev[1], span[1]);
      else merged.push([span[0], span[1]]);
    }
    this.spans = merged;
    this.bytes = merged.reduce((sum, [a, b]) => sum + b - a, 0);
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
