/** One table of gradient rules, by primitive (and view op) name. */
import { CONV_RULES } from './conv.js';
import { ELEMENTWISE_RULES } from './elementwise.js';
import { LINALG_RULES } from './linalg.js';
import { MOVEMENT_RULES } from './movement.js';
import { REDUCE_RULES } from './reduce.js';
import type { GradRule } from './types.js';
import { VIEW_RULES } from './views.js';

export type { GradRule, RuleContext, TensorMeta } from './types.js';

export const GRAD_RULES: Readonly<Record<string, GradRule>> = {
  ...ELEMENTWISE_RULES,
  ...REDUCE_RULES,
  ...VIEW_RULES,
  ...MOVEMENT_RULES,
  ...LINALG_RULES,
  ...CONV_RULES,
};
