// The two MNIST models of the main example (examples/mnist/models.mjs), written for each library of
// the nn suite: ours are the example's own builders; TF.js gets the same layers with tf.sequential,
// in its native NHWC layout, and a copy of our initial weights.
import { transposeArray } from '../common/reference.mjs';

export const BATCH = 64;
export const LR = 1e-3;
export const CLASSES = 10;

/**
 * One entry per model. `tfjs(tf)` builds the TF.js twin of the example's model; `layout` lists, in
 * the order of our `model.parameters()` (which is TF.js' `model.getWeights()` order), how each of
 * our parameters becomes a TF.js weight:
 *   conv    OIHW → HWIO
 *   linear  (out, in) → (in, out); `from: [C, H, W]` when its input is a flattened (C, H, W)
 *           activation, whose NHWC flattening orders the inputs (H, W, C)
 *   bias    unchanged
 */
export const MODELS = [
  {
    id: 'mlp',
    name: `mlp 784-256-10 b${BATCH}`,
    describe: 'flatten, linear 784→256, ReLU, linear 256→10; softmax cross-entropy; batch 64 of 1×28×28',
    layout: [{ kind: 'linear', from: [1, 28, 28] }, { kind: 'bias' }, { kind: 'linear' }, { kind: 'bias' }],
    tfjs: (tf) =>
      tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [28, 28, 1] }), //  (B, 784)
          tf.layers.dense({ units: 256, activation: 'relu' }), // (B, 256)
          tf.layers.dense({ units: 10 }), //                    (B, 10) logits
        ],
      }),
  },
  {
    id: 'lenet',
    name: `lenet-5 b${BATCH}`,
    describe:
      'conv 1→6 5×5 pad 2, ReLU, maxpool 2, conv 6→16 5×5, ReLU, maxpool 2, flatten, linear 400→120, ReLU, 120→84, ReLU, 84→10; softmax cross-entropy; batch 64 of 1×28×28',
    layout: [
      { kind: 'conv' }, { kind: 'bias' },
      { kind: 'conv' }, { kind: 'bias' },
      { kind: 'linear', from: [16, 5, 5] }, { kind: 'bias' },
      { kind: 'linear' }, { kind: 'bias' },
      { kind: 'linear' }, { kind: 'bias' },
    ],
    tfjs: (tf) =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }), // (B, 28, 28, 6)
          tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }), //                                                       (B, 14, 14, 6)
          tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'valid', activation: 'relu' }), //                    (B, 10, 10, 16)
          tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }), //                                                       (B, 5, 5, 16)
          tf.layers.flatten(), //                                                                                       (B, 400)
          tf.layers.dense({ units: 120, activation: 'relu' }),
          tf.layers.dense({ units: 84, activation: 'relu' }),
          tf.layers.dense({ units: 10 }), //                                                                            (B, 10) logits
        ],
      }),
  },
];

/**
 * Our parameters ({shape, data} in `model.parameters()` order) as TF.js weights ({shape, data} in
 * `getWeights()` order).
 */
export function toTfjsWeights(model, params) {
  if (params.length !== model.layout.length) {
    throw new Error(`${model.id}: ours has ${params.length} parameters, the TF.js twin expects ${model.layout.length}`);
  }
  return params.map(({ shape, data }, i) => {
    const { kind, from } = model.layout[i];
    if (kind === 'bias') return { shape, data };
    if (kind === 'conv') {
      const [O, C, K, K2] = shape;
      return { shape: [K, K2, C, O], data: transposeArray(data, shape, [2, 3, 1, 0]) };
    }
    const [out, inF] = shape;
    const [C, H, W] = from ?? [inF, 1, 1];
    if (C * H * W !== inF) throw new Error(`${model.id}: parameter ${i} (${shape}) does not take a flattened (${from})`);
    // (out, C, H, W) → (H, W, C, out) = (in, out) with the inputs in NHWC flattening order
    return { shape: [inF, out], data: transposeArray(data, [out, C, H, W], [2, 3, 1, 0]) };
  });
}

/** NCHW images → NHWC. */
export function toNhwc(data, [N, C, H, W]) {
  return C === 1 ? Float32Array.from(data) : transposeArray(data, [N, C, H, W], [0, 2, 3, 1]);
}

/** int labels (N,) → one-hot float32 (N, classes). */
export function oneHot(labels, classes = CLASSES) {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((c, i) => { out[i * classes + c] = 1; });
  return out;
}
