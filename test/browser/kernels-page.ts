// Page side of kernels.html: runs the cases here or in a dedicated Worker, per ?where=page|worker.
import { runKernelCasesOnFreshDevice, type KernelRun } from './kernels-run';

declare global {
  interface Window { __kernelRun?: Promise<KernelRun> }
}

function runInWorker(): Promise<KernelRun> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./kernels-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<KernelRun>) => { worker.terminate(); resolve(e.data); };
    worker.onerror = (e) => { worker.terminate(); resolve({ ok: false, error: `Worker error: ${e.message} (${e.filename}:${e.lineno})` }); };
  });
}

const where = new URLSearchParams(location.search).get('where') ?? 'page';
const run = where === 'worker' ? runInWorker() : runKernelCasesOnFreshDevice();
window.__kernelRun = run;
void run.then((r) => {
  const status = document.getElementById('status')!;
  status.textContent = r.ok ? `${where}: ${r.results.filter((x) => x.ok).length}/${r.results.length} ok on ${r.adapter}` : `${where}: ${r.error}`;
});
