// Robustness of the GGUF reader: random bytes, truncations and mutations of a real file, and hand-made
// headers with impossible counts. Every case must parse or throw FormatError/UnsupportedError — never
// another error type, never hang, never allocate more than the file could describe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fixturePath } from './helpers/fixtures';
import { ByteWriter, writeGGUF } from './helpers/gguf-writer';
import { MemorySource, type ByteSource } from '../src/io/byte-source';
import { readGGUF, GGUFValueType, type GGUFFile } from '../src/model/gguf';
import { GGMLType, tensorByteLength } from '../src/model/ggml-types';
import { FormatError, HearthError, UnsupportedError } from '../src/errors';

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A source that fails the test if the parser asks for more bytes in total than a few times the file. */
function guardedSource(bytes: Uint8Array): ByteSource {
  const mem = new MemorySource(bytes, 'fuzz.gguf');
  let total = 0;
  return {
    name: mem.name, size: mem.size,
    read(offset, length) {
      total += length;
      if (total > 4 * bytes.length + 1024) throw new Error(`parser read ${total} bytes from a ${bytes.length}-byte file`);
      return mem.read(offset, length);
    },
  };
}

// A hang guard, not a performance assertion: a correct parser finishes any of these inputs in milliseconds.
const HANG_GUARD_MS = 10_000;

/** Parses; returns the file or the HearthError. Anything else (TypeError, RangeError, hang) fails the test. */
async function attempt(bytes: Uint8Array, label: string): Promise<GGUFFile | HearthError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${label}: parser hung`)), HANG_GUARD_MS); });
  try {
    return await Promise.race([readGGUF(guardedSource(bytes)), hang]);
  } catch (e) {
    if (e instanceof FormatError || e instanceof UnsupportedError) return e;
    assert.fail(`${label}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  } finally {
    clearTimeout(timer);
  }
}

const realPath = fixturePath('models', 'stories260K', 'stories260K-Q4_0.gguf');

test('random bytes, with and without a valid GGUF preamble', async () => {
  const random = mulberry32(1);
  for (let i = 0; i < 800; i++) {
    const bytes = new Uint8Array(Math.floor(random() * 600));
    for (let j = 0; j < bytes.length; j++) bytes[j] = random() * 256;
    if (i % 2 === 0 && bytes.length >= 8) bytes.set([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]); // "GGUF" v3
    if (i % 4 === 0 && bytes.length >= 24) bytes.set([random() * 4, 0, 0, 0, 0, 0, 0, 0, random() * 8, 0, 0, 0, 0, 0, 0, 0], 8); // small counts
    await attempt(bytes, `random #${i}`);
  }
});

test('truncations of a real file fail with FormatError unless all tensor data is present', async () => {
  const bytes = new Uint8Array(await readFile(realPath));
  const full = await readGGUF(new MemorySource(bytes));
  const dataEnd = Math.max(...full.tensors.map((t) => t.offset + t.byteLength));
  const random = mulberry32(2);
  const cuts = new Set<number>();
  for (let c = 0; c < 64; c++) cuts.add(c);
  while (cuts.size < 900) cuts.add(Math.floor(random() * (full.dataOffset + 64)));   // dense in the header
  while (cuts.size < 1000) cuts.add(Math.floor(random() * bytes.length));             // sparse in the data
  for (const cut of cuts) {
    const result = await attempt(bytes.subarray(0, cut), `cut at ${cut}`);
    if (cut < dataEnd) {
      assert.ok(result instanceof FormatError, `cut at ${cut} should be a FormatError`);
      if (cut >= 8) assert.match(result.message, /truncated|remain/, `cut at ${cut}: ${result.message}`);
    }
  }
});

test('random mutations of the header region', async () => {
  const bytes = new Uint8Array(await readFile(realPath));
  const { dataOffset } = await readGGUF(new MemorySource(bytes));
  const header = bytes.slice(0, dataOffset + 256); // tensor data beyond this is irrelevant to parsing
  const random = mulberry32(3);
  let parsed = 0, rejected = 0;
  for (let i = 0; i < 1500; i++) {
    const mutated = header.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) {
      const at = Math.floor(random() * dataOffset);
      // Mostly bit flips; sometimes 0xff runs, which turn lengths and counts into huge numbers.
      if (random() < 0.7) mutated[at]! ^= 1 << Math.floor(random() * 8);
      else mutated.fill(0xff, at, Math.min(dataOffset, at + 1 + Math.floor(random() * 8)));
    }
    if ((await attempt(mutated, `mutation #${i}`)) instanceof HearthError) rejected++; else parsed++;
  }
  assert.ok(rejected > 0 && parsed + rejected === 1500);
});

/** "GGUF", version 3, then the given counts. */
const preamble = (tensors: bigint, kvs: bigint) => new ByteWriter().u32(0x46554747).u32(3).u64(tensors).u64(kvs);

test('hand-crafted impossible headers fail fast with FormatError', async () => {
  const cases: [string, ByteWriter, RegExp][] = [
    ['2^63 tensors', preamble(2n ** 63n, 0n), /tensor count.*impossibly large/],
    ['2^53 tensors', preamble(2n ** 53n, 0n), /tensor count/],
    ['1e6 tensors in a tiny file', preamble(1_000_000n, 0n), /tensor count.*remain/],
    ['2^64-1 metadata entries', preamble(0n, 2n ** 64n - 1n), /metadata entry count/],
    ['2^40-byte key', preamble(0n, 1n).u64(2n ** 40n), /length of metadata key/],
    ['2^40-byte string value', preamble(0n, 1n).str('k').u32(GGUFValueType.STRING).u64(2n ** 40n), /length of metadata 'k'/],
    ['2^62 uint8 elements', preamble(0n, 1n).str('k').u32(GGUFValueType.ARRAY).u32(GGUFValueType.UINT8).u64(2n ** 62n), /element count of metadata 'k'/],
    ['2^40 strings', preamble(0n, 1n).str('k').u32(GGUFValueType.ARRAY).u32(GGUFValueType.STRING).u64(2n ** 40n), /element count/],
    ['1000 strings in 100 bytes', preamble(0n, 1n).str('k').u32(GGUFValueType.ARRAY).u32(GGUFValueType.STRING).u64(1000).u64(0), /element count/],
    ['unknown value type', preamble(0n, 1n).str('k').u32(13).u32(0), /unknown value type 13/],
    ['unknown array element type', preamble(0n, 1n).str('k').u32(GGUFValueType.ARRAY).u32(99).u64(0), /unknown value type 99/],
    ['n_dims 100', preamble(1n, 0n).str('t').u32(100).u64(1).u32(0).u64(0), /'t' has 100 dimensions/],
    ['dim 0', preamble(1n, 0n).str('t').u32(1).u64(0).u32(0).u64(0), /'t' has dimension 0 of size 0/],
    ['dim 2^62', preamble(1n, 0n).str('t').u32(1).u64(2n ** 62n).u32(0).u64(0), /dimension 0 of tensor 't'.*impossibly large/],
    ['2^80 elements', preamble(1n, 0n).str('t').u32(4).u64(2 ** 20).u64(2 ** 20).u64(2 ** 20).u64(2 ** 20).u32(0).u64(0), /'t'.*too many elements/],
    ['unaligned tensor offset', preamble(1n, 0n).str('t').u32(1).u64(4).u32(0).u64(3), /'t' data offset 3 is not a multiple of the alignment 32/],
    ['huge tensor offset', preamble(1n, 0n).str('t').u32(1).u64(4).u32(0).u64(2n ** 50n), /truncated: tensor 't'/],
    ['tensor type 2^32-1', preamble(1n, 0n).str('t').u32(1).u64(4).u32(0xffffffff).u64(0), /'t'.*type id 4294967295/],
    ['negative alignment', preamble(0n, 1n).str('general.alignment').u32(GGUFValueType.INT32).i32(-64), /general.alignment/],
    ['alignment 2^64-1', preamble(0n, 1n).str('general.alignment').u32(GGUFValueType.UINT64).u64(2n ** 64n - 1n), /general.alignment/],
  ];
  // Arrays nested deeper than any real file: each level is a one-element array of arrays.
  const deep = preamble(0n, 1n).str('k').u32(GGUFValueType.ARRAY);
  for (let d = 0; d < 5000; d++) deep.u32(GGUFValueType.ARRAY).u64(1);
  deep.u32(GGUFValueType.UINT8).u64(0);
  cases.push(['arrays nested 5000 deep', deep, /nests arrays/]);

  for (const [label, writer, expected] of cases) {
    const bytes = writer.u64(0).u64(0).u64(0).finish(); // a little slack so 'truncated' is not the first problem
    const result = await attempt(bytes, label);
    assert.ok(result instanceof HearthError, `${label}: should be rejected`);
    assert.ok(result instanceof (/type id/.test(expected.source) ? UnsupportedError : FormatError), `${label}: ${result.name}`);
    assert.match(result.message, expected, label);
  }
});

test('a file with a tensor of each known type id parses', async () => {
  for (const [name, type] of Object.entries(GGMLType)) {
    const dims = [256]; // a multiple of every block size
    const bytes = writeGGUF({ tensors: [{ name, dims, type, data: new Uint8Array(tensorByteLength(type, dims)) }] });
    const file = await attempt(bytes, name);
    assert.ok(!(file instanceof HearthError), `${name}: ${(file as Error).message}`);
    assert.equal(file.tensors[0]!.type, type);
  }
});
