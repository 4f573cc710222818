// The backend conformance suite on the CPU backend's WebAssembly path: every float32 matmul (and so
// einsum and linear layers), conv2d, exp, log, tanh, sigmoid, sum and max runs in WebAssembly
// SIMD on two threads, whatever its size.
import { defineConformanceSuite } from '../../conformance/src/index.js';
import { createCpuBackend, loadWasmRuntime } from '../src/index.js';

const wasm = await loadWasmRuntime({ threads: 2, matmulMinWork: 0, minElements: 0 });

defineConformanceSuite({ name: 'cpu-wasm', createBackend: () => createCpuBackend({ wasm }) });
