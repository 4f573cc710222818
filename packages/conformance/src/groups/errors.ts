/**
 * Error behaviour, checked on every backend: each bad call must throw a TensorError whose message
 * starts with the op's name and names the shapes or the argument at fault, and must not leak
 * memory on the way out (these tests run outside any scope, so a leak shows).
 */
import type { Backend, DType, Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe, expect } from 'vitest';
import type { SuiteContext } from '../harness.js';
import { caseIt } from '../harness.js';

/** One bad call: a label, the call, and what its message must match. */
type ErrorCase = readonly [label: string, call: () => unknown, message: RegExp];

function liveCounts(backend: Backend): { tensors: number; buffers: number; bytes: number } {
  const m = T.memory(backend);
  return { tensors: m.tensors, buffers: m.buffers, bytes: m.bytes };
}

/** Asserts that `call` throws a TensorError matching `message`, and leaks nothing doing so. */
export function expectOpError(backend: Backend, label: string, call: () => unknown, message: RegExp): void {
  const before = liveCounts(backend);
  let error: unknown;
  try {
    const out = call();
    if (out && typeof out === 'object' && 'dispose' in out) (out as Tensor).dispose();
  } catch (e) {
    error = e;
  }
  // soft assertions: one run reports every case that fails, not just the first
  expect.soft(error, `${label}: should throw`).toBeInstanceOf(Error);
  const e = (error ?? {}) as Error;
  expect.soft(e.name, `${label}: error type (message: ${e.message})`).toBe('TensorError');
  expect.soft(e.message, `${label}: message`).toMatch(message);
  expect.soft(liveCounts(backend), `${label}: memory after the error`).toEqual(before);
}

function runCases(backend: Backend, cases: readonly ErrorCase[]): void {
  for (const [label, call, message] of cases) expectOpError(backend, label, call, message);
}

/** Tensors used by the error cases, created on the backend under test and disposed after. */
function fixtures(be: Backend) {
  const f = {
    m23: T.zeros([2, 3], { backend: be }),
    m34: T.zeros([3, 4], { backend: be }),
    m45: T.zeros([4, 5], { backend: be }),
    v3: T.zeros([3], { backend: be }),
    v4: T.zeros([4], { backend: be }),
    s: T.zeros([], { backend: be }),
    b3: T.zeros([3], { dtype: 'bool', backend: be }),
    i23: T.zeros([2, 3], { dtype: 'int32', backend: be }),
    i2: T.tensor([0, 2], { dtype: 'int32', backend: be }),
    f2: T.zeros([2], { backend: be }),
    v6: T.zeros([6], { backend: be }),
    z03: T.zeros([0, 3], { backend: be }),
    z20: T.zeros([2, 0], { backend: be }),
    neg1: T.tensor([-1], { dtype: 'int32', backend: be }),
  };
  return { ...f, dispose: () => Object.values(f).forEach((t) => t.dispose()) };
}

export function errorsGroup(ctx: SuiteContext): void {
  describe('errors', () => {
    caseIt(ctx, 'shape mismatch names the op and both shapes', () => {
      const f = fixtures(ctx.backend);
      try {
        runCases(ctx.backend, [
          ['add', () => T.add(f.m23, f.v4), /^add: shapes \(2, 3\) and \(4,\) cannot be broadcast/],
          ['mul', () => f.m23.mul(f.m34), /^mul: shapes \(2, 3\) and \(3, 4\) cannot be broadcast/],
          ['lt', () => T.lt(f.v3, f.v4), /^lt: shapes \(3,\) and \(4,\)/],
          ['where', () => T.where(f.b3, f.v4, 0), /^where: shapes \(3,\) and \(4,\)/],
          ['matmul', () => T.matmul(f.m23, f.m45), /^matmul: cannot multiply \(2, 3\) by \(4, 5\)/],
          ['matmul 0-d', () => T.matmul(f.s, f.v3), /^matmul: cannot multiply \(\) by \(3,\)/],
          ['dot', () => T.dot(f.v3, f.v4), /^dot: .*\(3,\) and \(4,\)/],
          ['outer', () => T.outer(f.m23, f.v3), /^outer: .*\(2, 3\)/],
          ['concat', () => T.concat([f.m34, f.m23], 0), /^concat: tensor 1 has shape \(2, 3\), incompatible with \(3, 4\)/],
          ['concat rank', () => T.concat([f.m23, f.v3], 0), /^concat: tensor 1 has shape \(3,\)/],
          ['stack', () => T.stack([f.v3, f.v4]), /^stack: tensor 1 has shape \(4,\), expected \(3,\)/],
          ['reshape', () => f.m23.reshape([4]), /^reshape: cannot reshape \(2, 3\).* into \(4,\)/],
          ['reshape -1', () => f.m23.reshape([4, -1]), /^reshape: cannot reshape \(2, 3\) into \(4, -1\)/],
          ['reshape two -1', () => f.m23.reshape([-1, -1]), /^reshape: only one dim can be -1, got \(-1, -1\)/],
          ['expand', () => f.m23.expand([4, 3]), /^expand: cannot broadcast \(2, 3\) to \(4, 3\)/],
          ['broadcastTo', () => f.m23.broadcastTo([3]), /^broadcastTo: cannot broadcast \(2, 3\) to \(3,\)/],
          ['einsum sizes', () => T.einsum('ij,jk->ik', f.m23, f.m45), /^einsum: letter "j" has sizes 3 and 4/],
          ['einsum rank', () => T.einsum('i,j->ij', f.m23, f.v3), /^einsum: operand 0 has shape \(2, 3\) but subscripts "i"/],
          ['einsum operands', () => T.einsum('ij,jk->ik', f.m23), /^einsum: "ij,jk->ik" names 2 operands but 1 were given/],
          ['gather rank', () => T.gather(f.m23, 1, f.i2), /^gather: index rank 1 must equal input rank 2 \(input \(2, 3\), index \(2,\)\)/],
          ['scatterAdd shapes', () => T.scatterAdd(f.m23, 0, f.i23, f.m34), /^scatterAdd: index \(2, 3\) and src \(3, 4\) must have equal shapes/],
          ['pad', () => f.m23.pad([[1, 1]]), /^pad: needs one \[before, after\] pair per dim: got 1 for shape \(2, 3\)/],
          ['pad negative', () => f.m23.pad([[0, 0], [-1, 0]]), /^pad: pads\[1\] must be two non-negative integers/],
          ['split', () => f.m34.split([1, 1], 0), /^split: sizes \(1, 1\) add up to 2, but dim 0 of \(3, 4\) is 3/],
        ]);
      } finally {
        f.dispose();
      }
    }, { scoped: false });

    caseIt(ctx, 'bad axes name the op, the axis and the rank', () => {
      const f = fixtures(ctx.backend);
      const x = f.m23;
      const axisMsg = (op: string, axis: number | string, rank = 2) => new RegExp(`^${op}: (axis|dim[01]|startDim|endDim) ${axis} is out of range for a tensor of rank ${rank}`);
      try {
        runCases(ctx.backend, [
          ['sum', () => x.sum(2), axisMsg('sum', 2)],
          ['sum negative', () => x.sum(-3), axisMsg('sum', -3)],
          ['sum fractional', () => x.sum(0.5), axisMsg('sum', 0.5)],
          ['sum repeated', () => x.sum([1, -1]), /^sum: repeated axis in \[1, -1\]/],
          ['mean', () => x.mean(2), axisMsg('mean', 2)],
          ['prod', () => x.prod([0, 5]), axisMsg('prod', 5)],
          ['max', () => x.max(2), axisMsg('max', 2)],
          ['min', () => x.min(-3), axisMsg('min', -3)],
          ['var', () => x.var(2), axisMsg('var(iance)?', 2)],
          ['std', () => x.std(2), axisMsg('std', 2)],
          ['logsumexp', () => x.logsumexp(2), axisMsg('logsumexp', 2)],
          ['all', () => x.all(2), axisMsg('all', 2)],
          ['any', () => x.any(-3), axisMsg('any', -3)],
          ['argmax', () => x.argmax(2), axisMsg('argmax', 2)],
          ['argmin', () => x.argmin(-3), axisMsg('argmin', -3)],
          ['cumsum', () => x.cumsum(2), axisMsg('cumsum', 2)],
          ['sort', () => x.sort(2), axisMsg('sort', 2)],
          ['argsort', () => x.argsort(2), axisMsg('argsort', 2)],
          ['topk', () => x.topk(1, 2), axisMsg('topk', 2)],
          ['softmax', () => x.softmax(2), axisMsg('softmax', 2)],
          ['logSoftmax', () => x.logSoftmax(-3), axisMsg('logSoftmax', -3)],
          ['concat', () => T.concat([x, x], 2), axisMsg('concat', 2)],
          ['stack', () => T.stack([x, x], 3), axisMsg('stack', 3, 3)],
          ['split', () => x.split(1, 2), axisMsg('split', 2)],
          ['chunk', () => x.chunk(2, 2), axisMsg('chunk', 2)],
          ['flip', () => x.flip(2), axisMsg('flip', 2)],
          ['unsqueeze', () => x.unsqueeze(3), axisMsg('unsqueeze', 3, 3)],
          ['squeeze axis', () => x.squeeze(2), axisMsg('squeeze', 2)],
          ['squeeze size', () => x.squeeze(0), /^squeeze: dim 0 of \(2, 3\) has size 2, not 1/],
          ['transpose', () => x.transpose(0, 2), axisMsg('transpose', 2)],
          ['permute repeated', () => x.permute([1, 1]), /^permute: axes \(1, 1\) repeat a dim/],
          ['permute count', () => x.permute([0]), /^permute: axes \(0,\) must list all 2 dims of \(2, 3\)/],
          ['permute range', () => x.permute([0, 2]), axisMsg('permute', 2)],
          ['flatten order', () => x.flatten(1, 0), /^flatten: startDim 1 comes after endDim 0 for \(2, 3\)/],
          ['gather', () => T.gather(x, 2, f.i23), axisMsg('gather', 2)],
          ['indexSelect', () => T.indexSelect(x, 2, [0]), axisMsg('indexSelect', 2)],
          ['scatterAdd', () => T.scatterAdd(x, -3, f.i23, x), axisMsg('scatterAdd', -3)],
          ['tril', () => T.tril(f.v3), /^tril: expects at least 2 dims, got \(3,\)/],
          ['triu k', () => T.triu(x, 0.5), /^triu: k must be an integer, got 0.5/],
          ['max zero-size', () => T.max(f.z03, 0), /^max: cannot reduce over a zero-size dim \(shape \(0, 3\)/],
          ['argmax zero-size', () => T.argmax(f.z20, 1), /^argmax: cannot reduce over a zero-size dim \(shape \(2, 0\)/],
          ['sort 0-d', () => T.sort(f.s), /^sort: cannot sort a 0-d tensor/],
        ]);
      } finally {
        f.dispose();
      }
    }, { scoped: false });

    caseIt(ctx, 'out-of-range indices name the op, the index and the dim', async () => {
      const f = fixtures(ctx.backend);
      const be = ctx.backend;
      try {
        runCases(be, [
          ['slice', () => f.m34.slice('5'), /^slice: index 5 is out of range for dim 0 of size 3 \(shape \(3, 4\)\)/],
          ['slice negative', () => f.m34.slice('0, -5'), /^slice: index -5 is out of range for dim 1 of size 4 \(shape \(3, 4\)\)/],
          ['slice too many', () => f.m34.slice('0, 0, 0'), /^slice: too many indices \(3\) for a tensor of shape \(3, 4\)/],
          ['slice step 0', () => f.m34.slice('::0'), /^slice: step must be a non-zero integer in dim 0, got 0/],
          ['slice parse', () => f.m34.slice('1:a'), /^slice: cannot parse "a" in index "1:a"/],
          ['slice ellipses', () => f.m34.slice('..., ...'), /^slice: an index can have only one "\.\.\."/],
          ['slice array entry', () => f.m34.slice([7]), /^slice: index 7 is out of range for dim 0 of size 3/],
          ['topk k', () => f.v3.topk(5), /^topk: k = 5 is out of range for dim 0 of size 3/],
          ['topk negative k', () => f.v3.topk(-1), /^topk: k = -1 is out of range/],
          ['indexSelect array', () => T.indexSelect(f.m34, 0, [0, 3]), /^indexSelect: index 3 is out of range for dim 0 of size 3/],
          ['indexSelect negative', () => T.indexSelect(f.m34, 1, [-5]), /^indexSelect: index -5 is out of range for dim 1 of size 4/],
          ['oneHot classes', () => T.oneHot(f.i2, 0), /^oneHot: numClasses must be a positive integer, got 0/],
        ]);
        if (be.capabilities.syncRead) {
          // data-dependent checks: only backends that can look at the indices synchronously
          const big = T.tensor([[0, 3, 1], [1, 1, 1]], { dtype: 'int32', backend: be });
          const idx = T.tensor([0, 3], { dtype: 'int32', backend: be });
          try {
            runCases(be, [
              ['gather', () => T.gather(f.m23, 1, big), /^gather: index 3 is out of range for dim 1 of size 3 \(input \(2, 3\)\)/],
              ['indexSelect tensor', () => T.indexSelect(f.m23, 1, idx), /^indexSelect: index 3 is out of range for dim 1 of size 3/],
              ['scatterAdd', () => T.scatterAdd(f.m23, 1, big, f.m23), /^scatterAdd: index 3 is out of range for dim 1 of size 3/],
              ['oneHot', () => T.oneHot(idx, 3), /^oneHot: index 3 is out of range for 3 classes/],
              ['oneHot negative', () => T.oneHot(f.neg1, 3), /^oneHot: index -1 is out of range for 3 classes/],
            ]);
          } finally {
            big.dispose();
            idx.dispose();
          }
        }
      } finally {
        f.dispose();
      }
    }, { scoped: false });

    caseIt(ctx, 'wrong dtypes name the op, the argument and the dtype', () => {
      const f = fixtures(ctx.backend);
      try {
        runCases(ctx.backend, [
          ['where float condition', () => T.where(f.v3, f.v3, 0), /^where: condition must be bool, got float32/],
          ['gather float index', () => T.gather(f.m23, 1, f.m23), /^gather: index must be int32, got float32/],
          ['indexSelect float index', () => T.indexSelect(f.m23, 1, f.f2), /^indexSelect: index must be int32, got float32/],
          ['scatterAdd float index', () => T.scatterAdd(f.m23, 1, f.m23, f.m23), /^scatterAdd: index must be int32, got float32/],
          ['scatterAdd src dtype', () => T.scatterAdd(f.m23, 1, f.i23, f.i23), /^scatterAdd: src dtype int32 differs from input dtype float32/],
          ['oneHot float', () => T.oneHot(f.f2, 3), /^oneHot: index must be int32, got float32/],
          ['neg bool', () => T.neg(f.b3), /^neg: expects a numeric tensor, got bool/],
          ['abs bool', () => T.abs(f.b3), /^abs: expects a numeric tensor, got bool/],
          ['add string', () => T.add(f.v3, 'x' as unknown as number), /^add: b must be a Tensor, number or boolean, got string/],
          ['mul null', () => T.mul(null as unknown as number, f.v3), /^mul: a must be a Tensor, number or boolean, got null/],
          ['gelu mode', () => T.gelu(f.v3, 'fast' as 'tanh'), /^gelu: approximate must be 'none' or 'tanh', got fast/],
          ['clip bounds', () => T.clip(f.v3, 2, 1), /^clip: min \(2\) must not exceed max \(1\)/],
        ]);
        if (ctx.backend.capabilities.syncRead) {
          runCases(ctx.backend, [
            ['pow int negative', () => T.pow(f.i2, -1), /^pow: integers cannot be raised to a negative power/],
            ['mod int zero', () => T.mod(f.i2, 0), /^mod: integer division by zero/],
          ]);
        }
      } finally {
        f.dispose();
      }
    }, { scoped: false });

    caseIt(ctx, 'using a disposed tensor names the op and the tensor', async () => {
      const be = ctx.backend;
      const y = T.zeros([2, 3], { backend: be });
      const idx = T.zeros([2, 3], { dtype: 'int32', backend: be });
      const cond = T.zeros([2, 3], { dtype: 'bool', backend: be });
      const v3 = T.zeros([3], { backend: be });
      const x = T.zeros([2, 3], { backend: be });
      x.dispose();
      const msg = (op: string) => new RegExp(`^${op}: .*\\(2, 3\\).* (was )?disposed`);
      try {
        runCases(be, [
          ['neg', () => T.neg(x), msg('neg')],
          ['exp', () => T.exp(x), msg('exp')],
          ['relu', () => T.relu(x), msg('relu')],
          ['add scalar', () => T.add(x, 1), msg('add')],
          ['add tensor', () => T.add(x, y), msg('add')],
          ['add tensor right', () => T.add(y, x), msg('add')],
          ['add broadcast', () => T.add(x, v3), msg('add')],
          ['where', () => T.where(cond, x, 0), msg('where')],
          ['matmul', () => T.matmul(x, v3), msg('matmul')],
          ['matmul right', () => T.matmul(v3, x), msg('matmul')],
          ['sum', () => T.sum(x), msg('sum')],
          ['mean', () => T.mean(x, 0), msg('mean')],
          ['max', () => T.max(x), msg('max')],
          ['argmax', () => T.argmax(x, 1), msg('argmax')],
          ['softmax', () => T.softmax(x), msg('softmax')],
          ['cumsum', () => T.cumsum(x, 0), msg('cumsum')],
          ['sort', () => T.sort(x), msg('sort')],
          ['reshape', () => x.reshape([6]), msg('reshape')],
          ['permute', () => x.permute([1, 0]), msg('permute')],
          ['slice', () => x.slice('1:'), msg('slice')],
          ['expand', () => x.expand([2, 2, 3]), msg('expand')],
          ['cast', () => x.cast('int32'), msg('cast')],
          ['contiguous', () => x.contiguous(), msg('contiguous')],
          ['clone', () => x.clone(), msg('clone')],
          ['concat', () => T.concat([y, x]), msg('concat')],
          ['gather', () => T.gather(x, 0, idx), msg('gather')],
          ['dataSync', () => x.dataSync(), msg('dataSync')],
        ]);
        const before = liveCounts(be);
        await expect(x.data()).rejects.toThrow(/^data: .*\(2, 3\).*disposed/);
        expect(liveCounts(be)).toEqual(before);
      } finally {
        for (const t of [y, idx, cond, v3]) t.dispose();
      }
    }, { scoped: false });

    caseIt(ctx, 'bad data, shapes and dtypes at creation', () => {
      const be = ctx.backend;
      const bad = <U>(v: unknown) => v as U;
      const f = fixtures(be);
      try {
      runCases(be, [
        ['ragged rows', () => T.tensor([[1, 2], [3]], { backend: be }), /^tensor: ragged nested array at \[1\]: expected length 2, got length 1/],
        ['ragged scalar', () => T.tensor(bad([[1, 2], 3]), { backend: be }), /^tensor: ragged nested array at \[1\]: expected length 2, got a scalar/],
        ['ragged deep', () => T.tensor(bad([1, [2]]), { backend: be }), /^tensor: ragged nested array at \[1\]: expected a number, got an array/],
        ['ragged 3-d', () => T.tensor([[[1], [2]], [[3], [4, 5]]], { backend: be }), /^tensor: ragged nested array at \[1, 1\]: expected length 1, got length 2/],
        ['non-numeric', () => T.tensor(bad(['a']), { backend: be }), /^tensor: element at \[0\] is string, expected a number or boolean/],
        ['NaN into int32', () => T.tensor([1, NaN], { dtype: 'int32', backend: be }), /^tensor: cannot store NaN in int32/],
        ['shape size', () => T.tensor([1, 2, 3], { shape: [2, 2], backend: be }), /^tensor: shape \(2, 2\) needs 4 elements, data has 3/],
        ['shape negative', () => T.tensor([1, 2], { shape: [-1, 2], backend: be }), /^tensor: shape must contain non-negative integers, got \[-1, 2\]/],
        ['zeros negative', () => T.zeros([2, -1], { backend: be }), /^zeros: shape must contain non-negative integers, got \[2, -1\]/],
        ['ones fractional', () => T.ones([1.5], { backend: be }), /^ones: shape must contain non-negative integers, got \[1.5\]/],
        ['full NaN dim', () => T.full([NaN], 0, { backend: be }), /^full: shape must contain non-negative integers, got \[NaN\]/],
        ['full Infinity dim', () => T.full([Infinity, 2], 0, { backend: be }), /^full: shape must contain non-negative integers, got \[Infinity, 2\]/],
        ['full not an array', () => T.full(bad('abc'), 0, { backend: be }), /^full: shape must be an array of integers, got abc/],
        ['full Infinity into int32', () => T.full([2], Infinity, { dtype: 'int32', backend: be }), /^full: cannot fill int32 with Infinity/],
        ['reshape fractional', () => f.v6.reshape([1.5, 4]), /^reshape: /],
        ['eye negative', () => T.eye(-1, 2, 0, { backend: be }), /^eye: size must contain non-negative integers, got \[-1, 2\]/],
        ['arange infinite', () => T.arange(0, Infinity, 1, { backend: be }), /^arange: stop must be finite, got Infinity/],
        ['arange step 0', () => T.arange(0, 5, 0, { backend: be }), /^arange: step must be non-zero/],
        ['linspace num', () => T.linspace(0, 1, -1, { backend: be }), /^linspace: num must be a non-negative integer, got -1/],
        ['unknown dtype zeros', () => T.zeros([2], { dtype: bad<DType>('float16'), backend: be }), /^zeros: unknown dtype float16/],
        ['unknown dtype tensor', () => T.tensor([1], { dtype: bad<DType>('int64'), backend: be }), /^tensor: unknown dtype int64/],
        ['unknown dtype arange', () => T.arange(3, undefined, 1, { dtype: bad<DType>('complex64'), backend: be }), /^arange: unknown dtype complex64/],
        ['unknown dtype cast', () => f.f2.cast(bad<DType>('float16')), /^cast: unknown dtype float16/],
      ]);
      } finally {
        f.dispose();
      }
    }, { scoped: false });

    caseIt(ctx, 'a backend without float64 rejects it, naming the dtype and the backend', async () => {
      const inner = ctx.backend;
      const wrapper: Backend = {
        name: `${inner.name}-without-float64`,
        capabilities: { ...inner.capabilities, dtypes: inner.capabilities.dtypes.filter((d) => d !== 'float64') },
        allocate: (dtype, size) => inner.allocate(dtype, size),
        write: (s, dtype, data) => inner.write(s, dtype, data),
        read: (s, dtype) => inner.read(s, dtype),
        ...(inner.readSync ? { readSync: (s: unknown, dtype: DType) => inner.readSync!(s, dtype) } : {}),
        free: (s) => inner.free(s),
        hasKernel: (op) => inner.hasKernel(op),
        run: (op, inputs, outputs, params) => inner.run(op, inputs, outputs, params),
        memory: () => inner.memory(),
      };
      const name = wrapper.name.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&');
      const unsupported = (op: string) => new RegExp(`^${op}: backend "${name}" does not support dtype float64`);
      const start = liveCounts(wrapper);
      const x = T.ones([2, 2], { backend: wrapper });
      const i = T.ones([2], { dtype: 'int32', backend: wrapper });
      try {
        runCases(wrapper, [
          ['tensor', () => T.tensor([1, 2], { dtype: 'float64', backend: wrapper }), unsupported('tensor')],
          ['tensor Float64Array', () => T.tensor(new Float64Array(2), { backend: wrapper }), unsupported('tensor')],
          ['zeros', () => T.zeros([2], { dtype: 'float64', backend: wrapper }), unsupported('(zeros|full|fill)')],
          ['arange', () => T.arange(3, undefined, 1, { dtype: 'float64', backend: wrapper }), unsupported('arange')],
          ['cast', () => x.cast('float64'), unsupported('cast')],
          ['oneHot', () => T.oneHot(i, 3, 'float64'), unsupported('(oneHot|cast)')],
        ]);
        // everything else still works on that backend
        const y = T.scope(() => x.add(1).matmul(x).sum());
        expect(Array.from(await y.data())).toEqual([16]);
        y.dispose();
      } finally {
        x.dispose();
        i.dispose();
      }
      expect(liveCounts(wrapper)).toEqual(start);
    }, { scoped: false });

    caseIt(ctx, 'mixing tensors of two backends names both', () => {
      const inner = ctx.backend;
      const forward: Backend = {
        name: `${inner.name}-other`,
        capabilities: inner.capabilities,
        allocate: (d, n) => inner.allocate(d, n),
        write: (s, d, data) => inner.write(s, d, data),
        read: (s, d) => inner.read(s, d),
        ...(inner.readSync ? { readSync: (s: unknown, d: DType) => inner.readSync!(s, d) } : {}),
        free: (s) => inner.free(s),
        hasKernel: (op) => inner.hasKernel(op),
        run: (op, a, b, p) => inner.run(op, a, b, p),
        memory: () => inner.memory(),
      };
      const a = T.ones([2], { backend: inner });
      const b = T.ones([2], { backend: forward });
      try {
        expectOpError(inner, 'add', () => T.add(a, b), new RegExp(`^add: input 1 is on backend "${forward.name}" but input 0 is on "${inner.name}"`));
      } finally {
        a.dispose();
        b.dispose();
      }
    }, { scoped: false });
  });
}
