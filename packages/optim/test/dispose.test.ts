import { backward } from '@ml/autograd';
import { Linear } from '@ml/nn';
import { memory, random, scope } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { Adam, SGD } from '@ml/optim';

describe('Optimizer.dispose', () => {
  it('frees every state tensor, and the optimizer can start again from fresh state', () => {
    const fc = new Linear(4, 3, { key: random.key(0) });
    const x = random.normal(random.key(1), [8, 4]);
    const before = memory().tensors;
    for (const opt of [new Adam(fc.parameters(), { lr: 0.1 }), new SGD(fc.parameters(), { lr: 0.1, momentum: 0.9 })]) {
      const step = () =>
        scope(() => {
          backward(fc.forward(x).square().mean());
          opt.step();
          opt.zeroGrad();
        });
      step();
      expect(memory().tensors).toBeGreaterThan(before); // momentum buffers / running averages
      expect(opt.stateOf(fc.weight)?.step).toBe(1);
      opt.dispose();
      expect(memory().tensors).toBe(before);
      expect(opt.stateOf(fc.weight)).toBeUndefined();
      step(); // as if new: state is created again
      expect(opt.stateOf(fc.weight)?.step).toBe(1);
      opt.dispose();
      expect(memory().tensors).toBe(before);
    }
    x.dispose();
    fc.dispose();
  });
});
