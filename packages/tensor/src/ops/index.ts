export * from './conv.js';
export * from './create.js';
export * from './elementwise.js';
export * from './indexing.js';
export * from './linalg.js';
export * from './nn.js';
export * from './reduce.js';
export * from './shape.js';
