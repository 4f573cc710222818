import type { Tensor } from '@ml/tensor';
import type { GradRule } from './rules/types.js';

/** Global switches shared by every transform: no-grad depth and the active levels. */
let noGradDepth = 0;

export function gradEnabled(): boolean {
  return noGradDepth === 0;
}

/**
 * Runs `fn` without recording anything for differentiation (values are computed as usual).
 * Works for async functions: recording resumes when the returned promise settles.
 */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    noGradDepth--;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => void noGradDepth--) as T;
  }
  noGradDepth--;
  return result;
}

/** What custom rules and checkpoints need of a recording level. */
export interface RecordingLevel {
  isTracked(t: Tensor): boolean;
  record(
    op: string,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
    params: Readonly<Record<string, unknown>>,
    rule: GradRule,
    onRelease?: () => void,
  ): unknown;
}

/** Levels currently recording, innermost last (custom rules and checkpoints record into each). */
export const activeLevels: RecordingLevel[] = [];

/** Forward-mode levels currently computing tangents. */
export const activeForwardLevels: { tangentOf: (t: any) => unknown }[] = [];
