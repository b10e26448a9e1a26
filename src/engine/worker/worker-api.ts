// What the worker exposes: the engine core (on the backend each load chooses) plus the typed-error transfer handler.
import { installTypedErrors } from '../comlink-errors';
import { BackendCore } from '../../wasm/backend-core';

installTypedErrors();

export const workerEngine = new BackendCore();
