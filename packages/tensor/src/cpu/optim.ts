/**
 * CPU kernel of the fused optimizer update `adamStep`: one pass over the elements instead of the
 * dozen elementwise ops (each a full read and write of the parameter) that Adam is written in.
 */
import type { AdamStepParams } from '../primitives.js';
import type { CpuKernel } from './backend.js';
import { dense } from './strided.js';

/**
 * (param, grad, m, v[, vMax]) → (param', m', v'[, vMax']), elementwise:
 * m' = m + (1 − β₁)(g − m), v' = β₂v + (1 − β₂)g², v̂ = max(vMax, v') (AMSGrad) or v',
 * θ' = θ − stepSize · m' / (√v̂ · vScale + ε). Computed in double precision, rounded on store.
 */
const adamStepKernel: CpuKernel = (inputs, outputs, p: AdamStepParams) => {
  const [theta, g, m, v, vMax] = inputs.map(dense);
  const [thetaOut, mOut, vOut, vMaxOut] = outputs.map((o) => o.storage);
  const { beta1, beta2, eps, stepSize, vScale } = p;
  const a1 = 1 - beta1;
  const a2 = 1 - beta2;
  const n = theta.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = m[i] + a1 * (gi - m[i]);
    const vi = beta2 * v[i] + a2 * gi * gi;
    mOut[i] = mi;
    vOut[i] = vi;
    let vh = vi;
    if (vMax) {
      vh = Math.max(vMax[i], vi);
      vMaxOut[i] = vh;
    }
    thetaOut[i] = theta[i] - (stepSize * mi) / (Math.sqrt(vh) * vScale + eps);
  }
};

export const OPTIM_KERNELS: Record<string, CpuKernel> = { adamStep: adamStepKernel };
