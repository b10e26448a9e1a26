// Robustness of the safetensors reader and the repo loader: random bytes, truncations and mutations of a real
// safetensors file (stories260K as HF writes it), mutated model.safetensors.index.json, config.json and
// tokenizer.json. Every case must load or throw a typed Hearth error (FormatError, UnsupportedError,
// InvalidRequestError) — never another error type, never hang, never read far more than the file holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { HearthError } from '../src/errors';
import { MemorySource, type ByteSource } from '../src/io/byte-source';
import type { FileSet } from '../src/io/model-location';
import { readSafetensors } from '../src/model/safetensors';
import { openHFRepo } from '../src/model/hf/repo';
import { readModelConfig } from '../src/model/read-config';
import { tokenizerFromHF } from '../src/tokenizer/hf';
import { ggufToRepo, type RepoFiles } from './helpers/hf-writer';
import { seededRng, type Rng } from './helpers/seeded';
import { fixturePath } from './helpers/fixtures';

/** A source that fails the test if the reader asks for far more bytes than the file has. */
function guardedSource(bytes: Uint8Array, name: string): ByteSource {
  const mem = new MemorySource(bytes, name);
  let total = 0;
  return {
    name, size: mem.size,
    read(offset, length) {
      total += length;
      if (total > 4 * bytes.length + 1024) throw new Error(`reader read ${total} bytes from a ${bytes.length}-byte file`);
      return mem.read(offset, length);
    },
  };
}

const HANG_GUARD_MS = 10_000; // a hang guard, not a performance assertion

/** Runs `f`; a HearthError is an accepted outcome, anything else (or a hang) fails the test. */
async function attempt<T>(label: string, f: () => Promise<T>): Promise<T | HearthError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${label}: hung`)), HANG_GUARD_MS); });
  try {
    return await Promise.race([f(), hang]);
  } catch (e) {
    if (e instanceof HearthError) return e;
    assert.fail(`${label}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  } finally {
    clearTimeout(timer);
  }
}

let repoPromise: Promise<RepoFiles> | undefined;
const realRepo = () => (repoPromise ??= readFile(fixturePath('models', 'stories260K', 'stories260K.gguf')).then((g) => ggufToRepo(g, { dtype: 'F16', shards: 2 })));

function memoryFiles(files: RepoFiles): FileSet {
  return { name: 'mem', open: async (f) => (Object.hasOwn(files, f) ? guardedSource(files[f]!, f) : undefined) };
}

/** Opens the repo, reads its config, builds its tokenizer and reads every tensor. */
async function loadRepo(files: RepoFiles): Promise<void> {
  const repo = await openHFRepo(memoryFiles(files));
  try {
    readModelConfig(repo.file);
    const tokenizer = tokenizerFromHF({ name: 'mem', tokenizerJSON: repo.tokenizerJSON, tokenizerConfig: repo.tokenizerConfig, modelConfig: repo.config.hparams });
    tokenizer.decode(tokenizer.encode('Once upon a time, <s> there was 42 ü'));
    for (const t of repo.file.tensors) assert.equal((await repo.file.readTensor(t)).byteLength, t.byteLength, t.name);
  } finally {
    await repo.close();
  }
}

const shardName = 'model-00001-of-00002.safetensors';

test('random bytes, with and without a plausible header length', async () => {
  const rng = seededRng(11);
  for (let i = 0; i < 600; i++) {
    const bytes = new Uint8Array(Math.floor(rng() * 400));
    for (let j = 0; j < bytes.length; j++) bytes[j] = rng() * 256;
    if (i % 2 === 0 && bytes.length >= 8) new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.floor(rng() * bytes.length)), true);
    if (i % 4 === 0 && bytes.length >= 10) bytes.set([0x7b, 0x22], 8); // '{"'
    await attempt(`random #${i}`, () => readSafetensors(guardedSource(bytes, 'fuzz.safetensors')));
  }
});

test('truncations of a real shard fail with FormatError unless all tensor data is present', async () => {
  const bytes = (await realRepo())[shardName]!;
  const full = await readSafetensors(new MemorySource(bytes));
  const dataEnd = Math.max(...[...full.tensors.values()].map((t) => t.offset + t.byteLength));
  const rng = seededRng(12);
  const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const cuts = new Set<number>([0, 1, 7, 8, 9, headerEnd - 1, headerEnd, dataEnd - 1]);
  while (cuts.size < 300) cuts.add(Math.floor(rng() * (headerEnd + 64)));
  while (cuts.size < 400) cuts.add(Math.floor(rng() * bytes.length));
  for (const cut of cuts) {
    const result = await attempt(`cut at ${cut}`, () => readSafetensors(guardedSource(bytes.subarray(0, cut), 'cut.safetensors')));
    if (cut < dataEnd) assert.ok(result instanceof HearthError && result.code === 'format', `cut at ${cut}: ${String(result)}`);
  }
});

test('byte mutations of a real header, and of the JSON values in it, through the whole repo loader', async () => {
  const files = await realRepo();
  const bytes = files[shardName]!;
  const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const rng = seededRng(13);
  let loaded = 0, rejected = 0;
  for (let i = 0; i < 300; i++) {
    const mutated = bytes.slice();
    for (let f = 0, n = 1 + Math.floor(rng() * 3); f < n; f++) {
      const at = Math.floor(rng() * headerEnd);
      if (rng() < 0.5) mutated[at]! ^= 1 << Math.floor(rng() * 8);
      else mutated[at] = '0123456789-e.,[]{}":'.charCodeAt(Math.floor(rng() * 20));
    }
    const r = await attempt(`header mutation #${i}`, () => loadRepo({ ...files, [shardName]: mutated }));
    if (r instanceof HearthError) rejected++; else loaded++;
  }
  assert.ok(rejected > 0, `${loaded} loaded, ${rejected} rejected`);
});

/** Replaces one randomly chosen value somewhere in `json` with a hostile one. */
function mutateJson(json: unknown, rng: Rng): unknown {
  const hostile = [null, -1, 0, 1e300, 2 ** 53, 3.5, '', 'x', [], {}, [1, 2], { a: 1 }, true, '../x.safetensors', 'F64', 'I8'];
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (path.length > 0) paths.push(path);
    if (path.length > 4 || typeof v !== 'object' || v === null) return;
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const).slice(0, 40) : Object.entries(v).slice(0, 200);
    for (const [k, x] of entries) walk(x, [...path, k]);
  };
  walk(json, []);
  const copy = JSON.parse(JSON.stringify(json));
  const path = paths[Math.floor(rng() * paths.length)]!;
  let parent = copy;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const key = path.at(-1)!;
  if (rng() < 0.15 && !Array.isArray(parent)) delete parent[key];
  else parent[key] = hostile[Math.floor(rng() * hostile.length)];
  return copy;
}

const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

for (const file of ['config.json', 'model.safetensors.index.json', 'tokenizer_config.json', 'tokenizer.json'] as const) {
  test(`mutated ${file}: typed errors only`, async () => {
    const files = await realRepo();
    const original = decode(files[file]!);
    const rng = seededRng(file.length * 101);
    const runs = file === 'tokenizer.json' ? 60 : 200;
    let rejected = 0;
    for (let i = 0; i < runs; i++) {
      const r = await attempt(`${file} mutation #${i}`, () => loadRepo({ ...files, [file]: encode(mutateJson(original, rng)) }));
      if (r instanceof HearthError) rejected++;
    }
    for (const garbage of ['', '{', '[]', 'null', '"x"', '{"architectures": "LlamaForCausalLM"}']) {
      const r = await attempt(`${file} = ${garbage}`, () => loadRepo({ ...files, [file]: new TextEncoder().encode(garbage) }));
      if (r instanceof HearthError) rejected++;
    }
    assert.ok(rejected > 0);
  });
}
