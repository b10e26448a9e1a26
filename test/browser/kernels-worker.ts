// Dedicated-Worker side of kernels.html: the engine runs in a worker, so the kernels must work there too. The cases
// are split by a hash of their names (inWorker): the worker runs a quarter, the page the other three quarters, so
// every case runs once in Chromium and every kernel family is sampled in both contexts.
import { inWorker, runKernelCasesOnFreshDevice } from './kernels-run';

postMessage(await runKernelCasesOnFreshDevice(inWorker));
