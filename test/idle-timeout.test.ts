// A server that accepts the connection and then goes silent — before the response headers, after them, or in
// the middle of the body — must not leave a load pending forever: after `idleTimeoutMs` without a byte the
// request counts as a dropped connection (retried by the retry policy) and finally fails with a DownloadError
// saying the server stopped responding. The server here is a local node:http one that stalls on purpose.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, DownloadError, InvalidRequestError } from '../src/index';
import { openUrlSource } from '../src/io/url-source';
import { repoRoot } from './helpers/browser';
import { StallingServer } from './helpers/stalling-server';

const MODEL = new Uint8Array(await readFile(join(repoRoot, 'public/stories260K.gguf')));
/** Short, so a stalled request gives up quickly; the real default is 30 s. */
const IDLE = 400;
/** Only a guard: on code without the idle timeout these tests would otherwise hang instead of failing. */
const GUARD = { timeout: 60_000 };

const stalled = (e: unknown) => e instanceof DownloadError && /stopped responding/.test(e.message) && /idleTimeoutMs/.test(e.message);

let server: StallingServer;
let root: string;
before(async () => {
  server = new StallingServer(MODEL);
  await server.start();
  root = await mkdtemp(join(tmpdir(), 'hearth-idle-'));
});
after(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('a server that stops sending', () => {
  test('no response headers: retried like a dropped connection, then a DownloadError saying it stopped responding', GUARD, async () => {
    server.set([], 'no-headers');
    await assert.rejects(openUrlSource(server.url, { idleTimeoutMs: IDLE, retry: { attempts: 2, delayMs: 1 } }), stalled);
    assert.equal(server.ranges.length, 3, 'the first request and two retries');

    server.set(['no-headers'], 'ok');
    const source = await openUrlSource(server.url, { idleTimeoutMs: IDLE, retry: { attempts: 2, delayMs: 1 } });
    assert.equal(source.size, MODEL.length);
    assert.deepEqual(await source.read(1000, 64), MODEL.subarray(1000, 1064));
  });

  test('headers, then no body: the read is retried, then fails the same way', GUARD, async () => {
    server.set([], 'ok');
    const source = await openUrlSource(server.url, { idleTimeoutMs: IDLE, retry: { attempts: 1, delayMs: 1 } });
    server.set([], 'headers-only');
    await assert.rejects(source.read(0, 4096), stalled);
    assert.equal(server.ranges.length, 2);

    server.set(['headers-only'], 'ok');
    assert.deepEqual(await source.read(0, 4096), MODEL.subarray(0, 4096));
  });

  test('silent mid-body: the retry asks only for the missing bytes; silent every time, it fails', GUARD, async () => {
    server.set([], 'ok');
    const source = await openUrlSource(server.url, { idleTimeoutMs: IDLE, retry: { attempts: 1, delayMs: 1 } });
    server.set(['half-body'], 'ok');
    assert.deepEqual(await source.read(10_000, 200_000), MODEL.subarray(10_000, 210_000));
    assert.deepEqual(server.ranges, ['bytes=10000-209999', 'bytes=110000-209999']);

    // Progress resets the count of retries in a row; two silent answers in a row after it end the read.
    server.set(['half-body', 'headers-only'], 'headers-only');
    await assert.rejects(source.read(300_000, 100_000), stalled);
    assert.equal(server.ranges.length, 3);
  });

  test('createEngine rejects instead of hanging, streamed or downloaded into the cache; one stall is survived', GUARD, async () => {
    const options = { idleTimeoutMs: IDLE, retry: { attempts: 1, delayMs: 1 } };
    for (const mode of ['no-headers', 'headers-only', 'half-body'] as const) {
      // The size probe is answered, then requests stall (after half a body, every answer is silent).
      const then = mode === 'half-body' ? 'headers-only' : mode;
      server.set(['ok', mode], then);
      await assert.rejects(createEngine(server.url, options), stalled, mode);
      server.set(['ok', mode], then);
      await assert.rejects(createEngine(server.url, { ...options, cache: true, cacheDir: join(root, `stalled-${mode}`) }), stalled, `${mode}, cache`);
    }
    server.set(['ok', 'half-body'], 'ok');
    const engine = await createEngine(server.url, { ...options, cache: true, cacheDir: join(root, 'resumed') });
    assert.equal(engine.model.vocabSize, 512);
    await engine.dispose();
  });

  test('idleTimeoutMs must be a positive number of milliseconds', async () => {
    server.set([], 'ok');
    for (const bad of [0, -1, NaN, '30000', null]) {
      await assert.rejects(createEngine(server.url, { idleTimeoutMs: bad as number }), (e: unknown) => e instanceof InvalidRequestError && /idleTimeoutMs/.test(e.message), String(bad));
    }
    assert.equal(server.ranges.length, 0, 'refused before any request');
  });
});
