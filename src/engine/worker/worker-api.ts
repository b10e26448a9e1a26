// What the worker exposes: the engine core plus the typed-error transfer handler.
import { installTypedErrors } from '../comlink-errors';
import { LocalEngineCore } from './core';

installTypedErrors();

export const workerEngine = new LocalEngineCore();
