/** Finite-difference gradient checking in float64. */
import { cast, createCpuBackend, fromArray, getBackend } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { vjpWith } from './transforms.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
}

export interface GradcheckInputReport {
  index: number;
  shape: readonly number[];
  maxAbsError: number;
  /** Largest error, with the element where it occurred. */
  worst: { element: number; analytic: number; numeric: number } | null;
}

export interface GradcheckReport {
  ok: boolean;
  inputs: GradcheckInputReport[];
  /** One line per input, readable in a test failure. */
  message: string;
}

/**
 * Compares the reverse-mode gradient of `f` with central finite differences, in float64 on the
 * CPU. For a fixed cotangent u (deterministic, same shape as f's output) it checks, for every input
 * element j, that (uᵀJ)ⱼ ≈ (⟨u, f(x + εeⱼ)⟩ − ⟨u, f(x − εeⱼ)⟩) / 2ε within atol + rtol·|numeric|.
 *
 * @example
 * ```ts
 * const report = gradcheck((x) => x.tanh().sum(), [tensor([0.1, -2, 3])]);
 * if (!report.ok) throw new Error(report.message);
 * ```
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  // the default backend when it can read synchronously in float64 (so f's own constants match)
  const current = getBackend();
  const backend = current.readSync && current.capabilities.dtypes.includes('float64') ? current : createCpuBackend();
  const toCpu64 = (t: Tensor) => fromArray('gradcheck', Float64Array.from(t.dataSync()), t.shape, 'float64', backend);
  const xs = inputs.map((t) => (t.backend.readSync ? toCpu64(t) : cast(t, 'float64')));
  const evalDot = (args: Tensor[], u: Float64Array): number => {
    const y = f(...args);
    const data = y.dataSync();
    y.dispose();
    let s = 0;
    for (let i = 0; i < data.length; i++) s += data[i] * u[i];
    return s;
  };
  const [y, pullback] = vjpWith({ op: 'gradcheck' }, (...a: Tensor[]) => f(...a), ...xs);
  const u = Float64Array.from({ length: y.size }, (_, i) => Math.sin(1.7 * i + 0.3) + 0.1);
  const uT = fromArray('gradcheck', u, y.shape, y.dtype, y.backend);
  const analytic = pullback(uT) as Tensor[];
  uT.dispose();
  y.dispose();
  const reports: GradcheckInputReport[] = [];
  let ok = true;
  xs.forEach((x, index) => {
    const base = x.dataSync() as Float64Array;
    const grad = analytic[index].dataSync();
    const report: GradcheckInputReport = { index, shape: x.shape, maxAbsError: 0, worst: null };
    for (let j = 0; j < base.length; j++) {
      const shifted = (delta: number) => {
        const data = Float64Array.from(base);
        data[j] += delta;
        const moved = fromArray('gradcheck', data, x.shape, 'float64', backend);
        const args = xs.map((other, k) => (k === index ? moved : other));
        try {
          return evalDot(args, u);
        } finally {
          moved.dispose();
        }
      };
      const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
      const err = Math.abs(grad[j] - numeric);
      if (err > report.maxAbsError || Number.isNaN(err)) {
        report.maxAbsError = Number.isNaN(err) ? Infinity : err;
        report.worst = { element: j, analytic: grad[j], numeric };
      }
      if (!(err <= atol + rtol * Math.abs(numeric))) ok = false;
    }
    reports.push(report);
  });
  for (const t of [...xs, ...analytic]) t.dispose();
  const message = reports
    .map((r) => {
      const w = r.worst ? `; worst at element ${r.worst.element}: analytic ${r.worst.analytic}, numeric ${r.worst.numeric}` : '';
      return `input ${r.index} (${r.shape.join(', ')}): max abs error ${r.maxAbsError.toExponential(2)}${w}`;
    })
    .join('\n');
  return { ok, inputs: reports, message: `gradcheck ${ok ? 'passed' : 'FAILED'}\n${message}` };
}
