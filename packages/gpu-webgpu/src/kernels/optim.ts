/**
 * WGSL kernel of the fused optimizer update `adamStep`: one thread per element reads θ, g, m, v
 * (and vMax) through their own offsets and strides and writes θ', m', v' (and vMax') densely, so an
 * Adam step is one pass over memory instead of a dozen elementwise kernels.
 *
 * The hyperparameters travel in the `info` buffer as the bits of their float32 values.
 */
import type { AdamStepParams } from '@ml/tensor';
import type { GpuKernel, GpuView, WebGPUBackend } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { bindings, entry } from '../wgsl.js';
import { readPlans } from './elementwise.js';
import { MATH_WGSL } from './math.js';

/** The bits of `value` rounded to float32, as an i32 word for the `info` buffer. */
function f32Bits(value: number): number {
  return new Int32Array(new Float32Array([value]).buffer)[0];
}

/** Storage bindings of the fused AMSGrad kernel: 5 inputs, 4 outputs and `info`. */
const AMSGRAD_BINDINGS = 10;

/**
 * Launches `body` (WGSL statements after `let` declarations of the hyperparameters) over n
 * elements, reading each input through its own strided index function `at0(i)`, `at1(i)`...
 */
function launch(gpu: WebGPUBackend, inputs: readonly GpuView[], outputs: readonly GpuView[], p: AdamStepParams, body: string, name: string): void {
  const n = outputs[0].shape.reduce((a, b) => a * b, 1);
  // meta: [n, β₂, 1 − β₁, 1 − β₂, ε, stepSize, vScale, then each input's read plan]
  const meta: number[] = [n, ...[p.beta2, 1 - p.beta1, 1 - p.beta2, p.eps, p.stepSize, p.vScale].map(f32Bits)];
  const { fns, keys } = readPlans(inputs, meta);
  gpu.dispatch({
    op: 'adamStep',
    key: `adamStep|${name}|${keys.join(',')}`,
    code: () => `${bindings(
      inputs.map((v) => v.dtype),
      outputs.map((v) => v.dtype),
      true,
    )}
${MATH_WGSL}
${fns.join('\n')}
${entry()}
  if (i >= u32(info[0])) { return; }
  let beta2 = bitcast<f32>(info[1]);
  let a1 = bitcast<f32>(info[2]);
  let a2 = bitcast<f32>(info[3]);
  let eps = bitcast<f32>(info[4]);
  let stepSize = bitcast<f32>(info[5]);
  let vScale = bitcast<f32>(info[6]);
${body}
}`,
    inputs: inputs.map((v) => v.storage),
    outputs: outputs.map((v) => v.storage),
    meta,
    workgroups: workgroupsFor(n),
  });
}

/** The moment updates m' and v' from the inputs g, m and v read by `at{k}` for the `k` given. */
function moments(kg: number, km: number, kv: number): string {
  return `  let g = in${kg}[at${kg}(i)];
  let m = in${km}[at${km}(i)];
  let m2 = m + a1 * (g - m);
  let v2 = beta2 * in${kv}[at${kv}(i)] + a2 * g * g;`;
}

/**
 * (param, grad, m, v[, vMax]) any strides → (param', m', v'[, vMax']) dense, elementwise:
 *
 * m' = m + (1 − β₁)(g − m),  v' = β₂·v + (1 − β₂)·g²,  v̂ = max(vMax, v') (AMSGrad) or v',
 * θ' = θ − stepSize · m' / (√v̂ · vScale + ε)
 *
 * in float32 (the CPU kernel computes in double and rounds once; the difference is a few ulps).
 * A NaN in vMax or v' propagates into v̂ (and so θ'), as Math.max does on the CPU.
 *
 * One dispatch, except AMSGrad on a device with fewer than 10 storage buffers per shader stage
 * (WebGPU's default is 8): there the moments and vMax' are one dispatch and θ' (from θ, m' and
 * vMax' = v̂) a second. `params.split` (internal, for tests) forces the two dispatches.
 */
const adamStepKernel: GpuKernel = (gpu, inputs, outputs, p: AdamStepParams & { split?: boolean }) => {
  const update = '  out0[i] = in0[at0(i)] - stepSize * m2 / (sqrt(vh) * vScale + eps);';
  if (inputs.length === 4) {
    launch(gpu, inputs, outputs, p, `${moments(1, 2, 3)}\n  let vh = v2;\n${update}\n  out1[i] = m2;\n  out2[i] = v2;`, 'adam');
    return;
  }
  if (!p.split && gpu.device.limits.maxStorageBuffersPerShaderStage >= AMSGRAD_BINDINGS) {
    const body = `${moments(1, 2, 3)}\n  let vh = max_(in4[at4(i)], v2);\n${update}\n  out1[i] = m2;\n  out2[i] = v2;\n  out3[i] = vh;`;
    launch(gpu, inputs, outputs, p, body, 'amsgrad');
    return;
  }
  const [theta, g, m, v, vMax] = inputs;
  const [thetaOut, mOut, vOut, vMaxOut] = outputs;
  // pass 1: (g, m, v, vMax) → (m', v', vMax')
  const body1 = `${moments(0, 1, 2)}\n  out0[i] = m2;\n  out1[i] = v2;\n  out2[i] = max_(in3[at3(i)], v2);`;
  launch(gpu, [g, m, v, vMax], [mOut, vOut, vMaxOut], p, body1, 'amsgrad-moments');
  // pass 2: (θ, m', v̂) → θ'; the outputs of pass 1 are dense
  const body2 = `  let m2 = in1[at1(i)];\n  let vh = in2[at2(i)];\n${update}`;
  launch(gpu, [theta, mOut, vMaxOut], [thetaOut], p, body2, 'amsgrad-param');
};

export const OPTIM_KERNELS: Record<string, GpuKernel> = { adamStep: adamStepKernel };
