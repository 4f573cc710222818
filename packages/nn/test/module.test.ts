import { backward } from '@ml/autograd';
import { Buffer, Module, ModuleList, Parameter, Sequential, toPytorchName } from '@ml/nn';
import { memory, scope, tensor, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';

class Affine extends Module {
  weight: Parameter;
  bias: Parameter;
  runningMean: Buffer;
  cache: Buffer;
  constructor(n: number, m: number, start = 0) {
    super();
    this.weight = new Parameter(scope(() => tensor(Array.from({ length: n * m }, (_, i) => start + i)).reshape([n, m])));
    this.bias = new Parameter(zeros([m]));
    this.runningMean = new Buffer(zeros([m]));
    this.cache = new Buffer(zeros([2]), { persistent: false });
  }
  forward(x: Tensor): Tensor {
    return x.matmul(this.weight).add(this.bias);
  }
  override extraRepr(): string {
    return `${this.weight.shape[0]}, ${this.weight.shape[1]}`;
  }
}

class Net extends Module {
  first = new Affine(2, 3);
  blocks = [new Affine(3, 3, 10), new Affine(3, 2, 20)];
  list = new ModuleList([new Affine(2, 2)]);
  forward(x: Tensor): Tensor {
    return this.blocks.reduce((h, b) => b.forward(h), this.first.forward(x));
  }
}

describe('Module', () => {
  it('finds parameters, buffers and children from its fields, in order, with dotted names', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'first.weight', 'first.bias', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias', 'list.0.weight', 'list.0.bias',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toContain('blocks.1.runningMean');
    expect(Object.keys(scope(() => net.stateDict()))).not.toContain('first.cache');
    expect(net.numParameters()).toBe(6 + 3 + 9 + 3 + 6 + 2 + 4 + 2);
    expect(net.modules()).toHaveLength(6);
    net.dispose();
  });

  it('Sequential names its children 0, 1, … and chains them', async () => {
    const seq = new Sequential(new Affine(2, 3), new Affine(3, 1));
    expect(Object.keys(scope(() => seq.stateDict()))).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '0.runningMean', '1.runningMean']);
    const y = seq.forward(tensor([[1, 1]]));
    // [1,1]·[[0,1,2],[3,4,5]] = [3,5,7]; · [0,1,2]ᵀ = 19
    expect(await y.array()).toEqual([[19]]);
    expect(seq.toString()).toBe('Sequential(\n  (0): Affine(2, 3)\n  (1): Affine(3, 1)\n)');
    seq.dispose();
  });

  it('train/eval reach every module', () => {
    const net = new Net().eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.dispose();
  });

  it('backward fills .grad of parameters; zeroGrad clears it', async () => {
    const m = new Affine(2, 3);
    const loss = m.forward(tensor([[1, 2]])).sum();
    backward(loss);
    expect(await m.weight.grad!.array()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(await m.bias.grad!.array()).toEqual([1, 1, 1]);
    m.zeroGrad();
    expect(m.weight.grad).toBeNull();
    loss.dispose();
    m.dispose();
  });

  it('stateDict values are snapshots; loadStateDict restores them', async () => {
    const m = new Affine(2, 2);
    const snap = m.stateDict();
    m.weight.assign(tensor([[9, 9], [9, 9]]));
    expect(await snap.weight.array()).toEqual([[0, 1], [2, 3]]);
    m.loadStateDict(snap);
    expect(await m.weight.array()).toEqual([[0, 1], [2, 3]]);
    for (const t of Object.values(snap)) t.dispose();
    m.dispose();
  });

  it('loadStateDict checks everything first and leaves the module untouched on error', async () => {
    const m = new Affine(2, 2);
    const good = scope(() => m.stateDict());
    const bad = { ...good, weight: tensor([[1, 2, 3]]), extra: tensor([1]) };
    delete (bad as Record<string, Tensor>).bias;
    expect(() => m.loadStateDict(bad)).toThrow(/missing key\(s\): bias.*unexpected key\(s\): extra.*size mismatch for weight: the state has shape \(1, 3\), the module has \(2, 2\)/);
    expect(await m.weight.array()).toEqual([[0, 1], [2, 3]]);
    expect(() => m.loadStateDict({ ...good, weight: tensor([[1, 2], [3, 4]], { dtype: 'float64' }) })).toThrow(/dtype mismatch for weight/);
    expect(() => m.loadStateDict({ ...good, extra: tensor([1]) }, { strict: false })).not.toThrow();
    m.dispose();
  });

  it('pytorch naming is snake_case', () => {
    expect(toPytorchName('blocks.0.runningMean')).toBe('blocks.0.running_mean');
    expect(toPytorchName('lstm.weightIhL0')).toBe('lstm.weight_ih_l0');
    const m = new Affine(1, 1);
    expect(Object.keys(scope(() => m.stateDict({ naming: 'pytorch' })))).toEqual(['weight', 'bias', 'running_mean']);
    m.dispose();
  });

  it('a Parameter takes over its tensor; assign shares the buffer and frees the old one', () => {
    const before = memory();
    const t = zeros([4]);
    const p = new Parameter(t);
    expect(t.isDisposed).toBe(true);
    expect(p.requiresGrad).toBe(true);
    const v = tensor([1, 2, 3, 4]);
    p.assign(v);
    v.dispose();
    expect(memory().buffers).toBe(before.buffers + 1);
    const wrong = zeros([3]);
    expect(() => p.assign(wrong)).toThrow(/Parameter.assign: the new value must have shape \(4,\) and dtype float32, got shape \(3,\)/);
    wrong.dispose();
    p.dispose();
    expect(memory()).toEqual(before);
  });

  it('dispose frees every parameter and buffer', () => {
    const before = memory();
    const net = new Net();
    net.dispose();
    expect(memory()).toEqual(before);
  });
});
