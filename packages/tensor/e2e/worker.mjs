// The module worker the test page starts: a context that may block (Atomics.wait), so in a
// cross-origin-isolated page the runtime can run on several threads here. Computes the cases
// with 3 threads asked for, with 1, and (`?ts=1`) on the TypeScript kernels; posts the probes.
import * as T from '/tensor/index.js';
import { encodeProbe, installSpies, probe } from './probe.mjs';

const spies = installSpies();
try {
  const probes = [
    await probe(T, spies, { label: 'worker, threads 3', request: { threads: 3 } }),
    await probe(T, spies, { label: 'worker, threads 1', request: { threads: 1 } }),
  ];
  if (new URL(self.location.href).searchParams.get('ts') === '1') {
    probes.push(await probe(T, spies, { label: 'worker, TypeScript kernels', request: null }));
  }
  const env = { crossOriginIsolated: self.crossOriginIsolated === true, sharedArrayBuffer: typeof SharedArrayBuffer, cores: navigator.hardwareConcurrency };
  postMessage({ ok: true, env, probes: probes.map(encodeProbe) });
} catch (e) {
  postMessage({ ok: false, error: e instanceof Error ? e.stack || e.message : String(e) });
}
