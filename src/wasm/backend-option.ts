// The backend option as createEngine checks it on the page: kept apart from the choice itself
// (choose-backend.ts), which reads adapters, so that the page bundle carries no GPU code.
import { InvalidRequestError } from '../errors';

export type Backend = 'webgpu' | 'wasm';
export type BackendOption = 'auto' | Backend;
const BACKEND_OPTIONS: readonly BackendOption[] = ['auto', 'webgpu', 'wasm'];

/** Throws InvalidRequestError unless `value` is a BackendOption (undefined means 'auto'). */
export function checkBackendOption(value: unknown): BackendOption {
  if (value === undefined) return 'auto';
  if (typeof value === 'string' && (BACKEND_OPTIONS as readonly string[]).includes(value)) return value as BackendOption;
  throw new InvalidRequestError(`backend must be one of ${BACKEND_OPTIONS.map((b) => `'${b}'`).join(', ')}, got ${JSON.stringify(value) ?? String(value)}`);
}
