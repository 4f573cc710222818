import { iris } from '@ml/data';
import { describe, expect, it } from 'vitest';

describe('iris', () => {
  it('features (150, 4) float32, labels (150,) int32, 50 of each class', async () => {
    const { features, labels, classNames, featureNames } = iris();
    expect(features.shape).toEqual([150, 4]);
    expect(features.dtype).toBe('float32');
    expect(labels.shape).toEqual([150]);
    expect(labels.dtype).toBe('int32');
    expect(classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(featureNames).toHaveLength(4);
    const y = Array.from(await labels.data());
    expect([0, 1, 2].map((c) => y.filter((v) => v === c).length)).toEqual([50, 50, 50]);
    // Fisher's first flower, and the species' well-known mean petal lengths (1.462, 4.260, 5.552 cm)
    const x = (await features.array()) as number[][];
    expect(x[0].map((v) => Math.round(v * 10) / 10)).toEqual([5.1, 3.5, 1.4, 0.2]);
    const meanPetal = [0, 1, 2].map((c) => x.filter((_, i) => y[i] === c).reduce((s, r) => s + r[2], 0) / 50);
    expect(meanPetal[0]).toBeCloseTo(1.462, 5);
    expect(meanPetal[1]).toBeCloseTo(4.26, 5);
    expect(meanPetal[2]).toBeCloseTo(5.552, 5);
    features.dispose();
    labels.dispose();
  });
});
