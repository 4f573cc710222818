// Fits y = X·w + b to noisy data two ways with @ml/tensor alone: the normal equations
// (a Cholesky solve) and gradient descent with the gradient written out by hand,
// then prints what each learned next to the truth.
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

// 2) Gradient descent on the mean squared error L = mean((Xw + b − y)²):
//    ∂L/∂w = 2/N · Xᵀ(Xw + b − y),  ∂L/∂b = 2/N · Σ(Xw + b − y).
let w = tensor([[0], [0], [0]]);
let b = tensor(0);
const lr = 0.1;
for (let step = 0; step <= 100; step++) {
  const [nextW, nextB, loss] = scope(() => {
    const err = X.matmul(w).add(b).sub(y); // (N, 1)
    const gradW = X.transpose().matmul(err).mul(2 / N); // (3, 1)
    const gradB = err.sum().mul(2 / N); // ()
    return [w.sub(gradW.mul(lr)), b.sub(gradB.mul(lr)), err.square().mean()];
  });
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
