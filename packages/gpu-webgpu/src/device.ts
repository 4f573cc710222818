/**
 * Finding a GPU: `navigator.gpu` in browsers (and runtimes that have it), the `webgpu` npm package
 * (Dawn) in Node. Errors say why there is no adapter and how to fall back to the CPU backend.
 */

/** Options of {@link webgpu}. */
export interface WebGPUOptions {
  /** Adapter preference (default 'high-performance'). */
  powerPreference?: GPUPowerPreference;
  /** Use this device instead of requesting one (the backend does not destroy it). */
  device?: GPUDevice;
  /** In Node: flags for Dawn, e.g. ['backend=vulkan'] (passed to the `webgpu` package's `create`). */
  dawnFlags?: string[];
}

const FALLBACK =
  'To run on the CPU instead, use the default backend (do not call setBackend) or `createCpuBackend()` from @ml/tensor.';

interface NodeWebGPU {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/** The GPU entry point of this runtime. */
async function gpuEntry(opts: WebGPUOptions): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const proc = (globalThis as { process?: { versions?: { node?: string }; env?: Record<string, string | undefined> } }).process;
  if (!proc?.versions?.node) {
    throw new Error(`webgpu: this browser has no WebGPU (navigator.gpu is missing). ${FALLBACK}`);
  }
  let mod: NodeWebGPU;
  try {
    // a variable specifier keeps bundlers from pulling the Node-only package into browser builds
    const name = 'webgpu';
    mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ name)) as NodeWebGPU;
  } catch (e) {
    throw new Error(`webgpu: in Node the WebGPU backend needs the "webgpu" package (npm i webgpu): ${(e as Error).message}. ${FALLBACK}`);
  }
  // the usage-flag constants (GPUBufferUsage...) are globals in browsers; provide them in Node
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  // Debian's Chromium ships SwiftShader's Vulkan driver: use it when no other driver is configured
  if (proc.env && !proc.env.VK_ICD_FILENAMES && !proc.env.VK_DRIVER_FILES) {
    const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
    try {
      const fs = (globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } }).process?.getBuiltinModule?.('node:fs') as
        | { existsSync(p: string): boolean }
        | undefined;
      if (fs?.existsSync(swiftshader) && !fs.existsSync('/dev/dri') && !fs.existsSync('/dev/nvidia0')) {
        proc.env.VK_ICD_FILENAMES = swiftshader;
      }
    } catch {
      // no fs: leave the driver choice to the system
    }
  }
  return mod.create(opts.dawnFlags ?? []);
}

/** The GPU entry point and adapter of each device this module requested, alive while the device is. */
const instances = new WeakMap<GPUDevice, { gpu: GPU; adapter: GPUAdapter }>();

/** Requests an adapter and a device, with errors that explain what is missing. */
export async function acquireDevice(opts: WebGPUOptions): Promise<{ device: GPUDevice; adapterName: string; owned: boolean }> {
  if (opts.device) return { device: opts.device, adapterName: 'provided device', owned: false };
  const gpu = await gpuEntry(opts);
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new Error(
      'webgpu: no GPU adapter is available (requestAdapter returned null: no driver, or WebGPU is disabled; ' +
        `in Node on Linux a Vulkan driver and libvulkan are needed). ${FALLBACK}`,
    );
  }
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const adapterName = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    },
  });
  // Dawn in Node shuts down when the object `create` returned is garbage-collected, which crashes
  // the process if a device of it is still in use: keep it (and the adapter) as long as the device
  instances.set(device, { gpu, adapter });
  return { device, adapterName, owned: true };
}
