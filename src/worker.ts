import * as Comlink from 'comlink';
import { workerEngine } from './engine/worker-api';

Comlink.expose(workerEngine);
