// Loading from a Hugging Face hub (a local one on 127.0.0.1 with the hub's URL layout, Range, ETag, HEAD and
// fault injection: test/helpers/hub-server.ts): model ids resolve to the right files, load, come from the cache
// the second time with no request at all (and with the hub offline), and every download failure either
// recovers byte-exact or ends in its typed error without leaving a partial file counted as complete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModel, createEngine, DownloadError, InvalidRequestError, ResourceError, isAbortError, type LoadOptions, type LoadProgress } from '../src/index';
import { ModelCache } from '../src/io/cache';
import { locateModel } from '../src/io/file-set';
import type { LocateOptions } from '../src/io/model-location';
import { chooseModelFiles, type HubFile } from '../src/io/hub';
import { formatModelId, hubFileUrl } from '../src/io/hub-urls';
import { parseModelId, resolveAgainstPage } from '../src/io/model-id';
import { JsSha256, createSha256 } from '../src/io/sha256';
import type { ByteSource } from '../src/io/byte-source';
import { LocalHub } from './helpers/hub-server';
import { fixturePath } from './helpers/fixtures';
import { repoRoot } from './helpers/browser';
import { splitGGUF } from './helpers/gguf-split';

const F32 = new Uint8Array(await readFile(join(repoRoot, 'public/stories260K.gguf')));
const Q8 = new Uint8Array(await readFile(fixturePath('models/stories260K/stories260K-Q8_0.gguf')));
const REPO = 'tests/stories260K-GGUF';

let hub: LocalHub;
let root: string;
let dirs = 0;
/** A fresh, empty cache directory. */
const freshCache = () => join(root, `cache-${++dirs}`);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-hub-'));
  hub = await LocalHub.start();
  hub.addRepo(REPO, [
    { path: 'README.md', bytes: new TextEncoder().encode('# stories260K\n') },
    { path: 'stories260K-F32.gguf', bytes: F32 },
    { path: 'stories260K-Q8_0.gguf', bytes: Q8 },
  ]);
  hub.addRepo(REPO, [{ path: 'v2/stories260K-F32.gguf', bytes: F32 }], { revision: 'v2' });
});
after(async () => {
  await hub?.stop().catch(() => {});
  if (root) await rm(root, { recursive: true, force: true });
});

/** locateModel with the hub and a cache; retries without waiting. */
const fetchOpts = (cacheDir: string, extra: LocateOptions = {}): LocateOptions => ({ hubUrl: hub.url, cacheDir, retry: { delayMs: 1 }, ...extra });

async function bytesOf(source: ByteSource): Promise<Uint8Array> {
  try {
    return await source.read(0, source.size);
  } finally {
    await source.close?.();
  }
}

/** The GGUF a model id locates, read whole (the download path of a real load). */
async function locatedBytes(id: string, options: LocateOptions): Promise<Uint8Array> {
  const location = await locateModel(id, options);
  assert.equal(location.kind, 'gguf');
  return bytesOf(location.source);
}

const phasesOf = (events: LoadProgress[]) => events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]);

async function bosLogits(model: string | Uint8Array, options: LoadOptions = {}): Promise<{ logits: Float32Array; weightType: string }> {
  const engine = await createEngine(model, { contextLength: 32, precision: 'f32', ...options });
  try {
    return { logits: await engine.logits([1]), weightType: engine.model.weightType };
  } finally {
    await engine.dispose();
  }
}

describe('model ids', () => {
  test('parse: owner/repo, a file, a folder, @revision, hf:, and what is not an id', () => {
    assert.deepEqual(parseModelId('owner/repo'), { repo: 'owner/repo', revision: 'main' });
    assert.deepEqual(parseModelId('owner/repo/sub/model.Q4_K_M.gguf'), { repo: 'owner/repo', revision: 'main', path: 'sub/model.Q4_K_M.gguf' });
    assert.deepEqual(parseModelId('owner/repo@v1.0/model.gguf'), { repo: 'owner/repo', revision: 'v1.0', path: 'model.gguf' });
    assert.deepEqual(parseModelId('hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF'), { repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', revision: 'main' });
    assert.deepEqual(parseModelId('owner/repo@refs%2Fpr%2F3'), { repo: 'owner/repo', revision: 'refs/pr/3' });
    for (const notId of ['model.gguf', './a/b', '/a/b', '../a/b', 'https://x.org/a/b', 'models/x.gguf', 'a/b/../c', 'a//b', 'C:\\models\\x.gguf']) {
      assert.equal(parseModelId(notId), undefined, notId);
    }
    assert.throws(() => parseModelId('hf:just-a-name'), InvalidRequestError);
    assert.equal(formatModelId({ repo: 'o/r', revision: 'v2', path: 'f.gguf' }), 'o/r@v2/f.gguf');
    assert.equal(hubFileUrl('https://hub.test', { repo: 'o/r', revision: 'refs/pr/3' }, 'dir/a b.gguf'), 'https://hub.test/o/r/resolve/refs%2Fpr%2F3/dir/a%20b.gguf');
    // The worker resolves page-relative URLs against the page, never ids.
    assert.equal(resolveAgainstPage('owner/repo', 'http://page.test/app/'), 'owner/repo');
    assert.equal(resolveAgainstPage('./m/x.gguf', 'http://page.test/app/'), 'http://page.test/app/m/x.gguf');
    assert.equal(resolveAgainstPage('hf:o/r', 'http://page.test/app/'), 'hf:o/r');
  });

  test('file choice: quantization preference, split parts, the safetensors set, and errors naming what the repo has', () => {
    const f = (path: string, size = 10): HubFile => ({ path, size });
    const files = [
      f('README.md'), f('model-Q8_0.gguf'), f('model-Q4_K_M.gguf'), f('model-Q4_K_S.gguf'), f('mmproj-model-f16.gguf'),
      f('big/model-F16-00001-of-00002.gguf'), f('big/model-F16-00002-of-00002.gguf'),
    ];
    const id = (path?: string) => ({ repo: 'o/r', revision: 'main', ...(path ? { path } : {}) });
    const paths = (c: ReturnType<typeof chooseModelFiles>) => c.files.map((x) => x.path);
    assert.deepEqual(paths(chooseModelFiles(id(), files)), ['model-Q4_K_M.gguf']);
    assert.deepEqual(paths(chooseModelFiles(id(), files, 'q8_0')), ['model-Q8_0.gguf']);
    assert.deepEqual(paths(chooseModelFiles(id(), files, ['Q6_K', 'Q4_K_S'])), ['model-Q4_K_S.gguf']);
    assert.deepEqual(paths(chooseModelFiles(id(), files, 'F16')), ['big/model-F16-00001-of-00002.gguf', 'big/model-F16-00002-of-00002.gguf']);
    assert.deepEqual(paths(chooseModelFiles(id('big/model-F16-00002-of-00002.gguf'), files)), ['big/model-F16-00001-of-00002.gguf', 'big/model-F16-00002-of-00002.gguf']);
    assert.deepEqual(paths(chooseModelFiles(id('big'), files)), ['big/model-F16-00001-of-00002.gguf', 'big/model-F16-00002-of-00002.gguf']);
    // The small-device quantizations: IQ4_XS right after the 4-bit K-quants and Q4_0; 3- and 2-bit mixes only
    // before the float files (and Q2_K never matches Q2_K_S).
    const small = [f('m-F16.gguf'), f('m-Q2_K_S.gguf'), f('m-Q2_K.gguf'), f('m-Q3_K_S.gguf'), f('m-Q3_K_M.gguf'), f('m-IQ4_XS.gguf'), f('m-Q6_K.gguf')];
    const pick = (fs: HubFile[]) => paths(chooseModelFiles(id(), fs))[0];
    assert.equal(pick(small), 'm-IQ4_XS.gguf');
    assert.equal(pick(small.filter((x) => !x.path.includes('IQ4'))), 'm-Q6_K.gguf');
    assert.equal(pick(small.filter((x) => !/IQ4|Q6/.test(x.path))), 'm-Q3_K_M.gguf');
    assert.equal(pick(small.filter((x) => !/IQ4|Q6|Q3/.test(x.path))), 'm-Q2_K.gguf');
    assert.equal(pick([f('m-F16.gguf'), f('m-Q2_K_S.gguf')]), 'm-Q2_K_S.gguf');
    assert.equal(pick([f('m-IQ4_NL.gguf'), f('m-Q8_0.gguf')]), 'm-IQ4_NL.gguf');
    assert.throws(() => chooseModelFiles(id(), files, 'IQ2_XS'), (e: unknown) => e instanceof InvalidRequestError && /model-Q8_0\.gguf/.test(e.message));
    assert.throws(() => chooseModelFiles(id('nope.gguf'), files), (e: unknown) => e instanceof InvalidRequestError && /no file or folder 'nope\.gguf'/.test(e.message));
    assert.throws(() => chooseModelFiles(id(), [f('big/x-00001-of-00003.gguf'), f('big/x-00002-of-00003.gguf')], 'x'), /no big\/x-00003-of-00003\.gguf/);
    const st = [f('config.json'), f('tokenizer.json'), f('tokenizer_config.json'), f('model.safetensors.index.json'),
      f('model-00001-of-00002.safetensors'), f('model-00002-of-00002.safetensors'), f('README.md'), f('onnx/model.onnx')];
    const chosen = chooseModelFiles(id(), st);
    assert.equal(chosen.kind, 'safetensors');
    assert.deepEqual(paths(chosen), ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    assert.throws(() => chooseModelFiles(id(), [f('README.md'), f('model.onnx')]), /no GGUF file and no safetensors model/);
  });

  test('SHA-256: the streaming implementation equals node:crypto however the bytes are split', async () => {
    const data = Uint8Array.from({ length: 300_001 }, (_, i) => (i * 2654435761) >>> 24);
    const reference = await createSha256();
    reference.update(data);
    const expected = reference.hex();
    for (const cuts of [[], [1], [63, 64, 65], [55, 56, 57, 119, 120, 121], [100_000, 200_000]]) {
      const h = new JsSha256();
      let at = 0;
      for (const c of [...cuts, data.length]) { h.update(data.subarray(at, c)); at = c; }
      assert.equal(h.hex(), expected, `cuts ${cuts}`);
    }
    assert.equal(new JsSha256().hex(), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('loading by id', () => {
  test('owner/repo loads its preferred GGUF through the cache; the second load makes no request; offline it still loads', async () => {
    const cacheDir = freshCache();
    const { logits: local } = await bosLogits(Q8);
    const events: LoadProgress[] = [];
    const first = await bosLogits(REPO, { hubUrl: hub.url, cacheDir, onProgress: (p) => events.push(p) });
    assert.equal(first.weightType, 'Q8_0', 'Q8_0 is preferred to F32');
    assert.deepEqual(first.logits, local, 'the same logits as the file loaded from disk');
    assert.deepEqual(phasesOf(events), ['download', 'cache-read', 'compile', 'ready']);
    const url = `${hub.url}/${REPO}/resolve/main/stories260K-Q8_0.gguf`;
    const downloads = events.filter((e) => e.phase === 'download');
    assert.ok(downloads.every((e) => e.file === url && e.total === Q8.length && e.loaded <= e.total && e.rate >= 0), JSON.stringify(downloads.slice(0, 3)));
    assert.equal(downloads.at(-1)!.loaded, Q8.length, 'download ends complete');
    assert.equal(events.filter((e) => e.phase === 'cache-read').at(-1)!.loaded, Q8.length, 'cache-read ends complete');
    assert.ok(events.length < 60, `throttled: ${events.length} events`);

    const seen = hub.requests.length;
    const again: LoadProgress[] = [];
    const second = await bosLogits(REPO, { hubUrl: hub.url, cacheDir, onProgress: (p) => again.push(p) });
    assert.equal(hub.requests.length, seen, 'the second load sends no request to the hub');
    assert.deepEqual(second.logits, local);
    assert.deepEqual(phasesOf(again), ['cache-read', 'compile', 'ready']);

    await hub.stop();
    try {
      assert.deepEqual((await bosLogits(REPO, { hubUrl: hub.url, cacheDir })).logits, local, 'offline, from the cache');
      await assert.rejects(bosLogits(REPO, { hubUrl: hub.url, cacheDir: freshCache() }), (e: unknown) => e instanceof DownloadError && /could not fetch/.test(e.message));
    } finally {
      await hub.restart();
    }
  });

  test('a named file, a folder at a revision, hf:, quantization, and cache: false (Range requests, nothing stored)', async () => {
    const cacheDir = freshCache();
    const name = async (id: string, extra: LocateOptions = {}) => {
      const location = await locateModel(id, fetchOpts(cacheDir, { headerOnly: true, ...extra }));
      assert.equal(location.kind, 'gguf');
      await location.source.close?.();
      return location.source.name.slice(hub.url.length);
    };
    assert.equal(await name(`${REPO}/stories260K-F32.gguf`), `/${REPO}/resolve/main/stories260K-F32.gguf`);
    assert.equal(await name(`hf:${REPO}`, { quantization: 'F32' }), `/${REPO}/resolve/main/stories260K-F32.gguf`);
    assert.equal(await name(`${REPO}@v2`), `/${REPO}/resolve/v2/v2/stories260K-F32.gguf`);
    assert.equal(await name(`${REPO}@v2/v2`), `/${REPO}/resolve/v2/v2/stories260K-F32.gguf`);

    const before = hub.fileRequests().length;
    const streamed = await bosLogits(`${REPO}/stories260K-F32.gguf`, { hubUrl: hub.url, cacheDir, cache: false });
    const ranges = hub.fileRequests().slice(before);
    assert.ok(ranges.length > 1 && ranges.every((r) => r.range), 'every request is a Range request');
    assert.deepEqual(streamed.logits, (await bosLogits(F32)).logits);
    const cache = (await ModelCache.open({ cacheDir }))!;
    assert.ok((await cache.list()).every((f) => !f.url.endsWith('F32.gguf') || !f.complete), 'cache: false stores nothing');
  });

  test('a split GGUF loads as one model, by id and from a local path to any part', async () => {
    const parts = await splitGGUF(F32, 3);
    hub.addRepo('tests/split', parts.map((bytes, i) => ({ path: `stories260K-F32-0000${i + 1}-of-00003.gguf`, bytes })));
    const { logits: whole } = await bosLogits(F32);
    const cacheDir = freshCache();
    assert.deepEqual((await bosLogits('tests/split', { hubUrl: hub.url, cacheDir })).logits, whole);
    const dir = join(root, 'split');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    for (const [i, bytes] of parts.entries()) await writeFile(join(dir, `s-0000${i + 1}-of-00003.gguf`), bytes);
    assert.deepEqual((await bosLogits(join(dir, 's-00002-of-00003.gguf'))).logits, whole);
    // A missing part is named.
    hub.addRepo('tests/split-broken', parts.slice(0, 2).map((bytes, i) => ({ path: `x-0000${i + 1}-of-00003.gguf`, bytes })));
    await assert.rejects(locateModel('tests/split-broken', fetchOpts(cacheDir, { quantization: 'x' })), /no x-00003-of-00003\.gguf/);
  });
});

describe('downloads that fail', () => {
  const FILE = 'stories260K-F32.gguf';
  const ID = `${REPO}/${FILE}`;
  const URL_ = () => `${hub.url}/${REPO}/resolve/main/${FILE}`;
  const cacheOf = async (cacheDir: string) => (await ModelCache.open({ cacheDir }))!;
  /** The cache's entry for the file: stored bytes and whether it counts as complete. */
  const entry = async (cacheDir: string) => (await (await cacheOf(cacheDir)).list()).find((f) => f.url === URL_());

  test('the connection drops mid-body once, then on every response: the download resumes and is byte-exact', async () => {
    hub.clearFaults();
    const once = freshCache();
    const start = hub.fileRequests(FILE).length;
    hub.fault({ file: FILE, dropAfter: 300_000 });
    assert.deepEqual(await locatedBytes(ID, fetchOpts(once)), F32);
    const reqs = hub.fileRequests(FILE).slice(start);
    assert.equal(reqs.length, 2);
    assert.equal(reqs[0]!.range, undefined);
    assert.match(reqs[1]!.range ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(reqs[1]!.range!)![0]) > 0, 'the second request resumes');
    assert.equal((await entry(once))?.verified, 'sha256');

    const repeatedly = freshCache();
    const from = hub.fileRequests(FILE).length;
    hub.fault({ file: FILE, dropAfter: 128 * 1024, times: Infinity });
    try {
      assert.deepEqual(await locatedBytes(ID, fetchOpts(repeatedly)), F32);
    } finally {
      hub.clearFaults();
    }
    const count = hub.fileRequests(FILE).length - from;
    assert.ok(count >= Math.ceil(F32.length / (128 * 1024)), `${count} requests for ${F32.length} bytes in 128 KiB pieces`);
  });

  test('404, 401/403 (gated), 5xx retried or given up, 416 on resume, wrong Content-Length, a corrupted byte', async () => {
    hub.clearFaults();
    const cacheDir = freshCache();
    await assert.rejects(locateModel('tests/no-such-repo', fetchOpts(cacheDir)), (e: unknown) => e instanceof DownloadError && e.status === 404 && /tests\/no-such-repo was not found/.test(e.message));
    await assert.rejects(locateModel(`${REPO}/nope.gguf`, fetchOpts(cacheDir)), (e: unknown) => e instanceof InvalidRequestError && /stories260K-Q8_0\.gguf/.test(e.message));

    hub.addRepo('tests/gated', [{ path: FILE, bytes: F32 }], { token: 'secret' });
    await assert.rejects(locateModel('tests/gated', fetchOpts(freshCache())), (e: unknown) => e instanceof DownloadError && e.status === 401 && /token/.test(e.message));
    await assert.rejects(locateModel('tests/gated', fetchOpts(freshCache(), { token: 'wrong' })), (e: unknown) => e instanceof DownloadError && e.status === 403);
    assert.deepEqual(await locatedBytes('tests/gated', fetchOpts(freshCache(), { token: 'secret' })), F32);
    assert.ok(hub.requests.filter((r) => r.path.includes('tests/gated') && r.status < 400).every((r) => r.authorized));

    // Two 500s are retried; a server that keeps failing gives a DownloadError and keeps what arrived, not complete.
    hub.fault({ file: FILE, status: 500, times: 2 });
    assert.deepEqual(await locatedBytes(ID, fetchOpts(freshCache())), F32);
    const failing = freshCache();
    hub.fault({ file: FILE, dropAfter: 200_000 });
    hub.fault({ file: FILE, status: 503, times: 3 });
    await assert.rejects(locatedBytes(ID, fetchOpts(failing, { retry: { attempts: 2, delayMs: 1 } })), (e: unknown) => e instanceof DownloadError && e.status === 503);
    const partial = await entry(failing);
    assert.ok(partial && !partial.complete && partial.storedBytes > 0 && partial.storedBytes < F32.length, JSON.stringify(partial));
    // The resume meets a 416 (the server's file changed): it starts over and completes.
    hub.fault({ file: FILE, status: 416 });
    const start = hub.fileRequests(FILE).length;
    assert.deepEqual(await locatedBytes(ID, fetchOpts(failing)), F32);
    assert.deepEqual(hub.fileRequests(FILE).slice(start).map((r) => r.range ?? 'whole'), [`bytes=${partial.storedBytes}-`, 'whole']);
    assert.equal((await entry(failing))?.complete, true);

    // A Content-Length that disagrees with the listing's size: typed error, nothing kept.
    const wrongLength = freshCache();
    hub.fault({ file: FILE, contentLengthDelta: 1000 });
    await assert.rejects(locatedBytes(ID, fetchOpts(wrongLength)), (e: unknown) => e instanceof DownloadError && /says the file is \d+ bytes/.test(e.message));
    assert.equal(await entry(wrongLength), undefined);

    // One flipped byte: the SHA-256 from the listing (and ETag) does not match; the entry is discarded.
    const corrupted = freshCache();
    hub.fault({ file: FILE, corruptAt: 123_456 });
    await assert.rejects(locatedBytes(ID, fetchOpts(corrupted)), (e: unknown) => e instanceof DownloadError && /SHA-256/.test(e.message) && /discarded/.test(e.message));
    assert.equal(await entry(corrupted), undefined);
    assert.equal(await (await cacheOf(corrupted)).size(), 0);
    assert.deepEqual(await locatedBytes(ID, fetchOpts(corrupted)), F32, 'the next try downloads it afresh');
  });

  test('streamed by Range requests (cache: false): a read cut mid-body and a 503 are retried for the missing bytes only', async () => {
    hub.clearFaults();
    const location = await locateModel(ID, fetchOpts(freshCache(), { cache: false }));
    assert.equal(location.kind, 'gguf');
    const source = location.source;
    const start = hub.fileRequests(FILE).length;
    hub.fault({ file: FILE, dropAfter: 100_000 });
    hub.fault({ file: FILE, status: 503 });
    try {
      assert.deepEqual(await source.read(4096, 500_000), F32.subarray(4096, 504_096));
    } finally {
      await source.close?.();
    }
    const ranges = hub.fileRequests(FILE).slice(start).map((r) => r.range);
    assert.equal(ranges[0], 'bytes=4096-504095');
    assert.equal(ranges.at(-1), ranges[1], 'the 503 is retried with the same range');
    assert.match(ranges[1]!, /^bytes=(\d+)-504095$/);
    assert.ok(Number(/=(\d+)/.exec(ranges[1]!)![1]) > 4096, 'after the cut, only the missing bytes are asked for');
  });

  test('a slow download aborted by the user stops with an AbortError; the next load resumes from the bytes stored', async () => {
    hub.clearFaults();
    const cacheDir = freshCache();
    const controller = new AbortController();
    hub.fault({ file: FILE, slowMs: 25 });
    const onProgress = (p: LoadProgress) => { if (p.phase === 'download' && p.loaded >= 128 * 1024) controller.abort(); };
    await assert.rejects(locatedBytes(ID, fetchOpts(cacheDir, { signal: controller.signal, onProgress })), (e: unknown) => isAbortError(e));
    const stored = await entry(cacheDir);
    assert.ok(stored && !stored.complete && stored.storedBytes >= 128 * 1024 && stored.storedBytes < F32.length, JSON.stringify(stored));
    const start = hub.fileRequests(FILE).length;
    assert.deepEqual(await locatedBytes(ID, fetchOpts(cacheDir)), F32);
    assert.deepEqual(hub.fileRequests(FILE).slice(start).map((r) => r.range), [`bytes=${stored.storedBytes}-`]);
  });

  test('a model larger than the storage left is refused before any download', async () => {
    hub.clearFaults();
    const cacheDir = freshCache();
    const start = hub.requests.length;
    await assert.rejects(createEngine(REPO, { hubUrl: hub.url, cacheDir, cacheMaxBytes: 100_000 }), (e: unknown) =>
      e instanceof ResourceError && /needs 370\.\d KiB more in the model cache/.test(e.message) && /cacheMaxBytes/.test(e.message));
    assert.deepEqual(hub.requests.slice(start).map((r) => r.path), [`/api/models/${REPO}/tree/main`], 'only the listing was fetched');
  });
});

describe('the model cache', () => {
  test('list, size, delete by id or URL, clear; a hub safetensors repo caches every file it reads', async () => {
    hub.clearFaults();
    const cacheDir = freshCache();
    const { ggufToRepo } = await import('./helpers/hf-writer');
    const repoFiles = await ggufToRepo(F32);
    hub.addRepo('tests/stories260K-hf', Object.entries(repoFiles).map(([path, bytes]) => ({ path, bytes })));
    const fromRepo = await bosLogits('tests/stories260K-hf', { hubUrl: hub.url, cacheDir });
    const fromGGUF = await bosLogits(F32);
    let maxDiff = 0;
    fromGGUF.logits.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - fromRepo.logits[i]!)); });
    assert.ok(maxDiff <= 1e-5, `safetensors repo vs GGUF: max |Δlogit| ${maxDiff}`);
    await locatedBytes(`${REPO}/stories260K-Q8_0.gguf`, fetchOpts(cacheDir));

    const cache = (await ModelCache.open({ cacheDir }))!;
    const listed = await cache.list();
    const names = listed.map((f) => f.url.slice(hub.url.length));
    assert.deepEqual(names, [
      `/${REPO}/resolve/main/stories260K-Q8_0.gguf`,
      ...['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].filter((f) => f in repoFiles).map((f) => `/tests/stories260K-hf/resolve/main/${f}`),
    ].sort());
    assert.ok(listed.every((f) => f.complete && f.storedBytes === f.size));
    assert.equal(listed.find((f) => f.url.endsWith('model.safetensors'))?.verified, 'sha256');
    assert.equal(listed.find((f) => f.url.endsWith('config.json'))?.verified, 'size', 'small non-LFS files are checked by size');
    assert.equal(await cache.size(), listed.reduce((s, f) => s + f.size, 0));

    const requests = hub.requests.length;
    await bosLogits('tests/stories260K-hf', { hubUrl: hub.url, cacheDir });
    assert.equal(hub.requests.length, requests, 'the cached repo loads without a request');

    assert.equal(await cache.delete('tests/stories260K-hf', { hubUrl: hub.url }), listed.length - 1);
    assert.equal((await cache.list()).length, 1);
    assert.equal(await cache.delete(`${hub.url}/${REPO}/resolve/main/stories260K-Q8_0.gguf`), 1);
    assert.equal((await cache.list()).length, 0);
    await locatedBytes(`${REPO}/stories260K-Q8_0.gguf`, fetchOpts(cacheDir));
    await cache.clear();
    assert.equal(await cache.size(), 0);
    assert.deepEqual(await cache.list(), []);
  });
});

describe('checkModel (pre-flight, header only)', () => {
  test('a model that fits: the GPU memory loading will take, from a few Range requests; once cached, no request at all', async () => {
    hub.clearFaults();
    const cacheDir = freshCache();
    const start = hub.requests.length;
    const check = await checkModel(REPO, { hubUrl: hub.url, cacheDir, contextLength: 64 });
    assert.equal(check.ok, true, check.reasons.join('\n'));
    assert.deepEqual(check.reasons, []);
    assert.equal(check.architecture, 'llama');
    assert.equal(check.format, 'gguf');
    assert.equal(check.fileBytes, Q8.length);
    assert.equal(check.downloadBytes, Q8.length);
    assert.ok(check.adapter && check.adapter.maxBufferSize > 0 && check.adapter.precision !== null);
    const fetched = hub.requests.slice(start).filter((r) => r.path.endsWith('.gguf'));
    assert.ok(fetched.every((r) => r.range), 'only Range requests for the GGUF');
    const bytes = fetched.reduce((n, r) => { const m = /bytes=(\d+)-(\d+)/.exec(r.range!); return n + (m ? Number(m[2]) - Number(m[1]) + 1 : 0); }, 0);
    assert.ok(bytes < Q8.length / 2, `${bytes} header bytes of ${Q8.length}`);
    assert.equal((await (await ModelCache.open({ cacheDir }))!.list()).filter((f) => f.complete).length, 0, 'nothing was downloaded into the cache');

    const engine = await createEngine(REPO, { hubUrl: hub.url, cacheDir, contextLength: 64 });
    try {
      assert.equal(check.gpuMemory!.total, engine.model.gpuBytes, 'the estimate is what the loader allocates');
    } finally {
      await engine.dispose();
    }
    const seen = hub.requests.length;
    const cached = await checkModel(REPO, { hubUrl: hub.url, cacheDir, contextLength: 64 });
    assert.equal(hub.requests.length, seen, 'a cached model is checked without the network');
    assert.equal(cached.downloadBytes, 0);
  });

  test('reasons: unsupported architecture, a context too long for one binding, a memory budget, no room in the cache; a missing model throws', async () => {
    const { tinyLlamaSpec, writeGGUF } = await import('./helpers/gguf-writer');
    hub.addRepo('tests/reasons', [
      { path: 'mamba-F32.gguf', bytes: writeGGUF(tinyLlamaSpec({ metadata: { 'general.architecture': 'mamba' } })) },
      { path: 'long-F32.gguf', bytes: writeGGUF(tinyLlamaSpec({ contextLength: 10_000_000 })) },
    ]);
    const cacheDir = freshCache();
    const opts = { hubUrl: hub.url, cacheDir };
    const mamba = await checkModel('tests/reasons/mamba-F32.gguf', opts);
    assert.equal(mamba.ok, false);
    assert.match(mamba.reasons.join('\n'), /mamba/);
    const long = await checkModel('tests/reasons/long-F32.gguf', { ...opts, contextLength: 10_000_000 });
    assert.equal(long.ok, false);
    assert.match(long.reasons.join('\n'), /KV cache of one layer for 10000000 positions needs 305\.2 MiB in one GPU binding.*shorter contextLength/);
    assert.equal((await checkModel('tests/reasons/long-F32.gguf', { ...opts, contextLength: 4096 })).ok, true);
    const budget = await checkModel(REPO, { ...opts, gpuMemoryBudget: 100_000 });
    assert.match(budget.reasons.join('\n'), /needs [\d.]+ [KM]iB of GPU memory \(weights .* more than the 97\.7 KiB available/);
    const storage = await checkModel(REPO, { ...opts, cacheMaxBytes: 1000 });
    assert.equal(storage.ok, false);
    assert.match(storage.reasons.join('\n'), /needs 370\.\d KiB more in the model cache/);
    await assert.rejects(checkModel('tests/no-such-repo', opts), (e: unknown) => e instanceof DownloadError && e.status === 404);
  });
});

describe('CLI', () => {
  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const { execFile } = await import('node:child_process');
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', './scripts/register.mjs', 'src/cli.ts', ...args], { cwd: repoRoot, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  };

  test('--model takes hub ids: inspect reads only the header; generate downloads into --cache-dir', async () => {
    hub.clearFaults();
    const cacheDir = freshCache();
    const hubArgs = ['--hub-url', hub.url, '--cache-dir', cacheDir];
    const inspected = await cli('inspect', '--model', REPO, '--quantization', 'F32', '--json', ...hubArgs);
    assert.equal(inspected.code, 0, inspected.stderr);
    const report = JSON.parse(inspected.stdout);
    assert.equal(report.architecture, 'llama');
    assert.deepEqual(Object.keys(report.tensorTypes), ['F32']);
    assert.equal(report.fileBytes, F32.length);
    assert.equal((await (await ModelCache.open({ cacheDir }))!.list()).length, 0, 'inspect downloads nothing');

    const generated = await cli('generate', '--model', `${REPO}/stories260K-Q8_0.gguf`, '--prompt', 'Once upon a time', '--max-tokens', '8', '--precision', 'f32', '--json', ...hubArgs);
    assert.equal(generated.code, 0, generated.stderr);
    const engine = await createEngine(Q8, { precision: 'f32' });
    try {
      const expected = await engine.generate('Once upon a time', { maxTokens: 8 }).result;
      assert.deepEqual(JSON.parse(generated.stdout).tokens, expected.tokens);
    } finally {
      await engine.dispose();
    }
    assert.equal((await (await ModelCache.open({ cacheDir }))!.list()).filter((f) => f.complete).length, 1, 'generate cached the file');
  });
});
