import { backward, grad, hessian, jvp, requiresGrad, valueAndGrad, zeroGrad } from '@ml/autograd';
import { onesLike, random, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';

// grad: the gradient of a scalar function, shaped like its argument.
const f = (x: Tensor) => x.tanh().sum();
const x = tensor([0.5, -1, 2], { dtype: 'float64' });
console.log(await grad(f)(x).array()); // 1 − tanh²(x) ≈ [0.79, 0.42, 0.07]

// Transforms compose: a second derivative, a Hessian, a Hessian-vector product (forward over reverse).
const cube = (x: Tensor) => x.pow(3).sum();
console.log(await grad(grad(cube))(tensor([2])).array()); // d²/dx² x³ = 6x → [12]
console.log(await hessian(cube)(x).array()); // diag(6x) = [[3, 0, 0], [0, -6, 0], [0, 0, 12]]
const [, hv] = jvp(grad(cube), [x], [onesLike(x)]);
console.log(await hv.array()); // H·1 = 6x = [3, -6, 12]

// Pytrees: the gradient of a loss with respect to a parameter object, for a few steps of SGD.
const [kx, kw] = random.split(random.key(0));
const X = random.normal(kx, [64, 3], { dtype: 'float64' });
const Y = X.matmul(tensor([[2], [-1], [0.5]], { dtype: 'float64' })).add(3); // y = X·[2, −1, ½] + 3
let params = { w: random.normal(kw, [3, 1], { dtype: 'float64' }), b: tensor([0], { dtype: 'float64' }) };
const mse = (p: typeof params) => X.matmul(p.w).add(p.b).sub(Y).square().mean();
const losses: number[] = [];
for (let step = 0; step < 100; step++) {
  const next = scope(() => {
    const [loss, g] = valueAndGrad(mse)(params);
    losses.push(loss.dataSync()[0]);
    return { w: params.w.sub(g.w.mul(0.1)), b: params.b.sub(g.b.mul(0.1)) };
  });
  for (const t of Object.values(params)) t.dispose();
  params = next;
}
console.log(losses[0].toFixed(2), losses[99].toFixed(4)); // the loss falls from ≈ 34 to ≈ 0
console.log(await params.b.array()); // ≈ [3]

// PyTorch style: mark parameters, compute a loss, call backward(), read .grad.
const w = requiresGrad(tensor([1, 2, 3]));
scope(() => backward(w.square().sum())); // the step's graph is freed with its scope
console.log(await w.grad!.array()); // [2, 4, 6]
scope(() => backward(w.mul(3).sum())); // gradients accumulate...
console.log(await w.grad!.array()); // [5, 7, 9]
zeroGrad([w]); // ...until zeroGrad
export { params, w };
