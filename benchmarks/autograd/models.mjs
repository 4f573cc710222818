// The models of the autograd suite, their inputs and a float64 reference of their loss and
// gradients, with each library's way of writing them. Shared by run.mjs (the benchmark) and
// profile.mjs (where our backward pass spends its time).
import { oneHotLabels, uniform } from '../common/random.mjs';
import { refAffine, refAffineBack, transposeArray } from '../common/reference.mjs';

export { transposeArray, uniform };

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** PyTorch's default init range: uniform in ±1/√fan_in, for weights and biases alike. */
function makeParams(specs, seed) {
  const params = {};
  specs.forEach(({ name, shape, fanIn }, i) => {
    const a = 1 / Math.sqrt(fanIn);
    params[name] = { shape, data: uniform(shape.reduce((p, d) => p * d, 1), -a, a, seed + i) };
  });
  return params;
}

// ---------------------------------------------------------------------------------------------
// float64 reference: forward and backward written out by hand
// ---------------------------------------------------------------------------------------------

const refRelu = (z) => z.map((v) => (v > 0 ? v : 0));
const refReluBack = (z, da) => da.map((g, i) => (z[i] > 0 ? g : 0));

/** Mean softmax cross-entropy of logits (B, C) against one-hot y, and its gradient. */
function refXent(z, y, B, C) {
  let loss = 0;
  const dz = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    const o = i * C;
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, z[o + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(z[o + j] - m);
    const lse = m + Math.log(s);
    let ysum = 0;
    for (let j = 0; j < C; j++) { loss -= (y[o + j] * (z[o + j] - lse)) / B; ysum += y[o + j]; }
    for (let j = 0; j < C; j++) dz[o + j] = (Math.exp(z[o + j] - lse) * ysum - y[o + j]) / B;
  }
  return { loss, dz };
}

/** 3×3 convolution, stride 1, zero padding 1: x (N, C, H, W), w (O, C, 3, 3) → (N, O, H, W). */
function refConv(x, w, b, N, C, H, W, O) {
  const out = new Float64Array(N * O * H * W);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const ob = (n * O + o) * H * W;
      for (let p = 0; p < H * W; p++) out[ob + p] = b[o];
      for (let c = 0; c < C; c++) {
        const xb = (n * C + c) * H * W;
        for (let ki = 0; ki < 3; ki++)
          for (let kj = 0; kj < 3; kj++) {
            const wv = w[((o * C + c) * 3 + ki) * 3 + kj];
            for (let yy = 0; yy < H; yy++) {
              const iy = yy + ki - 1;
              if (iy < 0 || iy >= H) continue;
              for (let xx = 0; xx < W; xx++) {
                const ix = xx + kj - 1;
                if (ix < 0 || ix >= W) continue;
                out[ob + yy * W + xx] += wv * x[xb + iy * W + ix];
              }
            }
          }
      }
    }
  return out;
}

/** Gradients of refConv: dw, db, and dx when asked. */
function refConvBack(x, w, dz, N, C, H, W, O, wantDx) {
  const dw = new Float64Array(O * C * 9);
  const db = new Float64Array(O);
  const dx = wantDx ? new Float64Array(N * C * H * W) : null;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const zb = (n * O + o) * H * W;
      for (let p = 0; p < H * W; p++) db[o] += dz[zb + p];
      for (let c = 0; c < C; c++) {
        const xb = (n * C + c) * H * W;
        for (let ki = 0; ki < 3; ki++)
          for (let kj = 0; kj < 3; kj++) {
            const wi = ((o * C + c) * 3 + ki) * 3 + kj;
            const wv = w[wi];
            let acc = 0;
            for (let yy = 0; yy < H; yy++) {
              const iy = yy + ki - 1;
              if (iy < 0 || iy >= H) continue;
              for (let xx = 0; xx < W; xx++) {
                const ix = xx + kj - 1;
                if (ix < 0 || ix >= W) continue;
                const g = dz[zb + yy * W + xx];
                acc += g * x[xb + iy * W + ix];
                if (dx) dx[xb + iy * W + ix] += g * wv;
              }
            }
            dw[wi] += acc;
          }
      }
    }
  return { dw, db, dx };
}

/** 2×2 max pooling, stride 2, with the index of each window's (first) maximum. */
function refPool(a, N, C, H, W) {
  const Ho = H >> 1;
  const Wo = W >> 1;
  const out = new Float64Array(N * C * Ho * Wo);
  const idx = new Int32Array(out.length);
  for (let nc = 0; nc < N * C; nc++)
    for (let yy = 0; yy < Ho; yy++)
      for (let xx = 0; xx < Wo; xx++) {
        let best = -Infinity;
        let bi = -1;
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 2; j++) {
            const k = nc * H * W + (2 * yy + i) * W + 2 * xx + j;
            if (a[k] > best) { best = a[k]; bi = k; }
          }
        const o = (nc * Ho + yy) * Wo + xx;
        out[o] = best;
        idx[o] = bi;
      }
  return { out, idx };
}

// ---------------------------------------------------------------------------------------------
// Models. Each has its parameter specs, its inputs, the float64 reference, and one builder per
// library family. Every library gets the same numbers (in its native layout).
// ---------------------------------------------------------------------------------------------

const MLP_B = 64;
const CNN_B = 32;

export const MODELS = [
  {
    id: 'mlp',
    name: `mlp 784-256-128-10 b${MLP_B}`,
    describe: `3-layer MLP 784-256-128-10, ReLU, softmax cross-entropy, batch ${MLP_B}, float32`,
    // multiply-adds of one forward pass (predicts when a very slow peer must be skipped)
    macs: MLP_B * (784 * 256 + 256 * 128 + 128 * 10),
    specs: [
      { name: 'w1', shape: [784, 256], fanIn: 784 },
      { name: 'b1', shape: [256], fanIn: 784 },
      { name: 'w2', shape: [256, 128], fanIn: 256 },
      { name: 'b2', shape: [128], fanIn: 256 },
      { name: 'w3', shape: [128, 10], fanIn: 128 },
      { name: 'b3', shape: [10], fanIn: 128 },
    ],
    make() {
      return {
        params: makeParams(this.specs, 100),
        x: { shape: [MLP_B, 784], data: uniform(MLP_B * 784, 0, 1, 1) },
        y: { shape: [MLP_B, 10], data: oneHotLabels(MLP_B, 10, 2) },
      };
    },
    reference(d) {
      const p = Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, v.data]));
      const B = MLP_B;
      const z1 = refAffine(d.x.data, p.w1, p.b1, B, 784, 256);
      const a1 = refRelu(z1);
      const z2 = refAffine(a1, p.w2, p.b2, B, 256, 128);
      const a2 = refRelu(z2);
      const z3 = refAffine(a2, p.w3, p.b3, B, 128, 10);
      const { loss, dz } = refXent(z3, d.y.data, B, 10);
      const g3 = refAffineBack(a2, p.w3, dz, B, 128, 10, true);
      const g2 = refAffineBack(a1, p.w2, refReluBack(z2, g3.dx), B, 256, 128, true);
      const g1 = refAffineBack(d.x.data, p.w1, refReluBack(z1, g2.dx), B, 784, 256, false);
      return { loss, grads: { w1: g1.dw, b1: g1.db, w2: g2.dw, b2: g2.db, w3: g3.dw, b3: g3.db } };
    },
    ours: (ml) => (p, x, y) => {
      const h1 = x.matmul(p.w1).add(p.b1).relu();
      const h2 = h1.matmul(p.w2).add(p.b2).relu();
      const logits = h2.matmul(p.w3).add(p.b3);
      return logits.logSoftmax(-1).mul(y).sum(-1).mean().neg();
    },
    tfjs: {
      // Same layout as ours: nothing to convert.
      toTf: (name, a) => a,
      fromTf: (name, a) => a,
      loss: (tf) => (p, x, y) => {
        const h1 = tf.relu(tf.add(tf.matMul(x, p.w1), p.b1));
        const h2 = tf.relu(tf.add(tf.matMul(h1, p.w2), p.b2));
        const logits = tf.add(tf.matMul(h2, p.w3), p.b3);
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits, -1), y), -1)));
      },
    },
    jax: (jax) => (p, x, y) => {
      const np = jax.numpy;
      const h1 = jax.nn.relu(np.matmul(x, p.w1).add(p.b1));
      const h2 = jax.nn.relu(np.matmul(h1, p.w2).add(p.b2));
      const logits = np.matmul(h2, p.w3).add(p.b3);
      return jax.nn.logSoftmax(logits, -1).mul(y).sum(-1).mean().neg();
    },
  },
  {
    id: 'cnn',
    name: `cnn 28x28 conv8-conv16-fc10 b${CNN_B}`,
    describe: `conv 1→8 3×3 pad 1, ReLU, maxPool 2, conv 8→16 3×3 pad 1, ReLU, maxPool 2, flatten, linear 784→10, softmax cross-entropy, batch ${CNN_B} of 1×28×28, float32`,
    macs: CNN_B * (8 * 784 * 9 + 16 * 196 * 72 + 784 * 10),
    specs: [
      { name: 'c1w', shape: [8, 1, 3, 3], fanIn: 9 },
      { name: 'c1b', shape: [8], fanIn: 9 },
      { name: 'c2w', shape: [16, 8, 3, 3], fanIn: 72 },
      { name: 'c2b', shape: [16], fanIn: 72 },
      { name: 'fw', shape: [784, 10], fanIn: 784 },
      { name: 'fb', shape: [10], fanIn: 784 },
    ],
    make() {
      return {
        params: makeParams(this.specs, 200),
        x: { shape: [CNN_B, 1, 28, 28], data: uniform(CNN_B * 784, 0, 1, 3) },
        y: { shape: [CNN_B, 10], data: oneHotLabels(CNN_B, 10, 4) },
      };
    },
    reference(d) {
      const p = Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, v.data]));
      const N = CNN_B;
      const z1 = refConv(d.x.data, p.c1w, p.c1b, N, 1, 28, 28, 8);
      const a1 = refRelu(z1);
      const p1 = refPool(a1, N, 8, 28, 28);
      const z2 = refConv(p1.out, p.c2w, p.c2b, N, 8, 14, 14, 16);
      const a2 = refRelu(z2);
      const p2 = refPool(a2, N, 16, 14, 14); // (N, 16, 7, 7) flattens in (c, h, w) order
      const z3 = refAffine(p2.out, p.fw, p.fb, N, 784, 10);
      const { loss, dz } = refXent(z3, d.y.data, N, 10);
      const gf = refAffineBack(p2.out, p.fw, dz, N, 784, 10, true);
      const da2 = new Float64Array(a2.length);
      p2.idx.forEach((k, o) => (da2[k] += gf.dx[o]));
      const g2 = refConvBack(p1.out, p.c2w, refReluBack(z2, da2), N, 8, 14, 14, 16, true);
      const da1 = new Float64Array(a1.length);
      p1.idx.forEach((k, o) => (da1[k] += g2.dx[o]));
      const g1 = refConvBack(d.x.data, p.c1w, refReluBack(z1, da1), N, 1, 28, 28, 8, false);
      return { loss, grads: { c1w: g1.dw, c1b: g1.db, c2w: g2.dw, c2b: g2.db, fw: gf.dw, fb: gf.db } };
    },
    ours: (ml) => (p, x, y) => {
      const h1 = ml.maxPool2d(ml.conv2d(x, p.c1w, p.c1b, { padding: 1 }).relu(), 2);
      const h2 = ml.maxPool2d(ml.conv2d(h1, p.c2w, p.c2b, { padding: 1 }).relu(), 2);
      const logits = h2.reshape([CNN_B, 784]).matmul(p.fw).add(p.fb);
      return logits.logSoftmax(-1).mul(y).sum(-1).mean().neg();
    },
    tfjs: {
      // TF.js' native layouts: NHWC activations, HWIO filters. Flattening NHWC gives (h, w, c)
      // order, so the rows of the linear layer are permuted once to match ours' (c, h, w) order.
      // Gradients are converted back before they are compared.
      toTf(name, a) {
        if (name === 'c1w') return transposeArray(a, [8, 1, 3, 3], [2, 3, 1, 0]);
        if (name === 'c2w') return transposeArray(a, [16, 8, 3, 3], [2, 3, 1, 0]);
        if (name === 'fw') return transposeArray(a, [16, 7, 7, 10], [1, 2, 0, 3]);
        if (name === 'x') return transposeArray(a, [CNN_B, 1, 28, 28], [0, 2, 3, 1]);
        return a;
      },
      fromTf(name, a) {
        if (name === 'c1w') return transposeArray(a, [3, 3, 1, 8], [3, 2, 0, 1]);
        if (name === 'c2w') return transposeArray(a, [3, 3, 8, 16], [3, 2, 0, 1]);
        if (name === 'fw') return transposeArray(a, [7, 7, 16, 10], [2, 0, 1, 3]);
        return a;
      },
      shapes: { c1w: [3, 3, 1, 8], c2w: [3, 3, 8, 16], x: [CNN_B, 28, 28, 1] },
      loss: (tf) => (p, x, y) => {
        const h1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, p.c1w, 1, 'same'), p.c1b)), 2, 2, 'valid');
        const h2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(h1, p.c2w, 1, 'same'), p.c2b)), 2, 2, 'valid');
        const logits = tf.add(tf.matMul(tf.reshape(h2, [CNN_B, 784]), p.fw), p.fb);
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits, -1), y), -1)));
      },
    },
    jax: (jax) => {
      const np = jax.numpy;
      const pool = (a) => jax.lax.reduceWindow(a, (w) => np.max(w), [2, 2], [2, 2]);
      const conv = (a, w, b, c) => jax.lax.conv(a, w, [1, 1], [[1, 1], [1, 1]]).add(b.reshape([1, c, 1, 1]));
      return (p, x, y) => {
        const h1 = pool(jax.nn.relu(conv(x, p.c1w, p.c1b, 8)));
        const h2 = pool(jax.nn.relu(conv(h1, p.c2w, p.c2b, 16)));
        const logits = np.matmul(h2.reshape([CNN_B, 784]), p.fw).add(p.fb);
        return jax.nn.logSoftmax(logits, -1).mul(y).sum(-1).mean().neg();
      };
    },
  },
];
