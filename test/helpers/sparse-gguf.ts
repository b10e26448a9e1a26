// GGUF files of many gigabytes that cost next to nothing on disk: the header and the tensor bytes given are
// written, everything else is a hole of the sparse file (reads as zeros). Same layout as writeGGUF (tensor data
// in order, each aligned).
import { open } from 'node:fs/promises';
import { tensorByteLength } from '../../src/model/ggml-types';
import { ByteWriter, inferType, Typed, writeValue, type MetaValue } from './gguf-writer';

export interface SparseTensor {
  name: string;
  dims: number[];
  type: number;
  /** Bytes written at the start of the tensor's data (the rest stays a hole); none: all hole. */
  head?: Uint8Array;
}

/** Writes the file; returns its size and every tensor's absolute data offset. */
export async function writeSparseGGUF(path: string, metadata: [string, MetaValue][], tensors: SparseTensor[], alignment = 32): Promise<{ size: number; offsets: Map<string, number> }> {
  const w = new ByteWriter();
  w.u32(0x46554747).u32(3).u64(tensors.length).u64(metadata.length);
  for (const [key, value] of metadata) {
    w.str(key);
    const t = value instanceof Typed ? { type: value.type, elemType: value.elemType } : inferType(value);
    w.u32(t.type);
    writeValue(w, t.type, value instanceof Typed ? value.value : value, t.elemType);
  }
  const relative: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    w.str(t.name).u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type).u64(offset);
    relative.push(offset);
    offset += Math.ceil(tensorByteLength(t.type, t.dims) / alignment) * alignment;
  }
  w.padTo(alignment);
  const header = w.finish();
  const offsets = new Map(tensors.map((t, i) => [t.name, header.length + relative[i]!]));
  const size = header.length + offset;
  const file = await open(path, 'w');
  try {
    await file.write(header, 0, header.length, 0);
    for (const t of tensors) if (t.head) await file.write(t.head, 0, t.head.length, offsets.get(t.name)!);
    await file.truncate(size);
  } finally {
    await file.close();
  }
  return { size, offsets };
}
