import { arange, random, scope, tensor } from '@ml/tensor';

// Creation, broadcasting and methods that chain.
const a = tensor([[1, 2, 3], [4, 5, 6]]); // (2, 3) float32
const b = tensor([10, 20, 30]); // (3,) broadcasts over rows
console.log(await a.add(b).array()); // [[11, 22, 33], [14, 25, 36]]

// Views share memory: transpose, slicing with steps and negative indices.
const m = arange(12).reshape([3, 4]); // (3, 4) int32
console.log(await m.transpose().slice('::-1, 1:').array()); // [[7, 11], [6, 10], [5, 9], [4, 8]]

// Reductions over any axes, softmax that cannot overflow.
console.log(await a.sum(1).array()); // [6, 15]
const p = tensor([3.2, 5.1, -1.7]).softmax();
console.log((await p.array()) as number[]); // ≈ [0.13, 0.87, 0.001]

// Keyed randomness: the same key gives the same numbers, on every backend.
const [k1, k2] = random.split(random.key(42));
const x = random.normal(k1, [1000]);
console.log((await x.mean().item()).toFixed(2), (await x.std().item()).toFixed(2)); // ≈ 0.00 1.00
void k2;

// Memory: a scope frees every intermediate it does not return.
const y = scope(() => x.mul(2).add(1).relu().sum());
console.log(await y.item());
export { p, y };
