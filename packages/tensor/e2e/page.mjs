// The test page's script: computes the cases on the page's main thread (which cannot block, so
// the runtime must run on one thread there), then in a module worker (see worker.mjs), and
// leaves everything in window.__e2e for the test to read.
import * as T from '/tensor/index.js';
import { encodeProbe, installSpies, probe } from './probe.mjs';

/** Starts the worker and resolves with its report. */
function runWorker(url) {
  return new Promise((resolve) => {
    const w = new Worker(url, { type: 'module' });
    w.onmessage = (e) => {
      resolve(e.data);
      w.terminate();
    };
    w.onerror = (e) => resolve({ ok: false, error: `the worker failed to run: ${e.message || 'error event'}` });
  });
}

const report = {};
try {
  report.env = { crossOriginIsolated: self.crossOriginIsolated === true, sharedArrayBuffer: typeof SharedArrayBuffer, cores: navigator.hardwareConcurrency };
  const spies = installSpies();
  report.page = [
    await probe(T, spies, { label: 'page, default threads', request: {} }),
    await probe(T, spies, { label: 'page, threads 3', request: { threads: 3 } }),
  ].map(encodeProbe);
  // the TypeScript kernels run once, in the isolated page's worker
  report.worker = await runWorker(`/e2e/worker.mjs${self.crossOriginIsolated ? '?ts=1' : ''}`);
} catch (e) {
  report.error = e instanceof Error ? e.stack || e.message : String(e);
}
window.__e2e = report;
document.body.dataset.done = 'true';
