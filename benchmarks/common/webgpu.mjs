// WebGPU in Node: `navigator.gpu` from the `webgpu` package (Dawn), shared by every library of a
// suite, with Chromium's SwiftShader Vulkan driver when the machine has no GPU device node.
import { existsSync } from 'node:fs';
import { firstLine } from './errors.mjs';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i;

/**
 * Installs `navigator.gpu` (and the GPUBufferUsage-style constants) before any GPU library is
 * imported, so TF.js, jax-js and @ml/gpu-webgpu all find the same entry point and adapter.
 * @returns `{ driver, reason, adapter, software }`: `reason` says why there is no WebGPU (else
 *   null); `adapter` has `name`, `vendor`, `architecture`, `device`, `description`, `fallback`;
 *   `software` is true on SwiftShader-like renderers.
 */
export async function setupWebGPU() {
  const env = { driver: null, reason: null, adapter: null, software: false };
  // Without a GPU device node, use Chromium's SwiftShader Vulkan driver when it is installed and
  // no driver was chosen (@ml/gpu-webgpu does the same when it creates navigator.gpu itself).
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    const gpuNode = existsSync('/dev/dri') || existsSync('/dev/nvidia0') || existsSync('/dev/kfd');
    if (!gpuNode && existsSync(SWIFTSHADER_ICD)) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      env.driver = "Chromium's SwiftShader Vulkan driver (VK_ICD_FILENAMES set by this script: no GPU device node)";
    }
  } else {
    env.driver = `VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES} (from the environment)`;
  }
  let mod;
  try {
    mod = await import('webgpu');
  } catch (e) {
    env.reason = `cannot load the "webgpu" package (Dawn for Node): ${firstLine(e)}`;
    return env;
  }
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) globalThis[k] = v;
  let gpu;
  try {
    gpu = mod.create([]);
  } catch (e) {
    env.reason = `webgpu create() failed: ${firstLine(e)}`;
    return env;
  }
  // jax-js reads navigator.userAgent (to detect Firefox) besides navigator.gpu.
  const nav = { ...(globalThis.navigator ?? {}), gpu, userAgent: globalThis.navigator?.userAgent ?? `Node.js/${process.version}` };
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    env.reason = 'navigator.gpu.requestAdapter() returned null (no Vulkan/Metal/D3D12 driver Dawn can use)';
    return env;
  }
  const info = adapter.info ?? {};
  env.adapter = {
    vendor: info.vendor || null,
    architecture: info.architecture || null,
    device: info.device || null,
    description: info.description || null,
    fallback: Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter),
  };
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  env.adapter.name = text || 'unknown adapter';
  env.software = env.adapter.fallback || SOFTWARE_ADAPTER.test(text);
  return env;
}
