// Dedicated-Worker side of kernels.html: the engine runs in a worker, so the kernels must work there too.
import { runKernelCasesOnFreshDevice } from './kernels-run';

postMessage(await runKernelCasesOnFreshDevice());
