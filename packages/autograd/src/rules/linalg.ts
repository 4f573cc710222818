/** Gradient rules of the dense solvers. */
import type { GradRule } from './types.js';

export const LINALG_RULES: Record<string, GradRule> = {};
