/** The sequence layers: recurrent cells and layers, attention, positions, feed-forwards, transformer blocks. */
export { GRUCell, LSTMCell, RNNCell } from './rnn-cell.js';
export type { RNNCellOptions, RNNNonlinearity } from './rnn-cell.js';
export { GRU, LSTM, RNN } from './rnn.js';
export type { RNNOptions } from './rnn.js';
