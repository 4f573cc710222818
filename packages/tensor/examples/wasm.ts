import { createCpuBackend, loadWasmRuntime, matmul, random, tensor } from '@ml/tensor';

// Compile the WebAssembly SIMD kernels and start their threads (every core by default; one on a
// page's main thread, which may not block).
const wasm = await loadWasmRuntime();
const cpu = createCpuBackend({ wasm }); // float32 matmul, conv2d, exp, softmax... run there

const [ka, kb] = random.split(random.key(0));
const a = random.normal(ka, [512, 512], { backend: cpu });
const b = random.normal(kb, [512, 512], { backend: cpu });
const c = matmul(a, b); // packed panels, a 4×8 register tile, split over wasm.threads threads
console.log(wasm.threads >= 1, c.shape); // true [512, 512]

// The same product on the TypeScript kernels: equal up to float32 rounding (the threads never
// change the result: each block of c is summed by one thread in a fixed order).
const ts = createCpuBackend();
const onTs = (t: typeof a) => tensor(t.dataSync(), { shape: t.shape, backend: ts });
const c2 = matmul(onTs(a), onTs(b)).dataSync();
const c1 = c.dataSync();
let gap = 0;
for (let i = 0; i < c1.length; i++) gap = Math.max(gap, Math.abs(c1[i] - c2[i]));
console.log(gap < 1e-3); // true
wasm.dispose(); // stops the worker threads
export { c };
