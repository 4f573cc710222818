// Agreement of a result with its float64 reference.

/** max |out − ref| / max |ref| against `tol`, with NaN mismatches counted separately. */
export function compare(out, ref, tol) {
  if (out.length !== ref.length) return { ok: false, detail: `length ${out.length}, expected ${ref.length}` };
  let maxDiff = 0;
  let scale = 0;
  let nan = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const v = out[i];
    if (Number.isNaN(v) !== Number.isNaN(r)) { nan++; continue; }
    const d = Math.abs(v - r);
    if (d > maxDiff) maxDiff = d;
    const a = Math.abs(r);
    if (a > scale) scale = a;
  }
  const rel = maxDiff / Math.max(scale, 1e-30);
  const ok = nan === 0 && rel <= tol;
  return { ok, maxAbsDiff: maxDiff, relDiff: rel, detail: nan ? `${nan} NaN mismatches` : `max|diff| ${maxDiff.toExponential(2)} = ${rel.toExponential(2)} of max|ref| (tol ${tol})` };
}
