// Dedicated-Worker side of kernels.html: the engine runs in a worker, so the kernels must work there too. The page
// runs every case on the same adapter; here a fixed quarter of them (chosen by a hash of the name, so every kernel
// family is sampled) proves the worker's device gives the same results, at a quarter of the time.
import { seedFromString } from '../helpers/seeded';
import { runKernelCasesOnFreshDevice } from './kernels-run';

postMessage(await runKernelCasesOnFreshDevice((name) => seedFromString(name) % 4 === 0));
