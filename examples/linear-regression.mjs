// Fits y = X·w + b to noisy data two ways: the normal equations (a Cholesky solve) and
// gradient descent with gradients from @ml/autograd (checked against the formula by hand),
// then prints what each learned next to the truth.
import { valueAndGrad } from '@ml/autograd';
import { cholesky, concat, matmul, ones, random, scope, tensor, triangularSolve } from '@ml/tensor';

const N = 512; // samples
const trueW = tensor([[2.0], [-3.0], [0.5]]); // (3, 1)
const trueB = 1.25;

const [kx, kn] = random.split(random.key(0));
const X = random.normal(kx, [N, 3]); // (N, 3)
const noise = random.normal(kn, [N, 1]).mul(0.1); // (N, 1)
const y = X.matmul(trueW).add(trueB).add(noise); // (N, 1)

// 1) Normal equations: (AᵀA) θ = Aᵀy with A = [X, 1], solved by Cholesky: AᵀA = L Lᵀ.
const theta = scope(() => {
  const A = concat([X, ones([N, 1])], 1); // (N, 4)
  const At = A.transpose(); // (4, N)
  const L = cholesky(matmul(At, A)); // (4, 4)
  const z = triangularSolve(L, matmul(At, y), { lower: true }); // L z = Aᵀy
  return triangularSolve(L, z, { lower: true, transpose: true }); // Lᵀ θ = z
});

// 2) Gradient descent on the mean squared error L = mean((Xw + b − y)²). valueAndGrad gives
//    L and (∂L/∂w, ∂L/∂b); by hand they are 2/N · Xᵀ(Xw + b − y) and 2/N · Σ(Xw + b − y).
const mse = (w, b) => X.matmul(w).add(b).sub(y).square().mean();
const lossAndGrads = valueAndGrad(mse, [0, 1]);
let w = tensor([[0], [0], [0]]);
let b = tensor(0);
const lr = 0.1;
for (let step = 0; step <= 100; step++) {
  const [nextW, nextB, loss] = scope(() => {
    const [value, [gradW, gradB]] = lossAndGrads(w, b);
    return [w.sub(gradW.mul(lr)), b.sub(gradB.mul(lr)), value];
  });
  if (step === 0) {
    const byHand = X.transpose().matmul(X.matmul(w).add(b).sub(y)).mul(2 / N); // (3, 1)
    const [, [gw]] = lossAndGrads(w, b);
    const gap = Math.max(...(await gw.sub(byHand).abs().data()));
    console.log(`autograd vs hand-derived gradient at step 0: max difference ${gap.toExponential(1)}`);
  }
  if (step % 25 === 0) console.log(`step ${String(step).padStart(3)}  mse ${(await loss.item()).toFixed(5)}`);
  w.dispose();
  b.dispose();
  loss.dispose();
  [w, b] = [nextW, nextB];
}

const fmt = (xs) => xs.map((v) => v.toFixed(3).padStart(7)).join(' ');
console.log('\n                      w1      w2      w3       b');
console.log(`truth            ${fmt([...(await trueW.data()), trueB])}`);
console.log(`normal equations ${fmt([...(await theta.data())])}`);
console.log(`gradient descent ${fmt([...(await w.data()), await b.item()])}`);
