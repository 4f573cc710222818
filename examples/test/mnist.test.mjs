// The README's main example must keep its promise: MLP 784-256-10 with Adam reaches ≥ 95% test
// accuracy on the fixed split (2,000 held-out digits) within 15 epochs.
import { describe, expect, it } from 'vitest';
import { trainMnist } from '../mnist/train.mjs';

describe('main example: MNIST', () => {
  it('MLP 784-256-10 with Adam reaches ≥ 95% test accuracy within 15 epochs', async () => {
    const { testAccuracy, history, model } = await trainMnist({ model: 'mlp', epochs: 15 });
    expect(history).toHaveLength(15);
    expect(history.at(-1).loss).toBeLessThan(history[0].loss); // it learned
    expect(testAccuracy).toBeGreaterThanOrEqual(0.95);
    model.dispose();
  });
});
