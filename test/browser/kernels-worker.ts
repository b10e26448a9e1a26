// Dedicated-Worker side of kernels.html: the engine runs in a worker, so the kernels must work there too. The cases
// Chromium runs are split by a hash of their names (inWorker): the worker runs a quarter, the page the other three
// quarters, so each runs once in Chromium and every kernel family is sampled in both contexts.
import { chromiumCases, inWorker, runKernelCasesOnFreshDevice } from './kernels-run';

const chosen = chromiumCases();
postMessage(await runKernelCasesOnFreshDevice((name) => chosen.has(name) && inWorker(name)));
