/** Gradient rules of matmul and the data-movement primitives. */
import { apply1, gather, matmul, scatterAdd, slice, split, transpose, zeros } from '@ml/tensor';
import type { GradRule } from './types.js';

export const MOVEMENT_RULES: Record<string, GradRule> = {
  // C = A·B: Ā = C̄·Bᵀ, B̄ = Aᵀ·C̄ (per batch item; broadcast batches were expanded views)
  matmul: {
    save: { inputs: true, outputs: false },
    vjp: ({ inputs: [a, b], needsGrad }, [g]) => [
      needsGrad?.[0] === false ? null : matmul(g, transpose(b)),
      needsGrad?.[1] === false ? null : matmul(transpose(a), g),
    ],
  },
  concat: {
    linear: true,
    save: { inputs: false, outputs: false },
    vjp: ({ inputMetas, params }, [g]) => split(g, inputMetas.map((m) => m.shape[params.axis]), params.axis),
  },
  pad: {
    linear: true,
    save: { inputs: false, outputs: false },
    vjp: ({ inputMetas: [x], params }, [g]) => [
      slice(g, (params.pads as [number, number][]).map(([before], d) => [before, before + x.shape[d]] as const)),
    ],
  },
  gather: {
    save: { inputs: true, outputs: false },
    vjp: ({ inputs: [, index], inputMetas: [x], params }, [g]) => [
      scatterAdd(zeros(x.shape, { dtype: g.dtype, backend: g.backend }), params.axis, index, g),
      null,
    ],
  },
  scatterAdd: {
    save: { inputs: true, outputs: false },
    vjp: ({ inputs: [, index], params }, [g]) => [g, null, gather(g, params.axis, index)],
  },
  // im2col and col2im are adjoint linear maps (padding positions drop out)
  im2col: {
    linear: true,
    save: { inputs: false, outputs: false },
    vjp: ({ inputMetas: [x], params }, [g]) => [
      apply1('col2im', [g], { ...params, padValue: 0, size: [x.shape[2], x.shape[3]] }),
    ],
  },
  col2im: {
    linear: true,
    save: { inputs: false, outputs: false },
    vjp: ({ params }, [g]) => {
      const { size: _size, ...window } = params;
      return [apply1('im2col', [g], { ...window, padValue: 0 })];
    },
  },
};
