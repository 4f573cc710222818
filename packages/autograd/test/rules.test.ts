/**
 * Every gradient rule, checked against finite differences (float64) through the public ops, on
 * broadcast shapes, scalars, non-contiguous views and zero-size dims; plus the subgradient and
 * tie conventions, and the ops that give no gradient.
 */
import { describe, expect, it } from 'vitest';
import {
  addHook,
  avgPool2d,
  col2im,
  concat,
  conv1d,
  conv2d,
  diagonal,
  div,
  einsum,
  gather,
  im2col,
  maxPool2d,
  oneHot,
  outer,
  PRIMITIVE_NAMES,
  random,
  removeHook,
  scatterAdd,
  stack,
  sub,
  tensor,
  Tensor,
  where,
  zeros,
} from '@ml/tensor';
import type { NestedArray, OpRecord } from '@ml/tensor';
import { grad, GRAD_RULES, gradcheck, jvp, vjp } from '@ml/autograd';
import type { RuleContext } from '@ml/autograd';
import { LINALG_RULES } from '../src/rules/linalg.js';

// ---- inputs (fixed seeds, float64)

/** Uniform float64 numbers in [lo, hi) from a fixed key. */
const U = (seed: number, shape: readonly number[], lo = -1, hi = 1): Tensor =>
  random.uniform(random.key(seed), shape, { dtype: 'float64', minval: lo, maxval: hi });
/** Uniform numbers in ±[lo, hi): random signs, magnitudes away from 0. */
const away = (seed: number, shape: readonly number[], lo: number, hi: number): Tensor => {
  const mag = U(seed, shape, lo, hi);
  const coin = U(seed + 7919, shape);
  const positive = coin.gt(0);
  const out = where(positive, mag, mag.neg());
  for (const t of [mag, coin, positive]) t.dispose();
  return out;
};
const f64 = (data: NestedArray): Tensor => tensor(data, { dtype: 'float64' });
const i32 = (data: NestedArray): Tensor => tensor(data, { dtype: 'int32' });

interface Case {
  name: string;
  f: (...xs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
  /** gradcheck options, for the few cases that go through float32 */
  eps?: number;
  atol?: number;
}

const CASES: Record<string, Case[]> = {};
function add(op: string, name: string, f: (...xs: Tensor[]) => Tensor, inputs: () => Tensor[], opts: Partial<Case> = {}): void {
  (CASES[op] ??= []).push({ name, f, inputs, ...opts });
}

// ---- elementwise, unary: every op on every layout

/** Layouts a unary op sees its input in: the shape to draw and the view to take of it. */
const LAYOUTS: [string, number[], (x: Tensor) => Tensor][] = [
  ['contiguous (3, 4)', [3, 4], (x) => x],
  ['transposed (4, 3)', [3, 4], (x) => x.transpose()],
  ['sliced with steps and flipped', [5, 6], (x) => x.slice('::2, ::-3')],
  ['expanded (1, 4) → (3, 4)', [1, 4], (x) => x.expand([3, 4])],
  ['0-d scalar', [], (x) => x],
  ['zero-size (0, 3)', [0, 3], (x) => x],
];

const UNARY: [string, (x: Tensor) => Tensor, (seed: number, shape: number[]) => Tensor][] = [
  ['neg', (x) => x.neg(), (s, sh) => U(s, sh, -2, 2)],
  ['abs', (x) => x.abs(), (s, sh) => away(s, sh, 0.1, 2)],
  ['exp', (x) => x.exp(), (s, sh) => U(s, sh, -2, 2)],
  ['log', (x) => x.log(), (s, sh) => U(s, sh, 0.3, 3)],
  ['log1p', (x) => x.log1p(), (s, sh) => U(s, sh, -0.5, 2)],
  ['expm1', (x) => x.expm1(), (s, sh) => U(s, sh, -2, 2)],
  ['sqrt', (x) => x.sqrt(), (s, sh) => U(s, sh, 0.3, 3)],
  ['rsqrt', (x) => x.rsqrt(), (s, sh) => U(s, sh, 0.3, 3)],
  ['sin', (x) => x.sin(), (s, sh) => U(s, sh, -3, 3)],
  ['cos', (x) => x.cos(), (s, sh) => U(s, sh, -3, 3)],
  ['tanh', (x) => x.tanh(), (s, sh) => U(s, sh, -2, 2)],
  ['sigmoid', (x) => x.sigmoid(), (s, sh) => U(s, sh, -3, 3)],
  ['erf', (x) => x.erf(), (s, sh) => U(s, sh, -2, 2)],
  ['erfinv', (x) => x.erfinv(), (s, sh) => U(s, sh, -0.8, 0.8)],
];
UNARY.forEach(([op, fn, draw], k) => {
  LAYOUTS.forEach(([layout, shape, view], j) => {
    add(op, layout, (x) => fn(view(x)), () => [draw(100 * k + j, shape)]);
  });
});

// piecewise-constant ops: zero gradient, checked inside a product so the other factor carries one
for (const [op, fn] of [
  ['sign', (x: Tensor) => x.sign()],
  ['floor', (x: Tensor) => x.floor()],
  ['ceil', (x: Tensor) => x.ceil()],
  ['round', (x: Tensor) => x.round()],
] as const) {
  add(op, 'x · op(x), away from the jumps', (x) => x.mul(fn(x)), () => [away(31, [3, 4], 0.1, 2.9)]);
  add(op, 'op(x) on a transposed view', (x) => fn(x.transpose()).add(x.transpose()), () => [away(32, [3, 4], 0.1, 2.9)]);
}

add('copy', 'clone', (x) => x.clone().mul(x), () => [U(1, [3, 4])]);
add('copy', 'contiguous() of a transposed view', (x) => x.transpose().contiguous().exp(), () => [U(2, [3, 4])]);
add('copy', 'reshape that needs a copy', (x) => x.transpose().reshape([12]).sin(), () => [U(3, [3, 4])]);
// float64 → float32 → float64 is linear; the float32 rounding needs a coarser difference step
add('cast', 'float64 → float32 → float64', (x) => x.cast('float32').mul(3).cast('float64'), () => [U(4, [2, 3])], { eps: 1e-2, atol: 1e-4 });
add('cast', 'float64 with an int32 operand (the int side gets none)', (x) => x.mul(i32([[1, -2, 3], [0, 5, 2]])), () => [U(5, [2, 3])]);

// ---- elementwise, binary: broadcasting, scalars, non-contiguous operands, JS numbers

const PAIRS: [string, number[], number[], (a: Tensor, b: Tensor) => [Tensor, Tensor]][] = [
  ['same shape (2, 3)', [2, 3], [2, 3], (a, b) => [a, b]],
  ['broadcast (3, 1) with (1, 4)', [3, 1], [1, 4], (a, b) => [a, b]],
  ['0-d scalar with (2, 3)', [], [2, 3], (a, b) => [a, b]],
  ['(4,) with (2, 3, 4)', [4], [2, 3, 4], (a, b) => [a, b]],
  ['transposed with flipped', [3, 2], [2, 3], (a, b) => [a.transpose(), b.flip(1)]],
  ['zero-size (0, 3) with (3,)', [0, 3], [3], (a, b) => [a, b]],
];
const BINARY: [string, (a: Tensor, b: Tensor) => Tensor, (s: number, sh: number[]) => Tensor, (s: number, sh: number[]) => Tensor][] = [
  ['add', (a, b) => a.add(b), (s, sh) => U(s, sh, -2, 2), (s, sh) => U(s, sh, -2, 2)],
  ['sub', (a, b) => a.sub(b), (s, sh) => U(s, sh, -2, 2), (s, sh) => U(s, sh, -2, 2)],
  ['mul', (a, b) => a.mul(b), (s, sh) => U(s, sh, -2, 2), (s, sh) => U(s, sh, -2, 2)],
  ['div', (a, b) => a.div(b), (s, sh) => U(s, sh, -2, 2), (s, sh) => away(s, sh, 0.5, 2)],
  ['pow', (a, b) => a.pow(b), (s, sh) => U(s, sh, 0.5, 2), (s, sh) => U(s, sh, -2, 2)],
  ['maximum', (a, b) => a.maximum(b), (s, sh) => U(s, sh, -2, 2), (s, sh) => U(s, sh, -2, 2)],
  ['minimum', (a, b) => a.minimum(b), (s, sh) => U(s, sh, -2, 2), (s, sh) => U(s, sh, -2, 2)],
  ['mod', (a, b) => a.mod(b), (s, sh) => U(s, sh, -3, 3), (s, sh) => away(s, sh, 0.7, 1.5)],
];
BINARY.forEach(([op, fn, drawA, drawB], k) => {
  PAIRS.forEach(([name, sa, sb, view], j) => {
    add(op, name, (a, b) => fn(...view(a, b)), () => [drawA(1000 + 10 * k + j, sa), drawB(2000 + 10 * k + j, sb)]);
  });
});
add('add', 'x + JS number', (x) => x.add(2.5), () => [U(6, [2, 3])]);
add('sub', 'JS number − x', (x) => sub(1.5, x), () => [U(7, [2, 3])]);
add('mul', 'x · x (same tensor twice)', (x) => x.mul(x), () => [U(8, [2, 3])]);
add('div', 'JS number / x', (x) => div(2, x), () => [away(9, [2, 3], 0.5, 2)]);
add('pow', 'negative base, constant integer exponent', (x) => x.pow(3), () => [U(10, [2, 3], -2, 2)]);
add('pow', 'JS number ** x', (x) => tensor(2.5, { dtype: 'float64' }).pow(x), () => [U(11, [2, 3])]);
add('maximum', 'maximum with a JS number', (x) => x.maximum(0.25), () => [U(12, [2, 3])]);
add('minimum', 'minimum with a JS number', (x) => x.minimum(-0.25), () => [U(13, [2, 3])]);
add('mod', 'negative divisor', (a, b) => a.mod(b), () => [U(14, [2, 3], -3, 3), U(15, [2, 3], -1.5, -0.7)]);

// where: both branches and the condition broadcast together
const cond34 = () => tensor([[true, false, true, true], [false, false, true, false], [true, true, false, false]]);
add('where', 'condition (3, 4), branches (3, 1) and (1, 4)', (a, b) => where(cond34(), a, b), () => [U(16, [3, 1]), U(17, [1, 4])]);
add('where', 'a JS number branch', (x) => where(x.gt(0), x, 0.5), () => [away(18, [3, 4], 0.1, 1)]);
add('where', 'transposed branches', (a, b) => where(cond34(), a.transpose(), b.flip(0)), () => [U(19, [4, 3]), U(20, [3, 4])]);

// comparisons and logical ops: no gradient of their own; the branches they select still get one
const COMPARE: [string, (a: Tensor, b: Tensor) => Tensor][] = [
  ['eq', (a, b) => a.eq(b.mul(0).add(a.round()))],
  ['ne', (a, b) => a.ne(b)],
  ['lt', (a, b) => a.lt(b)],
  ['le', (a, b) => a.le(b)],
  ['gt', (a, b) => a.gt(b)],
  ['ge', (a, b) => a.ge(b)],
  ['logicalAnd', (a, b) => a.gt(0).logicalAnd(b.gt(0))],
  ['logicalOr', (a, b) => a.gt(0).logicalOr(b.gt(0))],
  ['logicalXor', (a, b) => a.gt(0).logicalXor(b.gt(0))],
  ['logicalNot', (a) => a.gt(0).logicalNot()],
];
COMPARE.forEach(([op, cmp], k) => {
  add(op, 'selects between differentiable branches', (a, b) => where(cmp(a, b), a.mul(b), a.sub(b.square())), () => [
    away(3000 + k, [3, 4], 0.1, 2),
    away(3100 + k, [3, 4], 0.1, 2),
  ]);
});

// ---- reductions, scans, sorting

add('sum', 'all elements', (x) => x.sum(), () => [U(21, [3, 4])]);
add('sum', 'one axis of a transposed view', (x) => x.transpose().sum(1), () => [U(22, [3, 4])]);
add('sum', 'axes (0, 2) with keepdims', (x) => x.sum([0, 2], true), () => [U(23, [2, 3, 4])]);
add('sum', 'over a zero-size dim', (x) => x.sum(0), () => [U(24, [0, 3])]);
add('sum', 'mean and var (composites)', (x) => x.mean(1).add(x.var(0).sum()), () => [U(25, [3, 4])]);
add('prod', 'no zeros, one axis', (x) => x.prod(1), () => [away(26, [3, 4], 0.5, 1.5)]);
add('prod', 'one zero in a group', (x) => x.mul(f64([[1, 0, 1], [1, 1, 1]])).prod(1), () => [away(27, [2, 3], 0.5, 1.5)]);
add('prod', 'two zeros in a group', (x) => x.mul(f64([[0, 1, 0], [1, 1, 1]])).prod(1), () => [away(28, [2, 3], 0.5, 1.5)]);
add('prod', 'all elements of a flipped view', (x) => x.flip().prod(), () => [away(29, [2, 3], 0.5, 1.5)]);
add('max', 'one axis', (x) => x.max(1), () => [U(30, [3, 5])]);
add('max', 'all elements, keepdims', (x) => x.max(undefined, true), () => [U(33, [3, 4])]);
add('max', 'logsumexp (composite)', (x) => x.logsumexp(1), () => [U(35, [3, 4], -2, 2)]);
add('softmax', 'last axis', (x) => x.softmax(-1), () => [U(34, [2, 5], -2, 2)]);
add('softmax', 'axis 0 of a transposed view, large logits', (x) => x.transpose().add(50).softmax(0), () => [U(36, [3, 4], -2, 2)]);
add('logSoftmax', 'axis 0, plus logsumexp', (x) => x.logsumexp(1).add(x.logSoftmax(0).sum()), () => [U(37, [3, 4], -2, 2)]);
add('logSoftmax', 'middle axis of a 3-d sliced view', (x) => x.slice('::2').logSoftmax(1).square(), () => [U(38, [4, 3, 2], -2, 2)]);
add('min', 'axes (1, 2) of a permuted view', (x) => x.permute([2, 0, 1]).min([1, 2]), () => [U(36, [2, 3, 4])]);
add('argmax', 'x at its argmax (gather)', (x) => gather(x, 1, x.argmax(1, true)), () => [U(37, [3, 5])]);
add('argmin', 'x at its argmin (gather)', (x) => gather(x, 0, x.argmin(0, true)), () => [U(38, [4, 3])]);
add('cumsum', 'axis 1', (x) => x.cumsum(1), () => [U(39, [3, 4])]);
add('cumsum', 'axis 0 of a flipped view', (x) => x.flip(0).cumsum(0), () => [U(40, [3, 4])]);
add('cumsum', 'last axis of a transposed view', (x) => x.transpose().cumsum(-1), () => [U(41, [3, 4])]);
add('sort', 'ascending along the last axis', (x) => x.sort(1), () => [U(42, [3, 5])]);
add('sort', 'descending along axis 0 of a transposed view', (x) => x.transpose().sort(0, true), () => [U(43, [3, 5])]);
add('sort', 'topk, largest', (x) => x.topk(2, 1).values, () => [U(44, [3, 5])]);
add('sort', 'topk, smallest along axis 0', (x) => x.topk(2, 0, false).values, () => [U(45, [4, 3])]);

// ---- views

add('reshape', 'contiguous reshape', (x) => x.reshape([2, 6]).mul(f64([1, 2, 3, 4, 5, 6])), () => [U(46, [3, 4])]);
add('reshape', 'squeeze, unsqueeze, flatten', (x) => x.unsqueeze(0).squeeze(0).flatten().sin(), () => [U(47, [3, 1, 4])]);
add('reshape', 'zero-size', (x) => x.reshape([3, 0]).exp(), () => [U(48, [0, 3])]);
add('permute', '3-D permutation', (x) => x.permute([2, 0, 1]).mul(U(901, [4, 2, 3])), () => [U(49, [2, 3, 4])]);
add('permute', 'transpose of dims 0 and 2', (x) => x.transpose(0, 2).cumsum(0), () => [U(50, [2, 3, 4])]);
add('expand', '(3, 1) → (3, 4)', (x) => x.expand([3, 4]).mul(U(902, [3, 4])), () => [U(51, [3, 1])]);
add('expand', '(4,) → (2, 3, 4) with new leading dims', (x) => x.broadcastTo([2, 3, 4]).mul(U(903, [2, 3, 4])), () => [U(52, [4])]);
add('expand', '0-d → (2, 2)', (x) => x.expand([2, 2]).mul(f64([[1, 2], [3, 4]])), () => [U(53, [])]);
add('slice', 'ranges and steps', (x) => x.slice('1:, ::2').exp(), () => [U(54, [4, 5])]);
add('slice', 'negative steps and an integer index', (x) => x.slice('::-1, 2').mul(f64([1, 2, 3, 4])), () => [U(55, [4, 5])]);
add('slice', 'step −2 and a new axis', (x) => x.slice('..., None, ::-2').sin(), () => [U(56, [3, 5])]);
add('slice', 'an empty slice', (x) => x.slice('2:2, :').sum(0), () => [U(57, [4, 3])]);
add('slice', 'split into pieces, recombined in another order', (x) => {
  const [a, b] = x.split([1, 3], 1);
  return concat([b.exp(), a.mul(2)], 1);
}, () => [U(58, [3, 4])]);
add('slice', 'chunk of a flipped view', (x) => x.flip(1).chunk(2, 1)[1].square(), () => [U(59, [3, 4])]);
add('diagonal', 'main diagonal', (x) => diagonal(x).exp(), () => [U(60, [3, 4])]);
add('diagonal', 'offset +1', (x) => diagonal(x, 1).mul(f64([1, 2, 3])), () => [U(61, [3, 4])]);
add('diagonal', 'offset −1', (x) => diagonal(x, -1).mul(f64([1, 2, 3])), () => [U(62, [4, 3])]);
add('diagonal', 'axes (0, 2) of a 3-D tensor', (x) => diagonal(x, 0, 0, 2).sin(), () => [U(63, [3, 2, 4])]);
add('diagonal', 'axes (1, 0): reversed', (x) => diagonal(x, 1, 1, 0).exp(), () => [U(64, [3, 3])]);
add('diagonal', "einsum 'ii->i', 'ii' and 'bii->bi'", (x, y) => einsum('ii->i', x).sum().add(einsum('ii', x)).add(einsum('bii->bi', y).square().sum()), () => [U(65, [3, 3]), U(66, [2, 3, 3])]);

// ---- products and data movement

add('matmul', '(3, 4) @ (4, 2)', (a, b) => a.matmul(b), () => [U(67, [3, 4]), U(68, [4, 2])]);
add('matmul', 'batch broadcast (2, 1, 3, 4) @ (3, 4, 2)', (a, b) => a.matmul(b), () => [U(69, [2, 1, 3, 4]), U(70, [3, 4, 2])]);
add('matmul', '1-D @ 2-D and 2-D @ 1-D', (v, m) => v.matmul(m).add(m.transpose().matmul(v)), () => [U(71, [3]), U(72, [3, 3])]);
add('matmul', 'transposed operands', (a, b) => a.transpose().matmul(b.transpose()), () => [U(73, [4, 3]), U(74, [2, 4])]);
add('matmul', 'dot of vectors, outer', (a, b) => a.dot(b).add(outer(a, b).sum()), () => [U(75, [4]), U(76, [4])]);
add('matmul', 'einsum contractions', (a, b, c) => einsum('ij,jk->ik', a, b).add(einsum('bij,bjk->bik', c, c).sum(0)), () => [U(77, [3, 3]), U(78, [3, 3]), U(79, [2, 3, 3])]);
add('matmul', 'zero inner dim (2, 0) @ (0, 3)', (a, b) => a.matmul(b).add(1), () => [U(80, [2, 0]), U(81, [0, 3])]);
add('concat', 'three pieces along axis 1, one of them empty', (a, b, c) => concat([a, b, c], 1).mul(U(904, [2, 4])), () => [U(82, [2, 3]), U(83, [2, 1]), U(84, [2, 0])]);
add('concat', 'along axis 0 with a transposed piece', (a, b) => concat([a, b.transpose()], 0).exp(), () => [U(85, [1, 3]), U(86, [3, 2])]);
add('concat', 'stack along a new middle axis', (a, b) => stack([a, b], 1).mul(U(905, [2, 2, 3])), () => [U(87, [2, 3]), U(88, [2, 3])]);
add('pad', 'zeros before and after', (x) => x.pad([[1, 0], [0, 2]]).exp(), () => [U(89, [2, 3])]);
add('pad', 'a non-zero fill value', (x) => x.pad([[2, 1]], 3.5).square(), () => [U(90, [3])]);
add('pad', 'a transposed view', (x) => x.transpose().pad([[0, 1], [1, 1]]).sin(), () => [U(91, [2, 3])]);
const repeats = i32([[0, 0, 3, 1, 0], [2, 2, 2, 1, 0], [3, 3, 0, 0, 1]]);
add('gather', 'axis 1 with repeated indices', (x) => gather(x, 1, repeats), () => [U(92, [3, 4])]);
add('gather', 'axis 0 of a transposed view', (x) => gather(x.transpose(), 0, i32([[1, 1, 0], [0, 2, 2]])), () => [U(93, [3, 3])]);
add('gather', 'indexSelect with repeated rows', (x) => x.indexSelect(0, [2, 0, 2, 2]).mul(U(906, [4, 3])), () => [U(94, [3, 3])]);
add('gather', 'embedding lookup + cross-entropy (oneHot)', (x) => {
  const logits = x.indexSelect(0, i32([1, 0, 1]));
  return logits.logSoftmax(-1).mul(oneHot(i32([2, 0, 1]), 3, 'float64')).sum().neg();
}, () => [U(95, [2, 3])]);
const scatterIdx = i32([[0, 1, 2, 0], [0, 1, 1, 0]]);
add('scatterAdd', 'axis 0 with repeated indices (x and src)', (x, s) => scatterAdd(x, 0, scatterIdx, s).square(), () => [U(96, [3, 4]), U(97, [2, 4])]);
add('scatterAdd', 'axis 1 into a flipped view', (x, s) => scatterAdd(x.flip(1), 1, i32([[3, 3], [0, 3]]), s).exp(), () => [U(98, [2, 4]), U(99, [2, 2])]);

// windows: im2col (conv, pooling) and col2im
add('conv2d', 'stride, padding, dilation and bias', (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1, dilation: [1, 2] }), () => [
  U(200, [2, 2, 5, 6]),
  U(201, [3, 2, 3, 2]),
  U(202, [3]),
]);
add('im2col', 'grouped conv2d, padding "same"', (x, w) => conv2d(x, w, null, { groups: 2, padding: 'same' }), () => [U(203, [1, 4, 4, 4]), U(204, [2, 2, 2, 3])]);
add('conv2d', 'conv1d of a transposed (non-contiguous) input', (x, w) => conv1d(x.transpose(1, 2), w, null, { padding: 1 }), () => [U(205, [2, 6, 2]), U(206, [3, 2, 3])]);
add('im2col', 'maxPool2d with padding (−∞ fill)', (x) => maxPool2d(x, 2, { stride: 1, padding: 1 }), () => [U(207, [1, 2, 3, 4])]);
add('im2col', 'maxPool2d, unbatched, stride 2', (x) => maxPool2d(x, [2, 3], { stride: 2 }), () => [U(208, [2, 4, 6])]);
add('im2col', 'avgPool2d counting only real pixels', (x) => avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), () => [U(209, [1, 2, 5, 5])]);
add('im2col', 'avgPool2d of a flipped view', (x) => avgPool2d(x.flip(3), 2), () => [U(210, [2, 1, 4, 4])]);
add('im2col', 'im2col itself, with padding', (x) => im2col(x, { kernel: 2, padding: 1, stride: [1, 2] }), () => [U(211, [1, 2, 3, 3])]);
add('col2im', 'col2im with overlapping windows', (c) => col2im(c, [4, 4], { kernel: 2, stride: 1 }), () => [U(212, [2, 8, 9])]);
add('col2im', 'col2im with stride, padding and dilation', (c) => col2im(c, [5, 5], { kernel: 2, stride: 2, padding: 1, dilation: 2 }), () => [U(213, [1, 4, 9])]);

const ALL = Object.entries(CASES).flatMap(([op, cases]) => cases.map((c) => ({ op, ...c })));

/** The solver primitives and their rules are covered by linalg-grad.test.ts. */
const LINALG = new Set(['cholesky', 'triangularSolve', 'solve', 'qr', 'eigh', 'svd', ...Object.keys(LINALG_RULES)]);
/** Primitives with no tensor inputs: nothing to differentiate. */
const NO_INPUTS = new Set(['fill', 'randomUniform', 'randomBits']);
/** Primitives whose rule refuses to differentiate (a fused optimizer update). */
const REFUSES = new Set(['adamStep']);

/** The ops `fn` runs (primitives and views, as hooks see them). */
function opsRun(fn: () => void): Set<string> {
  const seen = new Set<string>();
  const hook = (r: OpRecord) => void seen.add(r.op);
  addHook(hook);
  try {
    fn();
  } finally {
    removeHook(hook);
  }
  return seen;
}

function sumOf(t: Tensor): number {
  return (t.dataSync() as Float64Array).reduce((a, b) => a + b, 0);
}

describe('the rule table is covered', () => {
  it('every rule in GRAD_RULES (but the solvers) has at least one case here', () => {
    const missing = Object.keys(GRAD_RULES).filter((op) => !LINALG.has(op) && !REFUSES.has(op) && !CASES[op]?.length);
    expect(missing).toEqual([]);
  });

  it('adamStep refuses to be differentiated, naming itself', () => {
    const ctx = { inputs: [], outputs: [], inputMetas: [], outputMetas: [], params: {} };
    expect(() => GRAD_RULES.adamStep.vjp(ctx, [])).toThrow(/adamStep.*not differentiable/);
  });

  it('every primitive of @ml/tensor has a rule, or has no inputs', () => {
    const missing = PRIMITIVE_NAMES.filter((op) => !GRAD_RULES[op] && !NO_INPUTS.has(op) && !LINALG.has(op));
    expect(missing).toEqual([]);
  });

  it('every case runs the primitive it is filed under', () => {
    const wrong = ALL.filter((c) => {
      const xs = c.inputs();
      const seen = opsRun(() => c.f(...xs).dispose());
      xs.forEach((x) => x.dispose());
      return !seen.has(c.op);
    }).map((c) => `${c.op}: ${c.name}`);
    expect(wrong).toEqual([]);
  });
});

describe('gradcheck (float64, central differences)', () => {
  for (const c of ALL) {
    it(`${c.op}: ${c.name}`, () => {
      const xs = c.inputs();
      // float64 central differences are good to ~1e-9 here: much tighter than gradcheck's defaults
      const report = gradcheck(c.f, xs, { eps: c.eps, atol: c.atol ?? 1e-7, rtol: c.atol ? 1e-3 : 1e-6 });
      expect(report.ok, report.message).toBe(true);
      expect(report.inputs.map((r) => r.shape)).toEqual(xs.map((x) => x.shape));
    });
  }
});

describe('forward mode agrees with reverse mode: ⟨u, J·v⟩ = ⟨Jᵀu, v⟩', () => {
  ALL.forEach((c, k) => {
    it(`${c.op}: ${c.name}`, () => {
      const xs = c.inputs();
      const vs = xs.map((x, i) => U(5000 + 10 * k + i, x.shape));
      const [y, jv] = jvp(c.f, xs, vs);
      const u = U(6000 + k, y.shape);
      const [, pullback] = vjp(c.f, ...xs);
      const jtu = pullback(u);
      const lhs = sumOf(u.mul(jv));
      const rhs = jtu.reduce((acc, g, i) => acc + sumOf(g.mul(vs[i])), 0);
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual((c.atol ?? 1e-10) * 10 * (1 + Math.abs(lhs)));
      expect(jv.shape).toEqual(y.shape);
    });
  });
});

describe('subgradient and tie conventions', () => {
  it('relu′(0) = 0', () => {
    expect(grad((x: Tensor) => x.relu().sum())(f64([-1, 0, 2])).arraySync()).toEqual([0, 0, 1]);
  });

  it('leakyRelu′(0) is its slope', () => {
    expect(grad((x: Tensor) => x.leakyRelu(0.25).sum())(f64([-1, 0, 2])).arraySync()).toEqual([0.25, 0.25, 1]);
  });

  it('abs′(0) = 0', () => {
    expect(grad((x: Tensor) => x.abs().sum())(f64([-2, 0, 3])).arraySync()).toEqual([-1, 0, 1]);
  });

  it('maximum and minimum split ties ½/½ and send the rest to the winner', () => {
    const a = f64([1, 2, 3]);
    const b = f64([1, 5, -3]);
    const [ga, gb] = grad((a: Tensor, b: Tensor) => a.maximum(b).sum(), [0, 1])(a, b);
    expect(ga.arraySync()).toEqual([0.5, 0, 1]);
    expect(gb.arraySync()).toEqual([0.5, 1, 0]);
    const [ha, hb] = grad((a: Tensor, b: Tensor) => a.minimum(b).sum(), [0, 1])(a, b);
    expect(ha.arraySync()).toEqual([0.5, 1, 0]);
    expect(hb.arraySync()).toEqual([0.5, 0, 1]);
  });

  it('clip passes the gradient on [min, max] including the bounds (PyTorch), 0 outside', () => {
    expect(grad((x: Tensor) => x.clip(0, 1).sum())(f64([-1, 0, 0.5, 1, 2])).arraySync()).toEqual([0, 1, 1, 1, 0]);
  });

  it('max and min reductions split the gradient evenly among tied elements', () => {
    expect(grad((x: Tensor) => x.max())(f64([1, 3, 3, 2])).arraySync()).toEqual([0, 0.5, 0.5, 0]);
    expect(grad((x: Tensor) => x.min())(f64([1, 3, 1, 1])).arraySync()).toEqual([1 / 3, 0, 1 / 3, 1 / 3]);
    const g = grad((x: Tensor) => x.max(1).mul(f64([1, 10])).sum())(f64([[4, 4, 1], [0, 2, -1]]));
    expect(g.arraySync()).toEqual([[0.5, 0.5, 0], [0, 10, 0]]);
  });

  it('maxPool2d splits among tied elements of a window', () => {
    const x = f64([[[[1, 1], [0, 1]]]]);
    expect(grad((x: Tensor) => maxPool2d(x, 2).sum())(x).arraySync()).toEqual([[[[1 / 3, 1 / 3], [0, 1 / 3]]]]);
  });
});

describe('ops without a gradient', () => {
  const x = () => f64([[-1.6, -0.3, 0.2], [0.7, 1.4, 2.5]]);
  const cases: [string, (x: Tensor) => Tensor][] = [
    ['floor', (x) => x.floor().sum()],
    ['ceil', (x) => x.ceil().sum()],
    ['round', (x) => x.round().sum()],
    ['sign', (x) => x.sign().sum()],
    ['argmax', (x) => x.argmax(1).cast('float64').sum()],
    ['argmin', (x) => x.argmin().cast('float64').sum()],
    ['comparison cast to float', (x) => x.gt(0).cast('float64').add(x.le(1)).sum()],
    ['eq against itself', (x) => x.eq(x).cast('float64').sum()],
  ];
  for (const [name, f] of cases) {
    it(`${name} gives a zero gradient`, () => {
      const g = grad(f)(x());
      expect(g.shape).toEqual([2, 3]);
      expect(g.arraySync()).toEqual([[0, 0, 0], [0, 0, 0]]);
    });
  }

  it('their rules return no cotangent (null), for any input', () => {
    const meta = { shape: [2], dtype: 'float64' as const };
    const ctx: RuleContext = { inputs: [], outputs: [], inputMetas: [meta, meta], outputMetas: [meta], params: { axis: 0 } };
    const g = f64([1, 1]);
    for (const op of ['sign', 'floor', 'ceil', 'round', 'argmax', 'argmin', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor']) {
      const out = GRAD_RULES[op].vjp(ctx, [g]);
      expect(out.every((r) => r === null), op).toBe(true);
    }
  });

  it('integer inputs get none: a cast from int32 has no cotangent, the float side does', () => {
    const k = i32([1, -2, 3]);
    const ctx: RuleContext = {
      inputs: [],
      outputs: [],
      inputMetas: [{ shape: [3], dtype: 'int32' }],
      outputMetas: [{ shape: [3], dtype: 'float64' }],
      params: { dtype: 'float64' },
    };
    expect(GRAD_RULES.cast.vjp(ctx, [f64([1, 1, 1])])).toEqual([null]);
    const [gx, gk] = grad((x: Tensor, kf: Tensor) => x.mul(k).add(kf).sum(), [0, 1])(f64([0.5, 0.5, 0.5]), f64([0, 0, 0]));
    expect(gx.arraySync()).toEqual([1, -2, 3]);
    expect(gk.arraySync()).toEqual([1, 1, 1]);
    // the index inputs of gather and scatterAdd get none either
    const [, pullback] = vjp((x: Tensor) => gather(x, 0, i32([1, 1, 0])), f64([1, 2]));
    expect(pullback(f64([1, 1, 1]))[0].arraySync()).toEqual([1, 2]);
  });
});

describe('zero-size dims', () => {
  it('gradients of zero-size inputs have their shapes', () => {
    const x = zeros([0, 3], { dtype: 'float64' });
    expect(grad((x: Tensor) => x.exp().sum())(x).shape).toEqual([0, 3]);
    const [ga, gb] = grad((a: Tensor, b: Tensor) => a.matmul(b).sum(), [0, 1])(zeros([2, 0], { dtype: 'float64' }), zeros([0, 3], { dtype: 'float64' }));
    expect(ga.shape).toEqual([2, 0]);
    expect(gb.shape).toEqual([0, 3]);
  });

  it('an empty piece of a concat gets an empty gradient, the others theirs', () => {
    const [ga, gb] = grad((a: Tensor, b: Tensor) => concat([a, b], 0).square().sum(), [0, 1])(zeros([0, 2], { dtype: 'float64' }), f64([[1, 2]]));
    expect(ga.shape).toEqual([0, 2]);
    expect(gb.arraySync()).toEqual([[2, 4]]);
  });
});
