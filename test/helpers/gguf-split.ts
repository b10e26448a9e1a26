// Splits a GGUF into parts the way llama.cpp's gguf-split does: every part a GGUF of its own with a share of
// the tensors, the first with all metadata, each with split.no (u16), split.count (u16) and split.tensors.count (i32).
import { MemorySource } from '../../src/io/byte-source';
import { readGGUF, readTensorBytes } from '../../src/model/gguf';
import { i32, specFromFile, u16, writeGGUF, type MetaValue } from './gguf-writer';

export async function splitGGUF(bytes: Uint8Array, count: number): Promise<Uint8Array[]> {
  const file = await readGGUF(new MemorySource(bytes));
  const data = new Map<string, Uint8Array>();
  for (const t of file.tensors) data.set(t.name, await readTensorBytes(file, t));
  const whole = specFromFile(file, data);
  const per = Math.ceil(whole.tensors!.length / count);
  return Array.from({ length: count }, (_, no) => {
    const split: [string, MetaValue][] = [['split.no', u16(no)], ['split.count', u16(count)], ['split.tensors.count', i32(whole.tensors!.length)]];
    const metadata = no === 0 ? [...(whole.metadata as [string, MetaValue][]), ...split] : split;
    return writeGGUF({ version: whole.version, alignment: whole.alignment, metadata, tensors: whole.tensors!.slice(no * per, (no + 1) * per) });
  });
}
