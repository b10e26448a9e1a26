// GGUF reader against the real files in /work/shared/models (written by llama.cpp / gguf-py),
// hand-built edge cases, and the three byte sources (memory, file, HTTP with and without Range).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { serveFiles, type FileServer } from './helpers/file-server';
import type { AddressInfo } from 'node:net';
import { fixturePath } from './helpers/fixtures';
import { writeGGUF, specFromFile, arr, u8, i8, u16, i16, u32, i32, f32, f64, u64, i64, Typed } from './helpers/gguf-writer';
import { MemorySource, type ByteSource } from '../src/io/byte-source';
import { openFileSource } from '../src/io/file-source';
import { openUrlSource } from '../src/io/url-source';
import type { LoadProgress } from '../src/io/progress';
import { readGGUF, readTensorBytes, GGUFValueType, type GGUFFile } from '../src/model/gguf';
import { getString, getNumber, getOptionalNumber, getStringArray, getNumberArray, getArray } from '../src/model/gguf-metadata';
import { GGMLType, ggmlTypeName, tensorByteLength } from '../src/model/ggml-types';
import { DownloadError, FormatError, InvalidRequestError, UnsupportedError } from '../src/errors';

const stories = (v = '') => fixturePath('models', 'stories260K', `stories260K${v}.gguf`);
const STORIES_VARIANTS = ['', '-F16', '-Q8_0', '-Q4_0', '-Q4_0-pure', '-Q4_K_M', '-Q6_K'];
const ALL_FILES = [
  ...STORIES_VARIANTS.map(stories),
  fixturePath('models', 'llama-2-tiny-random', 'llama-2-tiny-random.gguf'),
  ...['gpt-2', 'llama-bpe', 'llama-spm', 'qwen2'].map((v) => fixturePath('models', 'llama-cpp-vocab', `ggml-vocab-${v}.gguf`)),
];

async function parseBytes(bytes: Uint8Array, name = 'test.gguf'): Promise<GGUFFile> {
  return readGGUF(new MemorySource(bytes, name));
}

/** Comparable form of a parsed file (without the source object). */
function summary(f: GGUFFile) {
  return { version: f.version, alignment: f.alignment, dataOffset: f.dataOffset, metadata: f.metadata, types: f.metadataTypes, tensors: f.tensors };
}

describe('real GGUF files', () => {
  for (const path of ALL_FILES) {
    test(`${path.split('/').pop()}: tensors lie inside the file, aligned, without overlap; re-writing gives the identical bytes`, async () => {
      const bytes = new Uint8Array(await readFile(path));
      const file = await parseBytes(bytes, path);
      assert.equal(file.version, 3);
      let end = file.dataOffset;
      for (const t of [...file.tensors].sort((a, b) => a.offset - b.offset)) {
        assert.ok(t.offset >= end, `${t.name} overlaps the previous tensor`);
        assert.equal((t.offset - file.dataOffset) % file.alignment, 0);
        assert.equal(t.byteLength, tensorByteLength(t.type, t.dims));
        assert.ok(t.offset + t.byteLength <= bytes.length);
        end = t.offset + t.byteLength;
      }
      // The writer knows nothing of the reader's internals: byte-identical output means every
      // metadata value, type, string and tensor info was read exactly as llama.cpp wrote it.
      const data = new Map(await Promise.all(file.tensors.map(async (t) => [t.name, await readTensorBytes(file, t)] as const)));
      const rewritten = writeGGUF(specFromFile(file, data));
      assert.equal(rewritten.length, bytes.length);
      assert.ok(Buffer.from(rewritten).equals(Buffer.from(bytes)), 'rewritten file differs');
    });
  }

  test('stories260K: the architecture the README describes', async () => {
    for (const v of STORIES_VARIANTS) {
      const file = await parseBytes(new Uint8Array(await readFile(stories(v))), v);
      assert.equal(file.tensors.length, 1 + 5 * 9 + 2, v); // token_embd, 5 blocks × 9, output_norm, output
      assert.equal(getString(file, 'general.architecture'), 'llama');
      assert.equal(getNumber(file, 'llama.embedding_length'), 64);
      assert.equal(getNumber(file, 'llama.block_count'), 5);
      assert.equal(getNumber(file, 'llama.attention.head_count'), 8);
      assert.equal(getNumber(file, 'llama.attention.head_count_kv'), 4);
      assert.equal(getNumber(file, 'llama.feed_forward_length'), 172);
      assert.equal(getNumber(file, 'llama.context_length'), 2048);
      assert.equal(getOptionalNumber(file, 'llama.rope.freq_base'), undefined);
      assert.equal(getStringArray(file, 'tokenizer.ggml.tokens').length, 512);
      assert.ok(getNumberArray(file, 'tokenizer.ggml.scores') instanceof Float32Array);
      assert.deepEqual(file.tensorsByName.get('token_embd.weight')!.dims, [64, 512]);
      assert.deepEqual(file.tensorsByName.get('blk.0.attn_k.weight')!.dims, [64, 32]);
      assert.deepEqual(file.tensorsByName.get('blk.4.ffn_down.weight')!.dims, [172, 64]);
      const types = new Set(file.tensors.map((t) => ggmlTypeName(t.type)));
      if (v === '') assert.deepEqual([...types], ['F32']);
      else assert.equal(ggmlTypeName(file.tensorsByName.get('blk.0.ffn_down.weight')!.type), 'F16', v);
      for (const k of ['Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K']) assert.ok(!types.has(k), `${v} has ${k}`); // rows of 64/172
      for (const t of file.tensors) if (t.dims.length === 1) assert.equal(t.type, GGMLType.F32, t.name);
    }
  });

  test('llama-2-tiny-random: 32000-token vocab as typed arrays, BOM token kept', async () => {
    const file = await parseBytes(new Uint8Array(await readFile(ALL_FILES[STORIES_VARIANTS.length]!)));
    const tokens = getStringArray(file, 'tokenizer.ggml.tokens');
    assert.equal(tokens.length, 32000);
    assert.deepEqual(tokens.slice(0, 4), ['<unk>', '<s>', '</s>', '<0x00>']);
    assert.ok(tokens.includes('\uFEFF'), 'U+FEFF token must survive decoding');
    assert.ok(tokens.includes('▁the'));
    assert.ok(getArray(file, 'tokenizer.ggml.token_type') instanceof Int32Array);
    assert.equal(getNumberArray(file, 'tokenizer.ggml.scores').length, 32000);
    assert.deepEqual(file.tensorsByName.get('token_embd.weight')!.dims, [8, 32000]);
    assert.equal(file.tensorsByName.get('token_embd.weight')!.type, GGMLType.F16);
  });

  test('vocab-only files have no tensors and full vocabularies', async () => {
    const expected: Record<string, [number, number]> = { 'gpt-2': [50257, 50000], 'llama-bpe': [128256, 280147], qwen2: [151936, 151387] };
    for (const [name, [nTokens, nMerges]] of Object.entries(expected)) {
      const src = await openFileSource(fixturePath('models', 'llama-cpp-vocab', `ggml-vocab-${name}.gguf`));
      const file = await readGGUF(src);
      await src.close();
      assert.equal(file.tensors.length, 0);
      assert.equal(getStringArray(file, 'tokenizer.ggml.tokens').length, nTokens);
      assert.equal(getStringArray(file, 'tokenizer.ggml.merges').length, nMerges);
    }
  });

  test('reads only the header region, in bounded chunks', async () => {
    const bytes = new Uint8Array(await readFile(ALL_FILES[STORIES_VARIANTS.length]!));
    const reads: [number, number][] = [];
    const mem = new MemorySource(bytes, 'counted');
    const counted: ByteSource = { name: mem.name, size: mem.size, read: (o, l) => { reads.push([o, l]); return mem.read(o, l); } };
    const file = await readGGUF(counted);
    const total = reads.reduce((s, [, l]) => s + l, 0);
    assert.ok(total < bytes.length, `read ${total} of ${bytes.length} bytes`);
    assert.ok(total <= 2 * file.dataOffset + 64 * 1024, `read ${total} bytes for a ${file.dataOffset}-byte header`);
    for (let i = 1; i < reads.length; i++) assert.equal(reads[i]![0], reads[i - 1]![0] + reads[i - 1]![1], 'reads are sequential, no re-reads');
  });
});

describe('byte sources give identical results', () => {
  let bytes: Uint8Array;
  let rangeServer: FileServer, plainServer: FileServer;
  let rangeUrl = '', plainUrl = '';
  const path = stories('-Q4_0');

  before(async () => {
    bytes = new Uint8Array(await readFile(path));
    const files = { '/m.gguf': bytes };
    rangeServer = await serveFiles(files, { range: true });
    plainServer = await serveFiles(files, { range: false });
    [rangeUrl, plainUrl] = [rangeServer.url, plainServer.url];
  });
  after(async () => { await rangeServer?.close(); await plainServer?.close(); });

  test('memory, file, HTTP Range and HTTP without Range', async () => {
    const fileSource = await openFileSource(path);
    const progress: LoadProgress[] = [];
    const rangeSource = await openUrlSource(`${rangeUrl}/m.gguf`);
    const plainSource = await openUrlSource(`${plainUrl}/m.gguf`, { onProgress: (p) => progress.push(p) });
    assert.equal(rangeSource.rangeSupported, true);
    assert.equal(plainSource.rangeSupported, false);
    const sources: ByteSource[] = [new MemorySource(bytes, 'mem'), fileSource, rangeSource, plainSource];
    const parsed = await Promise.all(sources.map(readGGUF));
    for (const p of parsed.slice(1)) assert.deepEqual(summary(p), summary(parsed[0]!));
    for (const name of ['token_embd.weight', 'blk.3.ffn_down.weight', 'output.weight']) {
      const expected = await readTensorBytes(parsed[0]!, name);
      for (const p of parsed.slice(1)) assert.deepEqual(await readTensorBytes(p, name), expected);
    }
    await fileSource.close();
    assert.equal(plainServer.requests, 1, 'a server without Range support is downloaded exactly once');
    assert.ok(progress.length > 0);
    const last = progress.at(-1)!;
    assert.deepEqual({ ...last, rate: 0 }, { file: `${plainUrl}/m.gguf`, loaded: bytes.length, total: bytes.length, rate: 0, phase: 'download' });
    assert.ok(last.rate > 0);
  });

  test('HTTP failures are DownloadErrors with status and URL', async () => {
    await assert.rejects(openUrlSource(`${rangeUrl}/missing.gguf`), (e: unknown) =>
      e instanceof DownloadError && e.status === 404 && e.message.includes('/missing.gguf') && /does not exist/.test(e.message));
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
    });
    await assert.rejects(openUrlSource(`http://127.0.0.1:${closed}/m.gguf`), (e: unknown) => e instanceof DownloadError && e.message.includes(`127.0.0.1:${closed}`));
  });

  test('an aborted signal rejects with AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(openUrlSource(`${rangeUrl}/m.gguf`, { signal: ac.signal }), { name: 'AbortError' });
  });

  test('a missing local file is an InvalidRequestError naming the path', async () => {
    await assert.rejects(openFileSource('/nonexistent/model.gguf'), (e: unknown) =>
      e instanceof InvalidRequestError && e.message.includes('/nonexistent/model.gguf') && /does not exist/.test(e.message));
  });
});

describe('metadata values and header checks', () => {
  test('all 13 value types, nested arrays, 64-bit integers as bigint', async () => {
    const file = await parseBytes(writeGGUF({
      version: 2,
      metadata: [
        ['u8', u8(255)], ['i8', i8(-128)], ['u16', u16(65535)], ['i16', i16(-32768)], ['u32', u32(4294967295)], ['i32', i32(-2147483648)],
        ['f32', f32(0.5)], ['bool', true], ['str', 'héllo ✓'], ['u64', u64(2n ** 64n - 1n)], ['i64', i64(-(2n ** 63n))], ['f64', f64(Math.PI)],
        ['a_f32', new Float32Array([1.5, -2])], ['a_i16', new Int16Array([-3, 4])], ['a_u64', new BigUint64Array([7n])],
        ['a_bool', arr(GGUFValueType.BOOL, [true, false, true])], ['a_str', ['a', '', 'ü']], ['a_empty', arr(GGUFValueType.INT32, [])],
        ['nested', new Typed(GGUFValueType.ARRAY, [new Int32Array([1, 2]), new Int32Array([3])], GGUFValueType.ARRAY)],
      ],
    }));
    const m = file.metadata;
    assert.equal(file.version, 2);
    assert.deepEqual([m.get('u8'), m.get('i8'), m.get('u16'), m.get('i16'), m.get('u32'), m.get('i32')], [255, -128, 65535, -32768, 4294967295, -2147483648]);
    assert.deepEqual([m.get('f32'), m.get('bool'), m.get('str'), m.get('u64'), m.get('i64'), m.get('f64')], [0.5, true, 'héllo ✓', 2n ** 64n - 1n, -(2n ** 63n), Math.PI]);
    assert.deepEqual(m.get('a_f32'), new Float32Array([1.5, -2]));
    assert.deepEqual(m.get('a_i16'), new Int16Array([-3, 4]));
    assert.deepEqual(m.get('a_u64'), new BigUint64Array([7n]));
    assert.deepEqual(m.get('a_bool'), [true, false, true]);
    assert.deepEqual(m.get('a_str'), ['a', '', 'ü']);
    assert.deepEqual(m.get('a_empty'), new Int32Array(0));
    assert.deepEqual(m.get('nested'), [new Int32Array([1, 2]), new Int32Array([3])]);
    assert.throws(() => getString(file, 'u8'), (e: unknown) => e instanceof FormatError && e.message.includes("'u8'"));
    assert.throws(() => getNumber(file, 'u64'), (e: unknown) => e instanceof FormatError && e.message.includes("'u64'"));
    assert.throws(() => getNumber(file, 'absent'), (e: unknown) => e instanceof FormatError && e.message.includes("'absent'"));
    assert.throws(() => getStringArray(file, 'a_f32'), FormatError);
  });

  const f32Tensor = (name: string, n: number) => ({ name, dims: [n], type: GGMLType.F32, data: new Float32Array(n) });

  test('general.alignment is honoured and validated', async () => {
    const file = await parseBytes(writeGGUF({ alignment: 64, tensors: [f32Tensor('a', 3), f32Tensor('b', 5)] }));
    assert.equal(file.alignment, 64);
    for (const t of file.tensors) assert.equal(t.offset % 64, 0);
    for (const bad of [u32(0), u32(48), i32(-32), 'x', u32(2 ** 31)]) {
      await assert.rejects(parseBytes(writeGGUF({ metadata: { 'general.alignment': bad } })), (e: unknown) =>
        e instanceof FormatError && e.message.includes('general.alignment'));
    }
  });

  test('errors name what is wrong', async () => {
    const good = writeGGUF({ tensors: [f32Tensor('w', 8)] });
    const expectError = async (bytes: Uint8Array, cls: typeof FormatError | typeof UnsupportedError, re: RegExp) =>
      assert.rejects(parseBytes(bytes), (e: unknown) => e instanceof cls && re.test(e.message));
    await expectError(new TextEncoder().encode('PK\x03\x04 this is a zip file'), FormatError, /not a GGUF file \(magic "PK\\x03\\x04"/);
    await expectError(writeGGUF({ version: 1 }), UnsupportedError, /version 1/);
    await expectError(writeGGUF({ version: 4 }), UnsupportedError, /version 4/);
    const bigEndian = good.slice(); bigEndian.set([0, 0, 0, 3], 4);
    await expectError(bigEndian, UnsupportedError, /big-endian/);
    // The magic, then garbage: a corrupt file, not an unsupported version.
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 13 & 0xff);
    garbage.set(new TextEncoder().encode('GGUF'), 0);
    garbage.set([0xc6, 0x1c, 0x7c, 0xb0], 4); // version 2960923846
    await expectError(garbage, FormatError, /version field reads 2960923846.*corrupt or truncated/);
    await expectError(writeGGUF({ version: 0 }), FormatError, /corrupt/);
    await expectError(good.subarray(0, 30), FormatError, /truncated/);
    await expectError(good.subarray(0, good.length - 1), FormatError, /truncated.*'w'/);
    await expectError(writeGGUF({ metadata: [['k', 1], ['k', 2]] }), FormatError, /'k' appears twice/);
    await expectError(writeGGUF({ tensors: [f32Tensor('w', 8), f32Tensor('w', 8)] }), FormatError, /'w' appears twice/);
    const unknownType = writeGGUF({ tensors: [{ name: 'w', dims: [32], type: GGMLType.Q4_0, data: new Uint8Array(18) }] });
    // Header (24) + name (8 + 1) + n_dims (4) + one dim (8) → the type field is at 45.
    assert.equal(new DataView(unknownType.buffer).getUint32(45, true), GGMLType.Q4_0);
    unknownType.set([77, 0, 0, 0], 45);
    await expectError(unknownType, UnsupportedError, /'w'.*type id 77/);
  });

  test('tensor byte lengths follow the ggml block table', () => {
    assert.equal(tensorByteLength(GGMLType.F32, [3, 2]), 24);
    assert.equal(tensorByteLength(GGMLType.BF16, [4]), 8);
    assert.equal(tensorByteLength(GGMLType.Q4_0, [64, 2]), 2 * 2 * 18);
    assert.equal(tensorByteLength(GGMLType.Q8_0, [32]), 34);
    assert.equal(tensorByteLength(GGMLType.Q4_K, [512, 3]), 2 * 3 * 144);
    assert.equal(tensorByteLength(GGMLType.Q6_K, [256]), 210);
    assert.throws(() => tensorByteLength(GGMLType.Q4_0, [100]), (e: unknown) => e instanceof FormatError && /multiple of the block size 32/.test(e.message));
    assert.throws(() => tensorByteLength(4, [32]), UnsupportedError); // Q4_2, removed from ggml
    assert.equal(ggmlTypeName(14), 'Q6_K');
  });
});
