/** Gradients of matrix products: matmul (batched, broadcast, 1-D), dot, outer, einsum. */
import type { Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe } from 'vitest';
import { rngFor } from '../harness.js';
import { EINSUM_CASES, MATMUL_SHAPES } from '../groups/products.js';
import * as R from '../reference.js';
import type { GradContext } from './harness.js';
import { checkGradient, describeGrad, drawInputs, gradCase, gradDtypes, layoutAt } from './harness.js';

export function productGradients(ctx: GradContext): void {
  describe('matmul', () => {
    gradCase(ctx, 'matmul: batched, broadcast and 1-D operands, several layouts', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/matmul/${dtype}`);
        let i = 0;
        for (const [sa, sb] of MATMUL_SHAPES) {
          for (let rep = 0; rep < 2; rep++, i++) {
            const inputs = drawInputs(rng, [sa, sb], dtype, [layoutAt(sa, i), layoutAt(sb, i + 2)]);
            await checkGradient(ctx, `matmul(${inputs.map(describeGrad).join(', ')})`, {
              dtype, inputs, run: T.matmul, ref: R.matmul,
            });
          }
        }
      }
    });

    gradCase(ctx, 'matmul of larger, ragged shapes and with one operand constant', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/matmul-large/${dtype}`);
        const ab = drawInputs(rng, [[9, 17], [17, 5]], dtype, ['contiguous', 'transposed']);
        await checkGradient(ctx, `matmul(${ab.map(describeGrad).join(', ')})`, { dtype, inputs: ab, run: T.matmul, ref: R.matmul });
        const [a, b] = drawInputs(rng, [[2, 3, 4], [4, 5]], dtype, ['strided', 'flipped']);
        await checkGradient(ctx, `matmul(${describeGrad(a)}, constant ${describeGrad(b)})`, {
          dtype, inputs: [a], consts: [{ ...b, dtype }], run: T.matmul, ref: (x) => R.matmul(x, b.ref),
        });
        await checkGradient(ctx, `matmul(constant ${describeGrad(a)}, ${describeGrad(b)})`, {
          dtype, inputs: [b], consts: [{ ...a, dtype }], run: (y, x) => T.matmul(x, y), ref: (y) => R.matmul(a.ref, y),
        });
      }
    });

    gradCase(ctx, 'dot and outer', async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/dot/${dtype}`);
        const vv = drawInputs(rng, [[5], [5]], dtype, ['flipped', 'strided']);
        await checkGradient(ctx, `dot(${vv.map(describeGrad).join(', ')})`, { dtype, inputs: vv, run: T.dot, ref: R.matmul });
        const vm = drawInputs(rng, [[5], [5, 2]], dtype, ['offset', 'transposed']);
        await checkGradient(ctx, `dot(${vm.map(describeGrad).join(', ')})`, { dtype, inputs: vm, run: T.dot, ref: R.matmul });
        const ab = drawInputs(rng, [[4], [3]], dtype, ['strided', 'contiguous']);
        await checkGradient(ctx, `outer(${ab.map(describeGrad).join(', ')})`, { dtype, inputs: ab, run: T.outer, ref: R.outer });
      }
    });
  });

  describe('einsum', () => {
    for (const [spec, shapes] of EINSUM_CASES) {
      gradCase(ctx, `einsum('${spec}')`, async () => {
        for (const dtype of gradDtypes(ctx)) {
          const rng = rngFor(ctx, `grad/einsum/${spec}/${dtype}`);
          for (let rep = 0; rep < 2; rep++) {
            const inputs = drawInputs(rng, shapes, dtype, shapes.map((s, i) => (rep === 0 ? 'contiguous' : layoutAt(s, i + 1))));
            await checkGradient(ctx, `einsum('${spec}', ${inputs.map(describeGrad).join(', ')})`, {
              dtype,
              inputs,
              run: (...ts: Tensor[]) => T.einsum(spec, ...ts).contiguous(),
              ref: (...xs) => R.einsum(spec, ...xs),
            });
          }
        }
      });
    }
  });
}
