// Page side of kernels.html: runs the cases here or in a dedicated Worker, per ?where=page|worker.
import { chromiumCases, inWorker, runKernelCasesOnFreshDevice, type KernelRun } from './kernels-run';

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

const params = new URLSearchParams(location.search);
const where = params.get('where') ?? 'page';
// ?cases=<regular expression>: only the cases whose names match, in the page (for working on one kernel).
const cases = params.get('cases');
const chosen = chromiumCases();
const run = where === 'worker' ? runInWorker() : runKernelCasesOnFreshDevice(cases ? (name) => new RegExp(cases).test(name) : (name) => chosen.has(name) && !inWorker(name));
window.__kernelRun = run;
void run.then((r) => {
  const status = document.getElementById('status')!;
  status.textContent = r.ok ? `${where}: ${r.results.filter((x) => x.ok).length}/${r.results.length} ok on ${r.adapter}` : `${where}: ${r.error}`;
});
