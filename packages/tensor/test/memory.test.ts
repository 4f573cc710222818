import { describe, expect, it } from 'vitest';
import { createCpuBackend, keep, memory, ones, scope, tensor, zeros } from '../src/index.js';

describe('memory', () => {
  it('ops never consume inputs, and dispose frees the buffer once no view remains', () => {
    const be = createCpuBackend();
    const a = ones([2, 3], { backend: be });
    const t = a.transpose(); // a view: same buffer
    expect(memory(be)).toMatchObject({ tensors: 2, buffers: 1, bytes: 24 });
    const s = a.add(1);
    expect(a.isDisposed).toBe(false);
    a.dispose();
    expect(memory(be)).toMatchObject({ tensors: 2, buffers: 2 });
    expect(t.arraySync()).toEqual([[1, 1], [1, 1], [1, 1]]); // the view still reads the buffer
    t.dispose();
    s.dispose();
    expect(memory(be)).toMatchObject({ tensors: 0, buffers: 0, bytes: 0 });
  });

  it('using a disposed tensor is an error naming the op', () => {
    const a = tensor([1, 2]);
    a.dispose();
    expect(() => a.add(1)).toThrow(/add: input 0 .* was disposed/);
    expect(() => a.dataSync()).toThrow(/dataSync: tensor \(2,\) float32 was disposed/);
    expect(() => a.reshape([2, 1])).toThrow(/reshape: .*disposed/);
    a.dispose(); // twice is a no-op
  });

  it('Symbol.dispose lets `using` free a tensor at the end of a block', () => {
    const be = createCpuBackend();
    {
      using a = zeros([4], { backend: be });
      expect(memory(be).buffers).toBe(1);
      expect(a.size).toBe(4);
    }
    expect(memory(be)).toMatchObject({ tensors: 0, buffers: 0 });
  });

  it('scope frees intermediates and keeps what it returns (nested in objects too)', () => {
    const be = createCpuBackend();
    const x = ones([3], { backend: be });
    const out = scope(() => {
      const y = x.mul(2).add(1);
      const z = y.exp();
      return { y, pair: [z] };
    });
    expect(memory(be).tensors).toBe(3); // x, y, z
    expect(out.y.arraySync()).toEqual([3, 3, 3]);
    for (const t of [x, out.y, out.pair[0]]) t.dispose();
    expect(memory(be)).toMatchObject({ tensors: 0, buffers: 0 });
  });

  it('keep exempts a tensor; an error inside a scope still frees everything', () => {
    const be = createCpuBackend();
    let kept: ReturnType<typeof ones> | undefined;
    expect(() =>
      scope(() => {
        kept = keep(ones([2], { backend: be }));
        ones([5], { backend: be });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(memory(be).tensors).toBe(1);
    kept!.dispose();
  });

  it('async scopes track across await and never free each other’s tensors', async () => {
    const be = createCpuBackend();
    const tick = () => new Promise((r) => setTimeout(r, 1));
    const work = (v: number) =>
      scope(async () => {
        const a = ones([2], { backend: be }).mul(v);
        await tick();
        const b = a.add(v); // created after an await: still this scope's
        await tick();
        await b.data();
        return b;
      });
    const [r1, r2] = await Promise.all([work(1), work(10)]);
    expect(r1.arraySync()).toEqual([2, 2]);
    expect(r2.arraySync()).toEqual([20, 20]);
    expect(memory(be).tensors).toBe(2);
    r1.dispose();
    r2.dispose();
    expect(memory(be)).toMatchObject({ tensors: 0, buffers: 0 });
  });

  it('nested scopes hand returned tensors to the outer scope', () => {
    const be = createCpuBackend();
    scope(() => {
      const inner = scope(() => ones([2], { backend: be }).add(1));
      expect(memory(be).tensors).toBe(1);
      expect(inner.isDisposed).toBe(false);
    });
    expect(memory(be).tensors).toBe(0);
  });
});
