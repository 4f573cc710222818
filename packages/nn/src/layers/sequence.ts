/** The sequence layers: recurrent cells and layers, attention, positions, feed-forwards, transformer blocks. */
export { GRUCell, LSTMCell, RNNCell } from './rnn-cell.js';
export type { RNNCellOptions, RNNNonlinearity } from './rnn-cell.js';
export { GRU, LSTM, RNN } from './rnn.js';
export type { RNNOptions } from './rnn.js';
export { applyRotary, RotaryEmbedding, rotaryEmbedding } from './rope.js';
export type { RopePositions, RotaryEmbeddingOptions } from './rope.js';
export { LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from './positional.js';
export type { LearnedPositionalEmbeddingOptions, PositionOptions } from './positional.js';
export { causalMask, scaledDotProductAttention } from './attention.js';
export type { AttentionOptions } from './attention.js';
export { KVCache } from './kv-cache.js';
export type { KVCacheOptions } from './kv-cache.js';
export { MultiheadAttention } from './multihead-attention.js';
export type { MultiheadAttentionForwardOptions, MultiheadAttentionOptions } from './multihead-attention.js';
