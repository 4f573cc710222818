/**
 * Gradient rules of the view ops (no data moves forward, so their rules only rearrange the
 * cotangent). Broadcasting is handled here once: `expand` sums the cotangent over the broadcast
 * dims, so every binary op's rule can assume equal shapes.
 */
import { arange, cast, eq, pad, permute, reshape, scatterAdd, sub, sum, unsqueeze, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import type { GradRule } from './types.js';

const none = { inputs: false, outputs: false };

/** Places the cotangent of x[starts + i·steps] back into a zero tensor of x's shape. */
function unslice(g: Tensor, shape: readonly number[], starts: number[], sizes: number[], steps: number[]): Tensor {
  let cur = g;
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (sizes[d] === n && starts[d] === 0 && steps[d] === 1) continue;
    if (steps[d] === 1 || sizes[d] === 0) {
      const before = sizes[d] === 0 ? 0 : starts[d];
      cur = pad(cur, cur.shape.map((_, i) => (i === d ? [before, n - before - sizes[d]] : [0, 0])) as [number, number][]);
      continue;
    }
    const idx = arange(starts[d], starts[d] + sizes[d] * steps[d], steps[d], { dtype: 'int32', backend: g.backend });
    const index = reshape(idx, cur.shape.map((s, i) => (i === d ? s : 1))).expand([...cur.shape]);
    const target = zeros(cur.shape.map((s, i) => (i === d ? n : s)), { dtype: g.dtype, backend: g.backend });
    cur = scatterAdd(target, d, index, cur);
  }
  return cur;
}

/** Spreads a diagonal's cotangent (…, L) back onto the (axis1, axis2) matrices of x. */
function undiagonal(g: Tensor, shape: readonly number[], offset: number, a: number, b: number): Tensor {
  const rows = shape[a];
  const cols = shape[b];
  const length = g.shape[g.rank - 1];
  // along rows when offset ≥ 0 (diagonal element i sits in row i), along columns otherwise
  const alongRows = offset >= 0;
  const span = alongRows ? rows : cols;
  const padded = pad(g, g.shape.map((_, i) => (i === g.rank - 1 ? [0, span - length] : [0, 0])) as [number, number][]);
  const spread = alongRows ? unsqueeze(padded, -1) : unsqueeze(padded, -2); // (…, R, 1) or (…, 1, C)
  const r = arange(0, rows, 1, { backend: g.backend }).reshape([rows, 1]);
  const c = arange(0, cols, 1, { backend: g.backend });
  const mask = cast(eq(sub(c, r), offset), g.dtype); // (R, C): 1 on the diagonal
  const full = spread.mul(mask); // (…rest, R, C)
  // full's dims are [rest..., a, b]; put them back in x's order
  const rest = shape.map((_, i) => i).filter((i) => i !== a && i !== b);
  const order = [...rest, a, b];
  return permute(full, shape.map((_, i) => order.indexOf(i)));
}

export const VIEW_RULES: Record<string, GradRule> = {
  reshape: { linear: true, save: none, vjp: ({ inputMetas: [x] }, [g]) => [reshape(g, x.shape)] },
  permute: {
    linear: true,
    save: none,
    vjp: ({ params }, [g]) => {
      const axes: number[] = params.axes;
      return [permute(g, axes.map((_, i) => axes.indexOf(i)))];
    },
  },
  expand: {
    linear: true,
    save: none,
    vjp: ({ inputMetas: [x] }, [g]) => {
      const lead = g.rank - x.shape.length;
      const axes = g.shape.flatMap((d, i) => (i < lead || (x.shape[i - lead] === 1 && d !== 1) ? [i] : []));
      return [axes.length ? reshape(sum(g, axes), x.shape) : reshape(g, x.shape)];
    },
  },
  slice: {
    linear: true,
    save: none,
    vjp: ({ inputMetas: [x], params }, [g]) => [unslice(g, x.shape, params.starts, params.sizes, params.steps)],
  },
  diagonal: {
    linear: true,
    save: none,
    vjp: ({ inputMetas: [x], params }, [g]) => [undiagonal(g, x.shape, params.offset, params.axis1, params.axis2)],
  },
};
