// A random-access view of model bytes. Parsers read through this interface so that
// in-memory buffers, local files, HTTP Range requests and caches plug in alike.
import { FormatError } from '../errors';

export interface ByteSource {
  /** Human-readable name for messages and progress events (file name or URL). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes starting at `offset`; throws FormatError if that runs past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** True when reads report their own progress events (Range downloads, cache reads), so loaders add none. */
  readonly reportsProgress?: boolean;
  /** Such a source's last event: the phase is done (bytes never read, like alignment padding, count too). */
  endProgress?(): void;
  /** Releases what the source holds open (a file handle); reads after this fail. */
  close?(): Promise<void>;
}

export function checkRange(source: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > source.size) {
    throw new FormatError(`${source.name}: read of ${length} bytes at offset ${offset} runs past the end of the ${source.size}-byte file (is the file truncated?)`);
  }
}

export class MemorySource implements ByteSource {
  readonly size: number;
  private readonly bytes: Uint8Array;
  constructor(data: ArrayBuffer | Uint8Array, readonly name = 'buffer') {
    // A plain Uint8Array view even for a Node Buffer, whose slice() shares memory instead of copying:
    // readers may rely on read(...).slice() being a copy of just those bytes.
    this.bytes = data instanceof Uint8Array ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    this.size = this.bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }
}

