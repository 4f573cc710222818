/**
 * Matrix multiplication by function composition, in the function-level style (FP) of Backus's
 * Turing lecture: build the inner product IP and the matrix product MM from a few combining
 * forms, trace them on small examples, and check MM against `matmul` from @ml/tensor.
 */
import { matmul, random } from '@ml/tensor';
import type { NoteContext } from '../src/runtime/context.js';

// FP objects are numbers and sequences ⟨x1, …, xn⟩ (here: JS arrays). Every function takes ONE
// object and returns one object; a function of two arguments takes a pair ⟨x, y⟩.
type Fn<A, B> = (x: A) => B;
type Vec = number[]; // ⟨x1, …, xn⟩
type Mat = number[][]; // a sequence of rows

// ---- Combining forms: they take functions and build new functions.

/** Composition ∘:  (f ∘ g):x = f:(g:x). `comp(f, g, h)` is f ∘ g ∘ h, so h runs first. */
export function comp<A, B, C>(f: Fn<B, C>, g: Fn<A, B>): Fn<A, C>;
export function comp<A, B, C, D>(f: Fn<C, D>, g: Fn<B, C>, h: Fn<A, B>): Fn<A, D>;
export function comp<A, B, C, D, E>(f: Fn<D, E>, g: Fn<C, D>, h: Fn<B, C>, k: Fn<A, B>): Fn<A, E>;
export function comp(...fns: Fn<unknown, unknown>[]): Fn<unknown, unknown> {
  return (x) => fns.reduceRight((acc, f) => f(acc), x);
}

/** Construction [f, g]:  [f, g]:x = ⟨f:x, g:x⟩ (the post calls it `cat`). */
export const construct = <A, B, C>(f: Fn<A, B>, g: Fn<A, C>): Fn<A, [B, C]> => (x) => [f(x), g(x)];

/** Apply to all α:  αf:⟨x1, …, xn⟩ = ⟨f:x1, …, f:xn⟩. */
export const alpha = <A, B>(f: Fn<A, B>): Fn<A[], B[]> => (xs) => xs.map((x) => f(x));

/** Insert /:  /f:⟨x⟩ = x,  /f:⟨x1, x2, …, xn⟩ = f:⟨x1, /f:⟨x2, …, xn⟩⟩ (a fold from the right). */
export const insert = <T>(f: Fn<[T, T], T>): Fn<T[], T> => (xs) => xs.reduceRight((acc, x) => f([x, acc]));

// ---- Primitive functions.

/** trans:⟨⟨1, 2, 3⟩, ⟨6, 5, 4⟩⟩ = ⟨⟨1, 6⟩, ⟨2, 5⟩, ⟨3, 4⟩⟩ (rows become columns). */
export const trans = <T>(rows: T[][]): T[][] => rows[0].map((_, j) => rows.map((row) => row[j]));
/** distl:⟨y, ⟨z1, …, zn⟩⟩ = ⟨⟨y, z1⟩, …, ⟨y, zn⟩⟩ (distribute from the left). */
export const distl = <A, B>([y, zs]: [A, B[]]): [A, B][] => zs.map((z) => [y, z]);
/** distr:⟨⟨y1, …, yn⟩, z⟩ = ⟨⟨y1, z⟩, …, ⟨yn, z⟩⟩ (distribute from the right). */
export const distr = <A, B>([ys, z]: [A[], B]): [A, B][] => ys.map((y) => [y, z]);
/** Selectors 1 and 2: 1:⟨x, y⟩ = x, 2:⟨x, y⟩ = y. */
const first = <A, B>([x]: [A, B]): A => x;
const second = <A, B>([, y]: [A, B]): B => y;
/** + and × take a pair. */
const add = ([x, y]: Vec) => x + y;
const mul = ([x, y]: Vec) => x * y;

// ---- The programs.

/** IP ≡ (/+) ∘ (α×) ∘ trans: pair up the entries, multiply each pair, add them all. */
export const IP: Fn<Mat, number> = comp(insert(add), alpha(mul), trans);

/**
 * MM ≡ (α α IP) ∘ (α distl) ∘ distr ∘ [1, trans ∘ 2]. The type arguments say what flows where:
 * A's rows and B's columns are vectors (Vec), and Bᵀ is a sequence of B's columns (Mat).
 */
export const MM: Fn<[Mat, Mat], Mat> = comp(
  alpha(alpha(IP)), // ⟨⟨⟨a_i, b_j⟩ : j⟩ : i⟩ → ⟨⟨IP:⟨a_i, b_j⟩ : j⟩ : i⟩
  alpha(distl<Vec, Vec>), // ⟨⟨a_i, Bᵀ⟩ : i⟩ → ⟨⟨⟨a_i, b_j⟩ : j⟩ : i⟩
  distr<Vec, Mat>, // ⟨A, Bᵀ⟩ → ⟨⟨a_i, Bᵀ⟩ : i⟩
  construct(first<Mat, Mat>, comp(trans<number>, second<Mat, Mat>)), // ⟨A, B⟩ → ⟨A, Bᵀ⟩
);

const show = (x: unknown) => JSON.stringify(x);

export default async function run(ctx: NoteContext) {
  // ---- 1. The post's example of construction: [square, cube]:2 = ⟨4, 8⟩.
  const squareCube = construct((x: number) => x ** 2, (x: number) => x ** 3)(2);
  ctx.print(`[square, cube]:2 = ${show(squareCube)}`);

  // ---- 2. IP on Backus's example, one stage at a time.
  const pair: Mat = [[1, 2, 3], [6, 5, 4]]; // ⟨⟨1, 2, 3⟩, ⟨6, 5, 4⟩⟩
  const ipStages = [
    { stage: 'x', value: show(pair) },
    { stage: 'trans:x', value: show(trans(pair)) },
    { stage: '(α×) ∘ trans:x', value: show(comp(alpha(mul), trans<number>)(pair)) },
    { stage: '(/+) ∘ (α×) ∘ trans:x = IP:x', value: show(IP(pair)) },
  ];
  ctx.table(ipStages, { caption: 'IP:⟨⟨1, 2, 3⟩, ⟨6, 5, 4⟩⟩' });

  // ---- 3. MM on a 2 × 2 example, one stage at a time.
  const A: Mat = [[1, 2], [3, 4]];
  const B: Mat = [[5, 6], [7, 8]];
  const s1 = construct(first<Mat, Mat>, comp(trans<number>, second<Mat, Mat>))([A, B]); // ⟨A, Bᵀ⟩
  const s2 = distr(s1); // ⟨⟨a_i, Bᵀ⟩ : i = 1..n⟩
  const s3 = alpha(distl<Vec, Vec>)(s2); // ⟨⟨⟨a_i, b_j⟩ : j = 1..p⟩ : i = 1..n⟩, nested two deep
  const s4 = alpha(alpha(IP))(s3); // ⟨⟨IP:⟨a_i, b_j⟩ : j⟩ : i⟩
  ctx.table([
    { stage: '[1, trans ∘ 2]', value: show(s1) },
    { stage: 'distr', value: show(s2) },
    { stage: 'α distl', value: show(s3) },
    { stage: 'α α IP', value: show(s4) },
  ], { caption: 'MM:⟨A, B⟩ with A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]]' });
  ctx.print(`MM:⟨A, B⟩ = ${show(MM([A, B]))}`);

  // ---- 4. How often does α α IP call IP? Once per row–column pair: n·p calls, never twice.
  const A2: Mat = [[1, 2, 3], [4, 5, 6]]; // (n, k) = (2, 3)
  const B2: Mat = [[1, 0, 2, 1], [0, 1, 1, 2], [1, 1, 0, 3]]; // (k, p) = (3, 4)
  const calls: Mat[] = [];
  const spyIP: Fn<Mat, number> = (rowCol) => {
    calls.push(rowCol); // record the ⟨row, column⟩ pair IP was applied to
    return IP(rowCol);
  };
  const nested = alpha(distl<Vec, Vec>)(distr<Vec, Mat>([A2, trans(B2)])); // ⟨⟨⟨a_i, b_j⟩ : j⟩ : i⟩
  const counted = alpha(alpha(spyIP))(nested); // (n, p) = (2, 4)
  const distinctPairs = new Set(calls.map(show)).size;
  ctx.print(`(2, 3) @ (3, 4): α α IP called IP ${calls.length} times,`,
    `on ${distinctPairs} distinct ⟨row, column⟩ pairs (n·p = 2·4 = 8)`);
  ctx.print(`call 1: IP:${show(calls[0])} = ${counted[0][0]} … call 8: IP:${show(calls[7])} = ${counted[1][3]}`);
  ctx.print(`result ${show(counted)}`);

  // ---- 5. Check MM against matmul: exactly on integer matrices, to rounding on float64 ones.
  const shapes: [number, number, number][] = [[1, 1, 1], [2, 3, 4], [4, 1, 3], [3, 5, 1], [6, 7, 5], [16, 16, 16]]; // (n, k, p)
  const checks = [];
  let key = random.key(7);
  for (const [n, k, p] of shapes) {
    const [kA, kB, kX, kY, next] = random.split(key, 5);
    key = next;
    // Integers: every product and sum is exact, so any order of summation gives the same answer.
    const Aint = random.randint(kA, [n, k], -9, 10); // (n, k) int32 in [−9, 9]
    const Bint = random.randint(kB, [k, p], -9, 10); // (k, p)
    const mmInt = MM([(await Aint.array()) as Mat, (await Bint.array()) as Mat]);
    const refInt = (await matmul(Aint, Bint).array()) as Mat; // (n, p)
    // float64: /+ adds from the right, matmul in its own order: rounding differs by ~1e-16.
    const Afloat = random.normal(kX, [n, k], { dtype: 'float64' }); // (n, k)
    const Bfloat = random.normal(kY, [k, p], { dtype: 'float64' }); // (k, p)
    const mmFloat = MM([(await Afloat.array()) as Mat, (await Bfloat.array()) as Mat]);
    const refFloat = (await matmul(Afloat, Bfloat).array()) as Mat;
    const maxAbsDiff = Math.max(...mmFloat.flatMap((r, i) => r.map((v, j) => Math.abs(v - refFloat[i][j]))));
    checks.push({ shapes: `(${n}, ${k}) @ (${k}, ${p})`, intEqual: show(mmInt) === show(refInt), maxAbsDiff });
  }
  ctx.table(checks.map((c) => ({
    shapes: c.shapes,
    'int32: MM = matmul': c.intEqual,
    'float64: max |MM − matmul|': c.maxAbsDiff.toExponential(1),
  })), { caption: 'MM against matmul on random matrices' });

  return {
    squareCube,
    ipExample: IP(pair),
    ipStages,
    mmStages: { s1, s2, s3, s4 },
    mm2x2: MM([A, B]),
    ipCalls: { A: A2, B: B2, calls, distinctPairs, result: counted },
    checks,
  };
}
