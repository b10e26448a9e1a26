import * as Comlink from 'comlink';
import { workerEngine } from './engine/worker/worker-api';

Comlink.expose(workerEngine);
