import { memory, random, scope, setBackend, tensor } from '@ml/tensor';
import { webgpu } from '@ml/gpu-webgpu';

// Choose the GPU: tensors created from now on live in GPU buffers, every op runs as a WGSL kernel.
const gpu = await webgpu();
setBackend(gpu);

// The same API as on the CPU. Reading waits for the GPU, so reads are async.
const a = tensor([[1, 2], [3, 4]]);
const b = tensor([[5], [6]]);
const y = a.matmul(b);
console.log(await y.array()); // [[17], [39]]
const logits = tensor([3.2, 5.1, -1.7]);
const p = logits.softmax();
console.log((await p.array()) as number[]); // ≈ [0.13, 0.87, 0.001]

// Keyed randomness: the same key draws the same numbers as on the CPU backend.
const u = random.uniform(random.key(0), [3]);
console.log(await u.array()); // equal, bit for bit, to the CPU backend's draw

// Memory: a scope frees every intermediate it does not return; memory() counts live GPU buffers.
const m = scope(() => random.normal(random.key(1), [10000]).square().mean());
console.log(await m.item()); // ≈ 1
for (const t of [a, b, y, logits, p, u, m]) t.dispose();
console.log(memory(gpu)); // { backend: 'webgpu', tensors: 0, buffers: 0, bytes: 0 }

// Give the GPU back when done (pooled buffers, and the device the backend created).
gpu.destroy();
export { gpu };
