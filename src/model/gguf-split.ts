// A GGUF split into parts (llama.cpp's gguf-split: `<name>-00001-of-00003.gguf`, ...) as one file. Every part
// is a GGUF with its own header and tensors; the first holds the model's metadata, and `split.no`,
// `split.count` and `split.tensors.count` say how they fit together. The parts are read as one byte range
// laid end to end, so tensor offsets, tensor readers and progress work as for a single file.
import { FormatError } from '../errors';
import { checkRange, type ByteSource } from '../io/byte-source';
import { readGGUF, readTensorBytes, tensorRangeReader, type GGUFFile, type GGUFTensorInfo } from './gguf';

/** The parts as one GGUFFile: metadata of the first, tensors of all, each read from its part. */
export async function readGGUFParts(parts: ByteSource[]): Promise<GGUFFile> {
  if (parts.length === 1) return readGGUF(parts[0]!);
  const files: GGUFFile[] = [];
  for (const part of parts) files.push(await readGGUF(part));
  const first = files[0]!;
  const name = parts[0]!.name;
  const number = (file: GGUFFile, key: string): number | undefined => {
    const v = file.metadata.get(key);
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
  };
  files.forEach((file, i) => {
    const count = number(file, 'split.count');
    const no = number(file, 'split.no');
    if (count !== undefined && count !== parts.length) throw new FormatError(`${file.source.name}: split.count says ${count} parts, but ${parts.length} were given`);
    if (no !== undefined && no !== i) throw new FormatError(`${file.source.name}: split.no is ${no}, but this is part ${i + 1} of ${parts.length} (parts out of order?)`);
  });

  const source = new ConcatSource(parts);
  const tensors: GGUFTensorInfo[] = [];
  const tensorsByName = new Map<string, GGUFTensorInfo>();
  let base = 0;
  for (const file of files) {
    for (const t of file.tensors) {
      if (tensorsByName.has(t.name)) throw new FormatError(`${file.source.name}: tensor '${t.name}' is also in an earlier part (corrupt split?)`);
      const shifted = { ...t, offset: base + t.offset };
      tensors.push(shifted);
      tensorsByName.set(t.name, shifted);
    }
    base += file.source.size;
  }
  const expected = number(first, 'split.tensors.count');
  if (expected !== undefined && expected !== tensors.length) {
    throw new FormatError(`${name}: split.tensors.count says ${expected} tensors, but the ${parts.length} parts hold ${tensors.length} (a part is missing or from another model?)`);
  }
  const merged: GGUFFile = {
    ...first, tensors, tensorsByName, source,
    readTensor: (tensor) => readTensorBytes(merged, tensor.name),
    tensorReader: (tensor) => tensorRangeReader(merged, tensor.name),
  };
  return merged;
}

/** Byte sources laid end to end. */
export class ConcatSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  private readonly starts: number[] = [];

  constructor(private readonly parts: ByteSource[]) {
    this.name = parts[0]!.name;
    let at = 0;
    for (const p of parts) { this.starts.push(at); at += p.size; }
    this.size = at;
  }

  get reportsProgress(): boolean { return this.parts.every((p) => p.reportsProgress); }
  endProgress(): void { for (const p of this.parts) p.endProgress?.(); }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = offset + done;
      let i = this.starts.length - 1;
      while (this.starts[i]! > at) i--;
      const part = this.parts[i]!;
      const inPart = at - this.starts[i]!;
      const n = Math.min(length - done, part.size - inPart);
      const bytes = await part.read(inPart, n);
      if (n === length) return bytes; // within one part (every tensor): no copy
      out.set(bytes, done);
      done += n;
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.close?.()));
  }
}
