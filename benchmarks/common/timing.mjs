// The timing loop: warm-up runs, then repeated runs until a protocol's minimums are met.
import { performance } from 'node:perf_hooks';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall-clock ms of one run; `iter` may return a promise, which is awaited. */
export async function timeOnce(iter) {
  const t0 = performance.now();
  const r = iter();
  if (r !== undefined) await r;
  return performance.now() - t0;
}

/**
 * Warm up, then repeat until both minRuns and minTimeMs are reached; median of the timed runs.
 * `protocol` is { warmup, minRuns, minTimeMs, maxRuns }. A warm-up run over `capMs` (when given)
 * ends the measurement with that one run.
 */
export async function measure(iter, protocol, capMs) {
  for (let i = 0; i < protocol.warmup; i++) {
    const t = await timeOnce(iter);
    if (capMs !== undefined && t > capMs) return { ms: t, runs: 1, capped: true };
  }
  const times = [];
  let total = 0;
  while ((times.length < protocol.minRuns || total < protocol.minTimeMs) && times.length < protocol.maxRuns) {
    const t = await timeOnce(iter);
    times.push(t);
    total += t;
  }
  return { ms: median(times), runs: times.length, capped: false };
}
