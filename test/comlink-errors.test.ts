// Errors thrown in the worker reach the page as the same class with the same fields: a real comlink
// boundary (a MessageChannel, the transport the worker's postMessage uses), not a round trip of the helpers.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as Comlink from 'comlink';
import { installTypedErrors } from '../src/engine/comlink-errors';
import { DownloadError, FormatError, InvalidRequestError, isAbortError, abortError } from '../src/errors';

installTypedErrors();
const { port1, port2 } = new MessageChannel();
const thrower = {
  fail(kind: string): never {
    if (kind === 'download') throw new DownloadError('HTTP 503 from the hub', { status: 503, retryable: true });
    if (kind === 'not-found') throw new DownloadError('HTTP 404', { status: 404 });
    if (kind === 'format') throw new FormatError('bad file', { cause: new DownloadError('connection lost', { retryable: true }) });
    if (kind === 'abort') throw abortError('stopped');
    throw new InvalidRequestError('bad option');
  },
};
Comlink.expose(thrower, port1 as unknown as Comlink.Endpoint);
const remote = Comlink.wrap<typeof thrower>(port2 as unknown as Comlink.Endpoint);
after(() => { port1.close(); port2.close(); });

test('DownloadError keeps status and retryable across the worker boundary', async () => {
  await assert.rejects(remote.fail('download'), (e: unknown) => {
    assert.ok(e instanceof DownloadError, String(e));
    assert.equal(e.message, 'HTTP 503 from the hub');
    assert.equal(e.code, 'download');
    assert.equal(e.status, 503);
    assert.equal(e.retryable, true);
    return true;
  });
  await assert.rejects(remote.fail('not-found'), (e: unknown) => e instanceof DownloadError && e.status === 404 && e.retryable === false);
});

test('other classes, their causes and AbortError come through typed', async () => {
  await assert.rejects(remote.fail('format'), (e: unknown) => {
    assert.ok(e instanceof FormatError);
    const cause = (e as Error).cause;
    assert.ok(cause instanceof DownloadError && cause.retryable === true && cause.message === 'connection lost', String(cause));
    return true;
  });
  await assert.rejects(remote.fail('abort'), (e: unknown) => isAbortError(e) && (e as Error).message === 'stopped');
  await assert.rejects(remote.fail('invalid'), InvalidRequestError);
});
