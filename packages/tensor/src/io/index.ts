/** Reading and writing NumPy `.npy` and safetensors files. */
export type { ArrayData, LoadOptions } from './common.js';
export { decodeNpy, encodeNpy, fromNpy, toNpy } from './npy.js';
export { decodeSafetensors, encodeSafetensors, loadSafetensors, MAX_HEADER_BYTES, saveSafetensors } from './safetensors.js';
export type { LoadedSafetensors, SafetensorsData } from './safetensors.js';
