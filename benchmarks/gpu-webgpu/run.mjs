#!/usr/bin/env node
// WebGPU benchmark suite: @ml/tensor on @ml/gpu-webgpu side by side with TensorFlow.js' WebGPU
// backend and jax-js' webgpu device, on the same adapter, in one Node process, on the same inputs.
// @ml/tensor's CPU backend runs the same cases as a fourth column, for scale.
//
//   node --expose-gc gpu-webgpu/run.mjs [--quick] [--json] [--filter <text>] [--readback]
//                                       [--max-run-ms <ms>] [--peak-gflops <n>] [--lib <id>]
//                                       [--out <file.json>]
//
// In Node, WebGPU comes from the `webgpu` package (Dawn). On a machine without a GPU, Dawn runs
// on SwiftShader, a Vulkan driver that emulates a GPU on the CPU: the numbers then only show
// that nothing is pathologically slow. See ../README.md for what each case measures.
import { parseArgs } from '../common/args.mjs';
import { setupWebGPU } from '../common/webgpu.mjs';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { compare } from '../common/compare.mjs';
import { NotAvailable, firstLine } from '../common/errors.mjs';
import { fmtMs, fmtSeconds, table } from '../common/format.mjs';
import { gitCommit, machineInfo as baseMachineInfo, packageVersion } from '../common/machine.mjs';
import { consoleToStderr, gc, progress, stdoutWrite } from '../common/output.mjs';
import { measure as measureWith } from '../common/timing.mjs';
import {
  MLP,
  MLP_MACS,
  makeMlpData,
  refConv2d,
  refMatmulRows,
  refMlpStep,
  refSoftmax,
  transposeArray,
  uniform,
} from './reference.mjs';

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const LIB_IDS = ['ours', 'tfjs-webgpu', 'jax-webgpu', 'ours-cpu'];

const USAGE = `usage: node --expose-gc gpu-webgpu/run.mjs [options]

  --quick              smoke run: matmul up to 1024, fewer repetitions
  --json               print one JSON object on stdout (progress goes to stderr)
  --filter <text>      only cases whose name contains <text> (case-insensitive; repeatable)
  --readback           force completion by copying the whole output back to JS
                       (default: read one element, which waits for the GPU to finish)
  --max-run-ms <ms>    a library whose single run takes longer than this is not repeated, and
                       larger cases it is predicted to exceed this on are skipped (default 5000)
  --peak-gflops <n>    the GPU's float32 peak in GFLOP/s, for the "25% of peak" target
  --lib <id>           only these columns (repeatable): ${LIB_IDS.join(', ')}
  --out <file>         also write the JSON object to <file>
  --help               this text`;

const parseOptions = (argv) => parseArgs(argv, USAGE, {
  '--quick': ['quick', 'on'],
  '--json': ['json', 'on'],
  '--filter': ['filters', 'filters'],
  '--max-run-ms': ['maxRunMs', 'positive'],
  '--out': ['out', 'text'],
  '--readback': ['readback', 'on'],
  '--peak-gflops': ['peakGflops', 'positive'],
  '--lib': ['libs', 'oneOf', LIB_IDS],
}, { quick: false, json: false, filters: [], readback: false, maxRunMs: 5000, peakGflops: null, libs: [], out: null });

const opts = parseOptions(process.argv.slice(2));

const PROTOCOL = opts.quick
  ? { warmup: 2, minRuns: 3, minTimeMs: 100, maxRuns: 200 }
  : { warmup: 3, minRuns: 5, minTimeMs: 500, maxRuns: 1000 };

// With --json, stdout carries the JSON object and nothing else.
if (opts.json) consoleToStderr();

// ---------------------------------------------------------------------------------------------
// Cases. Each builds its inputs once; every library gets the same numbers in its native layout.
// `work` (multiply-adds or elements) predicts when a slow library should skip a larger case;
// `flops` gives GFLOP/s.
// ---------------------------------------------------------------------------------------------

/** Rows of an n×n product compared with the float64 reference: all of them up to 1024. */
function checkedRows(n) {
  if (n <= 1024) return null;
  const count = 128;
  return Array.from({ length: count }, (_, i) => Math.floor((i * (n - 1)) / (count - 1)));
}

function matmulCase(n) {
  return {
    name: `matmul ${n}x${n} f32`,
    group: 'matmul',
    n,
    work: n * n * n,
    flops: 2 * n * n * n,
    quick: n <= 1024,
    tol: 1e-4,
    make() {
      const a = uniform(n * n, -1, 1, 1000 + n);
      const b = uniform(n * n, -1, 1, 2000 + n);
      const rows = checkedRows(n);
      return {
        a,
        b,
        checked: rows ? `${rows.length} of ${n} rows checked` : null,
        pick: rows ? (out) => { const o = new Float32Array(rows.length * n); rows.forEach((r, i) => o.set(out.subarray(r * n, (r + 1) * n), i * n)); return o; } : null,
        ref: () => refMatmulRows(a, b, n, n, rows ?? Array.from({ length: n }, (_, i) => i)),
      };
    },
    ours: (ml, d, T) => { const a = T(d.a, [n, n]); const b = T(d.b, [n, n]); return { inputs: [a, b], run: () => ml.matmul(a, b) }; },
    tfjs: (tf, d, T) => { const a = T(d.a, [n, n]); const b = T(d.b, [n, n]); return { inputs: [a, b], run: () => tf.matMul(a, b) }; },
    jax: (jax, d, T) => { const a = T(d.a, [n, n]); const b = T(d.b, [n, n]); return { inputs: [a, b], run: () => jax.numpy.matmul(a.ref, b.ref) }; },
  };
}

const ELEMS = 1 << 20; // 1,048,576

let tfVariables = 0;

const CASES = [
  ...[256, 512, 1024, 2048, 4096].map(matmulCase),
  {
    name: 'add 1M f32',
    group: 'add',
    work: ELEMS,
    quick: true,
    tol: 1e-6,
    make() {
      const a = uniform(ELEMS, -1, 1, 11);
      const b = uniform(ELEMS, -1, 1, 12);
      return { a, b, ref: () => Float64Array.from(a, (v, i) => v + b[i]) };
    },
    ours: (ml, d, T) => { const a = T(d.a, [ELEMS]); const b = T(d.b, [ELEMS]); return { inputs: [a, b], run: () => ml.add(a, b) }; },
    tfjs: (tf, d, T) => { const a = T(d.a, [ELEMS]); const b = T(d.b, [ELEMS]); return { inputs: [a, b], run: () => tf.add(a, b) }; },
    jax: (jax, d, T) => { const a = T(d.a, [ELEMS]); const b = T(d.b, [ELEMS]); return { inputs: [a, b], run: () => jax.numpy.add(a.ref, b.ref) }; },
  },
  {
    name: 'exp 1M f32',
    group: 'exp',
    work: ELEMS,
    quick: true,
    tol: 1e-5,
    make() {
      const a = uniform(ELEMS, -4, 4, 21);
      return { a, ref: () => Float64Array.from(a, (v) => Math.exp(v)) };
    },
    ours: (ml, d, T) => { const a = T(d.a, [ELEMS]); return { inputs: [a], run: () => ml.exp(a) }; },
    tfjs: (tf, d, T) => { const a = T(d.a, [ELEMS]); return { inputs: [a], run: () => tf.exp(a) }; },
    jax: (jax, d, T) => { const a = T(d.a, [ELEMS]); return { inputs: [a], run: () => jax.numpy.exp(a.ref) }; },
  },
  {
    name: 'softmax (1000,1000) last axis',
    group: 'softmax',
    work: 5 * 1000 * 1000,
    quick: true,
    tol: 1e-4,
    make() {
      const a = uniform(1000 * 1000, -6, 6, 41);
      return { a, ref: () => refSoftmax(a, 1000, 1000) };
    },
    ours: (ml, d, T) => { const a = T(d.a, [1000, 1000]); return { inputs: [a], run: () => ml.softmax(a, -1) }; },
    tfjs: (tf, d, T) => { const a = T(d.a, [1000, 1000]); return { inputs: [a], run: () => tf.softmax(a, -1) }; },
    jax: (jax, d, T) => { const a = T(d.a, [1000, 1000]); return { inputs: [a], run: () => jax.nn.softmax(a.ref, -1) }; },
  },
  (() => {
    const [N, C, H, W, O, K, P] = [8, 16, 32, 32, 32, 3, 1];
    const Ho = H + 2 * P - K + 1;
    const Wo = W + 2 * P - K + 1;
    const macs = N * O * Ho * Wo * C * K * K;
    return {
      name: `conv2d N${N} ${C}->${O} ${H}x${W} k${K} p${P}`,
      group: 'conv2d',
      work: macs,
      flops: 2 * macs,
      quick: true,
      tol: 1e-4,
      make() {
        const x = uniform(N * C * H * W, -1, 1, 51); // NCHW
        const w = uniform(O * C * K * K, -0.5, 0.5, 52); // OIHW
        return {
          x,
          w,
          // TF.js' native layouts, made once outside any timed region.
          xNhwc: transposeArray(x, [N, C, H, W], [0, 2, 3, 1]),
          wHwio: transposeArray(w, [O, C, K, K], [2, 3, 1, 0]),
          ref: () => refConv2d(x, w, N, C, H, W, O, K, P),
        };
      },
      ours: (ml, d, T) => {
        const x = T(d.x, [N, C, H, W]);
        const w = T(d.w, [O, C, K, K]);
        return { inputs: [x, w], run: () => ml.conv2d(x, w, undefined, { stride: 1, padding: P }) };
      },
      tfjs: (tf, d, T) => {
        const x = T(d.xNhwc, [N, H, W, C]);
        const w = T(d.wHwio, [K, K, C, O]);
        return {
          inputs: [x, w],
          run: () => tf.conv2d(x, w, 1, [[0, 0], [P, P], [P, P], [0, 0]], 'NHWC'),
          // Output comes back NHWC; the check compares it in NCHW.
          canonical: (data) => transposeArray(data, [N, Ho, Wo, O], [0, 3, 1, 2]),
        };
      },
      jax: (jax, d, T) => {
        const x = T(d.x, [N, C, H, W]);
        const w = T(d.w, [O, C, K, K]);
        return { inputs: [x, w], run: () => jax.lax.conv(x.ref, w.ref, [1, 1], [[P, P], [P, P]]) };
      },
    };
  })(),
  {
    name: `mlp step ${MLP.sizes.join('-')} b${MLP.batch}`,
    group: 'mlp',
    // forward + backward ≈ 3 forward passes of multiply-adds
    work: 3 * MLP_MACS,
    flops: 6 * MLP_MACS,
    quick: true,
    tol: { loss: 1e-5, grad: 1e-4, param: 1e-5 },
    make() {
      const d = makeMlpData();
      return { ...d, ref: () => refMlpStep(d) };
    },
    compare: compareStep,
    // valueAndGrad over a params object, then p ← p − lr·g; the new parameters replace the old.
    ours: (ml, d, T, ag) => {
      let params = Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, T(v.data, v.shape)]));
      const x = T(d.x.data, d.x.shape);
      const y = T(d.y.data, d.y.shape);
      const loss = (p, x, y) => {
        const h = x.matmul(p.w1).add(p.b1).relu();
        const logits = h.matmul(p.w2).add(p.b2);
        return logits.logSoftmax(-1).mul(y).sum(-1).mean().neg();
      };
      const vg = ag.valueAndGrad(loss);
      const step = (keepGrads) =>
        ml.scope(() => {
          const [value, grads] = vg(params, x, y);
          const next = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.sub(grads[k].mul(MLP.lr))]));
          return keepGrads ? { value, grads, next } : { value, next };
        });
      const swap = (next) => {
        for (const p of Object.values(params)) p.dispose();
        params = next;
      };
      return {
        run() {
          const { value, next } = step(false);
          swap(next);
          return value;
        },
        async read() {
          const { value, grads, next } = step(true);
          const out = { loss: (await value.data())[0], grads: {}, next: {} };
          for (const k of Object.keys(grads)) {
            out.grads[k] = await grads[k].data();
            out.next[k] = await next[k].data();
            grads[k].dispose();
          }
          value.dispose();
          swap(next);
          return out;
        },
        release() {
          for (const t of [...Object.values(params), x, y]) t.dispose();
        },
      };
    },
    // tf.variableGrads, then v.assign(v − lr·g).
    tfjs: (tf, d, T) => {
      const id = ++tfVariables;
      const vars = Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, tf.variable(T(v.data, v.shape), true, `mlp${id}_${k}`)]));
      const nameOf = new Map(Object.entries(vars).map(([k, v]) => [v.name, k]));
      const varList = Object.values(vars);
      const x = T(d.x.data, d.x.shape);
      const y = T(d.y.data, d.y.shape);
      const loss = () => {
        const h = tf.relu(tf.add(tf.matMul(x, vars.w1), vars.b1));
        const logits = tf.add(tf.matMul(h, vars.w2), vars.b2);
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits, -1), y), -1)));
      };
      const step = () => {
        const { value, grads } = tf.variableGrads(loss, varList);
        tf.tidy(() => {
          for (const [name, g] of Object.entries(grads)) {
            const v = vars[nameOf.get(name)];
            v.assign(tf.sub(v, tf.mul(g, MLP.lr)));
          }
        });
        return { value, grads };
      };
      return {
        run() {
          const { value, grads } = step();
          tf.dispose(grads);
          return value;
        },
        async read() {
          const { value, grads } = step();
          const out = { loss: (await value.data())[0], grads: {}, next: {} };
          for (const [name, g] of Object.entries(grads)) {
            const k = nameOf.get(name);
            out.grads[k] = await g.data();
            out.next[k] = await vars[k].data();
          }
          value.dispose();
          tf.dispose(grads);
          return out;
        },
        release() {
          tf.dispose([...varList, x, y]);
        },
      };
    },
    // jax.valueAndGrad, then p.sub(g.mul(lr)) (jax-js moves arrays into ops: `.ref` keeps one).
    jax: (jax, d, T) => {
      const np = jax.numpy;
      let params = Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, T(v.data, v.shape)]));
      const x = T(d.x.data, d.x.shape);
      const y = T(d.y.data, d.y.shape);
      const loss = (p, x, y) => {
        const h = jax.nn.relu(np.matmul(x, p.w1).add(p.b1));
        const logits = np.matmul(h, p.w2).add(p.b2);
        return jax.nn.logSoftmax(logits, -1).mul(y).sum(-1).mean().neg();
      };
      const vg = jax.valueAndGrad(loss);
      const step = (keepGrads) => {
        const [value, grads] = vg(jax.tree.ref(params), x.ref, y.ref);
        const next = Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.sub((keepGrads ? grads[k].ref : grads[k]).mul(MLP.lr))]));
        params = next;
        return { value, grads };
      };
      return {
        get inputs() { return [...Object.values(params), x, y]; },
        // jax-js is lazy: the updated parameters are waited for too, not only the loss.
        pending: () => Object.values(params),
        run() { return step(false).value; },
        async read() {
          const { value, grads } = step(true);
          const out = { loss: (await value.data())[0], grads: {}, next: {} };
          for (const k of Object.keys(grads)) {
            out.grads[k] = Float32Array.from(await grads[k].data());
            out.next[k] = Float32Array.from(await params[k].ref.data());
          }
          return out;
        },
        release() {
          for (const t of [...Object.values(params), x, y]) t.dispose();
        },
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Libraries. Each turns a case into { run once and force completion, read the output, release
// everything }. Loading failures become "n/a" with the reason, never a crash.
// ---------------------------------------------------------------------------------------------

/** @ml/tensor on the WebGPU backend ('ours') and on its CPU backend ('ours-cpu'). */
async function loadOurs(webgpuEnv) {
  let ml;
  let ag;
  try {
    ml = await import('@ml/tensor');
    ag = await import('@ml/autograd');
  } catch (e) {
    const reason = `cannot load @ml/tensor + @ml/autograd (build them: pnpm turbo run build --filter=@ml/benchmarks^...): ${firstLine(e)}`;
    return [{ id: 'ours', reason }, { id: 'ours-cpu', reason }];
  }
  const version = packageVersion('@ml/tensor');

  const make = (id, backend, libVersion) => {
    const isCpu = backend.name === 'cpu';
    // Waiting for the GPU: read one element of the output (a 1-element view is copied to a fresh
    // buffer and mapped), which returns once every earlier kernel has finished. CPU ops finish
    // before they return: touching one element is the symmetric step. --readback reads it all.
    const force = async (o) => {
      if (opts.readback) return void (await o.data());
      if (isCpu) {
        const s = o.storage;
        if (s && typeof s.length === 'number') return void s[o.offset];
        return void o.dataSync();
      }
      if (o.size <= 1) return void (await o.data());
      const one = ml.sliceView(o, o.shape.map(() => 0), o.shape.map(() => 1), o.shape.map(() => 1));
      try {
        await one.data();
      } finally {
        one.dispose();
      }
    };
    return {
      id,
      version: libVersion,
      backend,
      live: () => ml.memory(backend).tensors,
      async prepare(c, data) {
        // Like a program that calls setBackend(await webgpu()): anything created without an
        // explicit backend goes to this one.
        ml.setBackend(backend);
        const T = (arr, shape) => ml.tensor(arr, { shape, dtype: 'float32', backend });
        const impl = c.ours(ml, data, T, ag);
        if (!isCpu) await backend.sync();
        return {
          async iter() {
            const o = impl.run();
            try {
              await force(o);
            } finally {
              o.dispose();
            }
          },
          async read() {
            if (impl.read) return impl.read();
            const o = impl.run();
            try {
              return Float32Array.from(await o.data());
            } finally {
              o.dispose();
            }
          },
          release() {
            if (impl.release) impl.release();
            else for (const t of impl.inputs) t.dispose();
          },
        };
      },
    };
  };

  const cpu = make('ours-cpu', ml.createCpuBackend(), version);
  if (webgpuEnv.reason) return [{ id: 'ours', reason: webgpuEnv.reason }, cpu];
  let gpu;
  try {
    const { webgpu } = await import('@ml/gpu-webgpu');
    gpu = await webgpu();
  } catch (e) {
    return [{ id: 'ours', reason: `cannot create the WebGPU backend: ${firstLine(e)}` }, cpu];
  }
  return [make('ours', gpu, `${packageVersion('@ml/gpu-webgpu')} (tensor ${version})`), cpu];
}

async function loadTfjs(webgpuEnv) {
  const id = 'tfjs-webgpu';
  if (webgpuEnv.reason) return { id, reason: webgpuEnv.reason };
  let tf;
  try {
    const core = await import('@tensorflow/tfjs-core');
    tf = typeof core.setBackend === 'function' ? core : core.default;
    // tfjs-core registers no gradient functions itself: the @tensorflow/tfjs bundle does (on the
    // same tfjs-core module), as it does for every TF.js user.
    await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu'); // registers the 'webgpu' backend
    tf.enableProdMode();
    if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') returned false");
    await tf.ready();
  } catch (e) {
    return { id, reason: `cannot load @tensorflow/tfjs-core + tfjs-backend-webgpu: ${firstLine(e)}` };
  }
  const T = (arr, shape) => tf.tensor(arr, shape, 'float32');
  // Waiting for the GPU: read one element (tf.slice, then data()); --readback reads it all.
  const force = async (o) => {
    if (opts.readback || o.size <= 1) return void (await o.data());
    const one = tf.slice(o, o.shape.map(() => 0), o.shape.map(() => 1));
    try {
      await one.data();
    } finally {
      one.dispose();
    }
  };
  return {
    id,
    version: packageVersion('@tensorflow/tfjs-backend-webgpu'),
    live: () => tf.memory().numTensors,
    async prepare(c, data) {
      const impl = c.tfjs(tf, data, T);
      return {
        async iter() {
          const o = impl.run();
          try {
            await force(o);
          } finally {
            o.dispose();
          }
        },
        async read() {
          if (impl.read) return impl.read();
          const o = impl.run();
          try {
            const d = Float32Array.from(await o.data());
            return impl.canonical ? impl.canonical(d) : d;
          } finally {
            o.dispose();
          }
        },
        release() {
          if (impl.release) impl.release();
          else for (const t of impl.inputs) t.dispose();
        },
      };
    },
  };
}

async function loadJax(webgpuEnv) {
  const id = 'jax-webgpu';
  if (webgpuEnv.reason) return { id, reason: webgpuEnv.reason };
  let jax;
  let devices;
  try {
    jax = await import('@jax-js/jax');
    devices = await jax.init('webgpu');
  } catch (e) {
    return { id, reason: `cannot load @jax-js/jax's webgpu device: ${firstLine(e)}` };
  }
  if (!devices.includes('webgpu')) return { id, reason: `jax-js found no webgpu device (init() gave: ${devices.join(', ') || 'none'})` };
  const T = (arr, shape) => jax.numpy.array(arr, { shape, device: 'webgpu', dtype: jax.numpy.float32 });
  return {
    id,
    version: packageVersion('@jax-js/jax'),
    live: null,
    async prepare(c, data) {
      // jax-js moves arrays into each op: inputs are passed as `x.ref` so they survive, and the
      // output is disposed (or consumed by data()) inside the timed region. blockUntilReady
      // dispatches what is pending and waits for the GPU.
      const impl = c.jax(jax, data, T);
      for (const t of impl.inputs) await t.blockUntilReady();
      return {
        async iter() {
          const o = impl.run();
          if (opts.readback) {
            await o.data();
            if (impl.pending) await jax.blockUntilReady(impl.pending());
            return;
          }
          await jax.blockUntilReady(impl.pending ? [o, ...impl.pending()] : o);
          o.dispose();
        },
        async read() {
          if (impl.read) return impl.read();
          return Float32Array.from(await impl.run().data());
        },
        release() {
          if (impl.release) impl.release();
          else for (const t of impl.inputs) t.dispose();
        },
        inputsLeak() {
          return impl.inputs.some((t) => t.refCount !== 1);
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

const measure = (iter, capMs) => measureWith(iter, PROTOCOL, capMs);

/** A training step: the loss, every gradient and every updated parameter against float64. */
function compareStep(out, ref, tol) {
  const parts = [['loss', compare([out.loss], [ref.loss], tol.loss)]];
  for (const k of Object.keys(ref.grads)) {
    parts.push([`d${k}`, compare(out.grads[k] ?? [], ref.grads[k], tol.grad)]);
    parts.push([`${k}'`, compare(out.next[k] ?? [], ref.next[k], tol.param)]);
  }
  const bad = parts.filter(([, c]) => !c.ok);
  const [worstName, worst] = parts.reduce((w, p) => (p[1].relDiff > w[1].relDiff || !p[1].ok ? p : w));
  return {
    ok: bad.length === 0,
    maxAbsDiff: worst.maxAbsDiff ?? null,
    relDiff: worst.relDiff ?? null,
    detail: bad.length
      ? bad.map(([n, c]) => `${n}: ${c.detail}`).join('; ')
      : `loss, 4 gradients and 4 updated parameters agree; worst ${worstName}: ${worst.detail}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------

function machineInfo(webgpuEnv) {
  return {
    ...baseMachineInfo(),
    gpu: webgpuEnv.adapter
      ? (({ name, ...info }) => ({ adapter: name, ...info, software: webgpuEnv.software, driver: webgpuEnv.driver }))(webgpuEnv.adapter)
      : { adapter: null, reason: webgpuEnv.reason, driver: webgpuEnv.driver },
  };
}

function selectedCases() {
  return CASES.filter((c) => (!opts.quick || c.quick) && (opts.filters.length === 0 || opts.filters.some((f) => c.name.toLowerCase().includes(f))));
}

function fmtRate(x) {
  if (x === null || x === undefined) return '–';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Explains a failure: a primitive the backend has no kernel for yet is not a crash. */
function failureNote(e) {
  const msg = firstLine(e);
  if (/has no kernel for primitive/.test(msg)) return `not available yet: ${msg}`;
  return `failed: ${msg}`;
}

async function runLib(lib, c, data, rates) {
  const res = { ms: null, runs: 0, note: null, check: null };
  if (lib.reason) { res.note = lib.reason; return res; }
  // A case predicted (from this library's time on a smaller one) to take longer than
  // --max-run-ms per run is skipped: on SwiftShader the large matrix products would take minutes.
  const rate = rates.get(`${lib.id}:${c.group}`);
  if (rate && rate.msPerWork * c.work > opts.maxRunMs) {
    res.note = `skipped: ~${fmtSeconds(rate.msPerWork * c.work)} per run predicted from "${rate.from}" (over --max-run-ms ${opts.maxRunMs})`;
    return res;
  }
  let prepared;
  try {
    prepared = await lib.prepare(c, data);
  } catch (e) {
    res.note = e instanceof NotAvailable ? e.message : failureNote(e);
    return res;
  }
  try {
    const liveBefore = lib.live ? lib.live() : null;
    const t0 = performance.now();
    const out = await prepared.read();
    const checkMs = performance.now() - t0;
    const ref = data.reference();
    res.check = c.compare ? c.compare(out, ref, c.tol) : compare(data.pick ? data.pick(out) : out, ref, c.tol);
    if (data.checked) res.check.detail += ` (${data.checked})`;
    let m;
    // The check is the first (cold) run: pipelines are compiled then. Only a very slow one
    // stops here; otherwise the warm-up runs decide whether to repeat.
    if (checkMs > 3 * opts.maxRunMs) {
      m = { ms: checkMs, runs: 1, capped: true, cold: true };
    } else {
      gc();
      m = await measure(prepared.iter, opts.maxRunMs);
    }
    res.ms = m.ms;
    res.runs = m.runs;
    if (m.capped) res.note = `${m.cold ? 'one cold run' : 'one run'} only: it took ${fmtSeconds(m.ms)} (over --max-run-ms ${opts.maxRunMs})`;
    // Throughput on small cases understates it on large ones: keep the largest case measured.
    const prev = rates.get(`${lib.id}:${c.group}`);
    if (!prev || c.work >= prev.work) rates.set(`${lib.id}:${c.group}`, { msPerWork: m.ms / c.work, work: c.work, from: c.name });
    if (lib.live) {
      const leaked = lib.live() - liveBefore;
      if (leaked !== 0) res.leak = `${leaked} tensor(s) still alive after ${m.runs + PROTOCOL.warmup + 1} runs`;
    }
    if (prepared.inputsLeak?.()) res.leak = 'input reference counts changed while timing';
  } catch (e) {
    res.ms = null;
    res.note = failureNote(e);
  } finally {
    try { prepared.release(); } catch { /* already released */ }
  }
  return res;
}

const TARGET_CASE = 'matmul 2048x2048 f32';

function decideTargets(results, webgpuEnv) {
  const row = results.find((r) => r.name === TARGET_CASE);
  const software = webgpuEnv.software
    ? `the adapter is a software renderer (${webgpuEnv.adapter.name}), not GPU hardware: the targets are about real GPUs`
    : null;
  const missing = () => {
    if (!webgpuEnv.adapter) return `no WebGPU adapter: ${webgpuEnv.reason}`;
    if (!row) return `${TARGET_CASE} was not run (${opts.quick ? '--quick stops at 1024' : 'filtered out'})`;
    const o = row.libs.ours;
    if (o.ms === null) return `no number for ours${o.note ? `: ${o.note}` : ''}`;
    return null;
  };
  const targets = [];
  {
    const t = { name: 'on real hardware: f32 matmul 2048² at least 1.5x TF.js WebGPU', need: 1.5, ratio: null };
    const why = software ?? missing() ?? (row.libs['tfjs-webgpu'].ms === null ? `no number for tfjs-webgpu${row.libs['tfjs-webgpu'].note ? `: ${row.libs['tfjs-webgpu'].note}` : ''}` : null);
    if (why) targets.push({ ...t, status: 'N.A.', detail: why });
    else {
      const ours = row.libs.ours.ms;
      const peer = row.libs['tfjs-webgpu'].ms;
      const ratio = peer / ours;
      const checked = row.libs.ours.check?.ok !== false;
      targets.push({
        ...t,
        ratio,
        status: ratio >= t.need && checked ? 'PASS' : 'FAIL',
        detail: `tfjs-webgpu ${fmtMs(peer)} ms / ours ${fmtMs(ours)} ms = ${ratio.toFixed(2)}x (need ≥ ${t.need}x)${checked ? '' : '; ours disagrees with the reference'}`,
      });
    }
  }
  {
    const t = { name: "on real hardware: f32 matmul 2048² at 25% or more of the GPU's f32 peak", need: 0.25, ratio: null };
    const why = software ?? missing() ?? (opts.peakGflops ? null : "the GPU's f32 peak is not known: give it with --peak-gflops <GFLOP/s>");
    if (why) targets.push({ ...t, status: 'N.A.', detail: why });
    else {
      const ours = row.libs.ours.ms;
      const gflops = (2 * 2048 ** 3) / (ours * 1e6);
      const ratio = gflops / opts.peakGflops;
      const checked = row.libs.ours.check?.ok !== false;
      targets.push({
        ...t,
        ratio,
        status: ratio >= t.need && checked ? 'PASS' : 'FAIL',
        detail: `${fmtRate(gflops)} GFLOP/s = ${(ratio * 100).toFixed(1)}% of ${opts.peakGflops} GFLOP/s (need ≥ 25%)${checked ? '' : '; ours disagrees with the reference'}`,
      });
    }
  }
  return targets;
}

async function main() {
  const cases = selectedCases();
  if (cases.length === 0) {
    progress(`no case matches ${opts.filters.map((f) => JSON.stringify(f)).join(', ')}; cases: ${CASES.map((c) => c.name).join(' | ')}`);
  }
  if (typeof globalThis.gc !== 'function') progress('note: run with node --expose-gc to collect garbage between measurements');

  const webgpuEnv = await setupWebGPU();
  const machine = machineInfo(webgpuEnv);
  progress(webgpuEnv.adapter ? `WebGPU adapter: ${webgpuEnv.adapter.name}${webgpuEnv.software ? ' (software)' : ''}` : `no WebGPU: ${webgpuEnv.reason}`);

  const [ours, oursCpu] = await loadOurs(webgpuEnv);
  const loaded = [ours, await loadTfjs(webgpuEnv), await loadJax(webgpuEnv), oursCpu];
  const libs = loaded.map((l) => (opts.libs.length && !opts.libs.includes(l.id) ? { id: l.id, version: l.version, reason: 'not selected (--lib)' } : l));
  const byId = Object.fromEntries(libs.map((l) => [l.id, l]));
  for (const l of libs) if (l.reason) progress(`${l.id}: n/a (${l.reason})`);
  if (ours.backend) machine.gpu.oursAdapter = ours.backend.adapterName;

  const rates = new Map();
  const results = [];
  for (const c of cases) {
    progress(c.name);
    const data = c.make();
    let ref;
    data.reference = () => (ref ??= data.ref());
    const row = { name: c.name, flops: c.flops ?? null, libs: {} };
    for (const id of LIB_IDS) {
      const r = await runLib(byId[id], c, data, rates);
      row.libs[id] = r;
      const mark = r.check && !r.check.ok ? ' ✗' : '';
      progress(`  ${id.padEnd(11)} ${r.ms === null ? 'n/a' : fmtMs(r.ms) + ' ms'}${mark}${r.runs ? ` (${r.runs} runs)` : ''}${r.note ? ` — ${r.note}` : ''}`);
      gc();
    }
    results.push(row);
  }

  const targets = decideTargets(results, webgpuEnv);
  const peers = LIB_IDS.slice(1);
  const versions = Object.fromEntries(libs.map((l) => [l.id, l.version ?? null]));
  const gflopsOf = (r, id) => (r.flops && r.libs[id].ms ? r.flops / (r.libs[id].ms * 1e6) : null);
  const json = {
    suite: 'gpu-webgpu',
    machine,
    versions,
    commit: gitCommit(),
    config: { quick: opts.quick, readback: opts.readback, filters: opts.filters, libs: opts.libs, ...PROTOCOL, maxRunMs: opts.maxRunMs, peakGflops: opts.peakGflops },
    date: new Date().toISOString(),
    results: results.map((r) => ({
      name: r.name,
      value: r.libs.ours.ms,
      unit: 'ms',
      runs: r.libs.ours.runs,
      peers: Object.fromEntries(peers.map((p) => [p, r.libs[p].ms])),
      ratios: Object.fromEntries(peers.map((p) => [p, r.libs[p].ms !== null && r.libs.ours.ms ? r.libs[p].ms / r.libs.ours.ms : null])),
      ...(r.flops ? { gflops: Object.fromEntries(LIB_IDS.map((id) => [id, gflopsOf(r, id)])) } : {}),
      check: Object.fromEntries(LIB_IDS.filter((id) => r.libs[id].check).map((id) => [id, { ok: r.libs[id].check.ok, maxAbsDiff: r.libs[id].check.maxAbsDiff ?? null, relDiff: r.libs[id].check.relDiff ?? null }])),
      notes: Object.fromEntries(LIB_IDS.flatMap((id) => [r.libs[id].note && [id, r.libs[id].note], r.libs[id].leak && [`${id} leak`, r.libs[id].leak]].filter(Boolean))),
    })),
    targets: targets.map((t) => ({ name: t.name, status: t.status, ratio: t.ratio, need: t.need, detail: t.detail })),
  };

  if (opts.out) writeFileSync(resolve(opts.out), JSON.stringify(json, null, 2) + '\n');
  if (opts.json) {
    stdoutWrite(JSON.stringify(json, null, 2) + '\n');
    return;
  }
  stdoutWrite(renderText(machine, versions, results, targets, gflopsOf));
}

function renderText(machine, versions, results, targets, gflopsOf) {
  const peers = LIB_IDS.slice(1);
  const lines = [];
  const g = machine.gpu;
  if (g.adapter) {
    lines.push(`WebGPU adapter: ${g.adapter}${g.fallback ? ' (fallback adapter)' : ''}`);
    if (g.software) lines.push('  software renderer: the GPU is emulated on the CPU, so these numbers only show that nothing is pathologically slow; on a real GPU the same script is the measurement');
    if (g.driver) lines.push(`  Vulkan driver: ${g.driver}`);
  } else {
    lines.push(`WebGPU: none (${g.reason})`);
  }
  lines.push(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.platform} ${machine.arch}; load ${machine.loadavg.join(' ')} at start`);
  // This process adds about 1 to the load by the end of the run (more on SwiftShader, whose threads run the GPU work).
  const busy = Math.max(machine.loadavg[0], os.loadavg()[0] - (g.software ? machine.cores : 1));
  if (busy > machine.cores / 2) {
    lines.push(`warning: other work was running (1-minute load ~${busy.toFixed(2)} besides this run, ${machine.cores} cores): expect noisy numbers`);
  }
  lines.push(`versions: ${LIB_IDS.map((id) => `${id} ${versions[id] ?? 'n/a'}`).join(', ')}; commit ${gitCommit() ?? 'unknown'}`);
  lines.push(
    `protocol: results checked against float64 first; ${PROTOCOL.warmup} warm-up runs, then median of ≥ ${PROTOCOL.minRuns} runs and ≥ ${PROTOCOL.minTimeMs} ms; ` +
      (opts.readback ? 'whole output read back each run' : 'each run waits for the GPU (one element read back)'),
  );
  lines.push('');

  const notes = [];
  const header = ['case', 'ours ms', ...peers.map((p) => `${p} ms`), ...peers.map((p) => `${p}/ours`)];
  const rows = results.map((r) => {
    const cell = (id) => {
      const x = r.libs[id];
      let s = x.ms === null ? 'n/a' : fmtMs(x.ms);
      if (x.check && !x.check.ok) s += ' ✗';
      if (x.note || x.leak) {
        notes.push(`[${notes.length + 1}] ${r.name}, ${id}: ${[x.note, x.leak && `leak: ${x.leak}`].filter(Boolean).join('; ')}`);
        s += ` [${notes.length}]`;
      }
      if (x.check && !x.check.ok) notes.push(`    ✗ ${r.name}, ${id}: result disagrees with the float64 reference: ${x.check.detail}`);
      return s;
    };
    const ours = r.libs.ours.ms;
    return [r.name, cell('ours'), ...peers.map(cell), ...peers.map((p) => (ours && r.libs[p].ms !== null ? `${(r.libs[p].ms / ours).toFixed(2)}x` : '–'))];
  });
  lines.push(...table(header, rows));
  lines.push('');
  lines.push('ours = @ml/tensor on @ml/gpu-webgpu; ours-cpu = @ml/tensor on its CPU backend, for scale.');
  lines.push('ratios are peer ms / ours ms: above 1x means @ml/tensor on WebGPU is faster.');
  const bad = results.flatMap((r) => LIB_IDS.filter((id) => r.libs[id].check && !r.libs[id].check.ok));
  lines.push(bad.length ? `results checked against a float64 reference: ${bad.length} disagreement(s) marked ✗` : 'results checked against a float64 reference: all agree');

  const rated = results.filter((r) => r.flops);
  if (rated.length) {
    lines.push('');
    lines.push(`throughput, GFLOP/s (2 flops per multiply-add)${opts.peakGflops ? `; ours as % of the ${opts.peakGflops} GFLOP/s peak` : ''}:`);
    const h = ['case', ...LIB_IDS, ...(opts.peakGflops ? ['ours % peak'] : [])];
    const rr = rated.map((r) => {
      const ours = gflopsOf(r, 'ours');
      return [r.name, ...LIB_IDS.map((id) => fmtRate(gflopsOf(r, id))), ...(opts.peakGflops ? [ours ? `${((100 * ours) / opts.peakGflops).toFixed(1)}%` : '–'] : [])];
    });
    lines.push(...table(h, rr));
  }
  if (notes.length) {
    lines.push('');
    lines.push(...notes);
  }
  lines.push('');
  lines.push('targets:');
  for (const t of targets) lines.push(`  ${t.status.padEnd(4)}  ${t.name}: ${t.detail}`);
  return lines.join('\n') + '\n';
}

try {
  await main();
} catch (e) {
  // A benchmark reports; it does not fail the build.
  process.stderr.write(`benchmark aborted: ${e instanceof Error ? e.stack : String(e)}\n`);
}
// Dawn, TF.js and jax-js keep handles open; the run is complete.
process.exit(0);
