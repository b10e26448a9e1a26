// Comlink passes thrown errors as plain Errors with only name and message. This handler sends
// our serialized form instead, so the page gets a real FormatError, ResourceError, AbortError, ...
import * as Comlink from 'comlink';
import { deserializeError, serializeError, type SerializedError } from '../errors';

const builtin = Comlink.transferHandlers.get('throw')!;

/** Call on both sides of the boundary (page and worker) before any call crosses it. */
export function installTypedErrors(): void {
  Comlink.transferHandlers.set('throw', {
    canHandle: builtin.canHandle,
    serialize: (thrown: unknown) => [serializeError((thrown as { value: unknown }).value), []],
    deserialize: (s: unknown) => { throw deserializeError(s as SerializedError); },
  });
}
