// Where a suite's output goes: with --json, stdout carries the JSON object and nothing else.
import { format } from 'node:util';

export const stdoutWrite = (s) => process.stdout.write(s);
export const progress = (msg) => process.stderr.write(msg + '\n');
export const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};

/** Sends everything that libraries or the suite would log to stderr instead of stdout. */
export function consoleToStderr() {
  const toErr = (...a) => process.stderr.write(format(...a) + '\n');
  console.log = toErr;
  console.info = toErr;
  console.warn = toErr;
  console.debug = toErr;
}
