/** Matrix products: matmul (batched, broadcast), dot, outer and einsum. */
import { arithmeticType, promoteTypes } from '../dtype.js';
import { apply1, assertAlive } from '../engine.js';
import { fail, fmt } from '../errors.js';
import { broadcastShapes, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast, mul } from './elementwise.js';
import { diagonal } from './indexing.js';
import { sum } from './reduce.js';
import { expandTo, permute, reshape } from './shape.js';

/**
 * Matrix product with NumPy semantics: (…, M, K) @ (…, K, N) → (…, M, N) with the batch dims
 * broadcast; a 1-D left operand is a row vector and a 1-D right operand a column vector (that dim
 * is removed from the result).
 *
 * @example
 * ```ts
 * const y = matmul(x, w);          // (B, T, C) @ (C, D) → (B, T, D)
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const op = 'matmul';
  assertAlive(op, a, b);
  if (a.rank === 0 || b.rank === 0) fail(op, `cannot multiply ${fmt(a.shape)} by ${fmt(b.shape)}: 0-d operand`);
  const temps: Tensor[] = [];
  const keep = (t: Tensor) => (temps.push(t), t);
  try {
    const a2 = a.rank === 1 ? keep(reshape(a, [1, a.shape[0]])) : a;
    const b2 = b.rank === 1 ? keep(reshape(b, [b.shape[0], 1])) : b;
    const [m, k] = a2.shape.slice(-2);
    const [k2, n] = b2.shape.slice(-2);
    if (k !== k2) fail(op, `cannot multiply ${fmt(a.shape)} by ${fmt(b.shape)}: inner dims ${k} and ${k2} differ`);
    const batch = broadcastShapes(op, a2.shape.slice(0, -2), b2.shape.slice(0, -2));
    const dtype = arithmeticType(promoteTypes(a.dtype, b.dtype));
    const prep = (t: Tensor, rows: number, cols: number): Tensor => {
      let u = t.dtype === dtype ? t : keep(cast(t, dtype));
      const target = [...batch, rows, cols];
      if (!shapesEqual(u.shape, target)) u = keep(expandTo(op, u, target));
      return u;
    };
    const out = apply1(op, [prep(a2, m, k), prep(b2, k, n)]);
    if (a.rank > 1 && b.rank > 1) return out;
    keep(out);
    const shape = [...batch, ...(a.rank > 1 ? [m] : []), ...(b.rank > 1 ? [n] : [])];
    return reshape(out, shape);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** Inner product of two 1-D tensors (a scalar), or matmul for higher ranks. */
export function dot(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 1 && b.rank === 1 && a.shape[0] !== b.shape[0]) {
    fail('dot', `vectors have different lengths: ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  return matmul(a, b);
}

/** Outer product of two 1-D tensors: out[i, j] = a[i]·b[j]. */
export function outer(a: Tensor, b: Tensor): Tensor {
  if (a.rank !== 1 || b.rank !== 1) fail('outer', `expects two 1-D tensors, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const col = reshape(a, [a.shape[0], 1]);
  try {
    return mul(col, b);
  } finally {
    col.dispose();
  }
}

interface Term {
  t: Tensor;
  letters: string;
}

function parseEinsum(spec: string, count: number): { inputs: string[]; output: string } {
  const op = 'einsum';
  const clean = spec.replace(/\s+/g, '');
  const [lhs, rhs, extra] = clean.split('->');
  if (extra !== undefined) fail(op, `"${spec}" has more than one "->"`);
  const inputs = lhs.split(',');
  if (inputs.length !== count) fail(op, `"${spec}" names ${inputs.length} operands but ${count} were given`);
  for (const s of [...inputs, rhs ?? '']) {
    if (!/^[a-zA-Z]*$/.test(s)) fail(op, `"${spec}": subscripts must be letters (ellipsis is not supported)`);
  }
  let output = rhs;
  if (output === undefined) {
    const counts = new Map<string, number>();
    for (const c of inputs.join('')) counts.set(c, (counts.get(c) ?? 0) + 1);
    output = [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort().join('');
  }
  if (new Set(output).size !== output.length) fail(op, `"${spec}": output subscripts repeat`);
  for (const c of output) {
    if (!inputs.some((s) => s.includes(c))) fail(op, `"${spec}": output letter "${c}" is not in any input`);
  }
  return { inputs, output };
}

/** Takes repeated letters of one operand along its diagonal ("ii" → "i"). */
function takeDiagonals(term: Term, temps: Tensor[]): Term {
  let { t, letters } = term;
  for (;;) {
    const dup = [...letters].findIndex((c, i) => letters.indexOf(c) !== i);
    if (dup < 0) return { t, letters };
    const first = letters.indexOf(letters[dup]);
    if (t.shape[first] !== t.shape[dup]) fail('einsum', `letter "${letters[dup]}" has sizes ${t.shape[first]} and ${t.shape[dup]}`);
    t = diagonal(t, 0, first, dup);
    temps.push(t);
    letters = letters.split('').filter((_, i) => i !== first && i !== dup).join('') + letters[dup];
  }
}

/** Sums out the letters of `term` that are not in `needed`. */
function sumUnneeded(term: Term, needed: Set<string>, temps: Tensor[]): Term {
  const axes = [...term.letters].flatMap((c, i) => (needed.has(c) ? [] : [i]));
  if (axes.length === 0) return term;
  const t = sum(term.t, axes);
  temps.push(t);
  return { t, letters: [...term.letters].filter((c) => needed.has(c)).join('') };
}

/** Contracts two operands with one batched matmul. */
function contract(a: Term, b: Term, needed: Set<string>, temps: Tensor[]): Term {
  const size = (c: string) => (a.letters.includes(c) ? a.t.shape[a.letters.indexOf(c)] : b.t.shape[b.letters.indexOf(c)]);
  for (const c of a.letters) {
    if (b.letters.includes(c) && a.t.shape[a.letters.indexOf(c)] !== b.t.shape[b.letters.indexOf(c)]) {
      fail('einsum', `letter "${c}" has sizes ${a.t.shape[a.letters.indexOf(c)]} and ${b.t.shape[b.letters.indexOf(c)]}`);
    }
  }
  const shared = [...a.letters].filter((c) => b.letters.includes(c));
  const batch = shared.filter((c) => needed.has(c));
  const summed = shared.filter((c) => !needed.has(c));
  const aOnly = [...a.letters].filter((c) => !b.letters.includes(c));
  const bOnly = [...b.letters].filter((c) => !a.letters.includes(c));
  const arrange = (term: Term, order: string[], shape: number[]): Tensor => {
    const p = permute(term.t, order.map((c) => term.letters.indexOf(c)));
    temps.push(p);
    const r = reshape(p, shape);
    temps.push(r);
    return r;
  };
  const nb = sizeOf(batch.map(size));
  const m = sizeOf(aOnly.map(size));
  const k = sizeOf(summed.map(size));
  const n = sizeOf(bOnly.map(size));
  const left = arrange(a, [...batch, ...aOnly, ...summed], [nb, m, k]);
  const right = arrange(b, [...batch, ...summed, ...bOnly], [nb, k, n]);
  const prod = matmul(left, right);
  temps.push(prod);
  const letters = [...batch, ...aOnly, ...bOnly];
  const out = reshape(prod, letters.map(size));
  temps.push(out);
  return { t: out, letters: letters.join('') };
}

/**
 * Einstein summation over letter subscripts, e.g. `'ij,jk->ik'` (matmul), `'bij,bjk->bik'`,
 * `'ii->i'` (diagonal), `'ii'` (trace), `'ij->ji'`, `'i,i->'` (dot), `'i,j->ij'` (outer).
 * Without `->` the output is the letters used once, sorted. Contractions run pairwise left to
 * right as batched matmuls.
 */
export function einsum(spec: string, ...operands: Tensor[]): Tensor {
  const { inputs, output } = parseEinsum(spec, operands.length);
  assertAlive('einsum', ...operands);
  const temps: Tensor[] = [];
  try {
    const terms: Term[] = operands.map((t, i) => {
      if (t.rank !== inputs[i].length) {
        fail('einsum', `operand ${i} has shape ${fmt(t.shape)} but subscripts "${inputs[i]}"`);
      }
      return takeDiagonals({ t, letters: inputs[i] }, temps);
    });
    const neededAfter = (i: number) => new Set([...output, ...terms.slice(i + 1).flatMap((x) => [...x.letters])]);
    let acc = sumUnneeded(terms[0], neededAfter(0), temps);
    for (let i = 1; i < terms.length; i++) {
      const needed = neededAfter(i);
      const next = sumUnneeded(terms[i], new Set([...needed, ...acc.letters]), temps);
      acc = contract(acc, next, needed, temps);
    }
    acc = sumUnneeded(acc, new Set(output), temps);
    // a view over the last intermediate, whose buffer stays alive while the view does
    return permute(acc.t, [...output].map((c) => acc.letters.indexOf(c)));
  } finally {
    for (const t of temps) t.dispose();
  }
}
