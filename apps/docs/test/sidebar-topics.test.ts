// The sidebar follows the ML notes map whatever positions the topic folders declare.
import { describe, expect, it } from 'vitest';
import { orderTopics } from '../src/sidebar/topics.js';

type Items = Parameters<typeof orderTopics>[0];

const category = (label: string, dir: string): Items[number] => ({
  type: 'category',
  label,
  items: [{ type: 'doc', id: `${dir}/first` }],
});

describe('sidebar topic order', () => {
  it('puts root pages first, then the topics in map order, then unknown folders', () => {
    const items: Items = [
      category('Other', 'other'),
      category('Sampling', 'sampling'),
      { type: 'doc', id: 'intro' },
      category('Losses', 'losses-and-probability'),
      category('RL', 'rl'),
      category('Tensors', 'tensors'),
      category('Autodiff', 'autodiff'),
    ];
    expect(orderTopics(items).map((i) => ('label' in i ? i.label : i.type === 'doc' ? i.id : ''))).toEqual([
      'intro',
      'Tensors',
      'Losses',
      'Autodiff',
      'RL',
      'Sampling',
      'Other',
    ]);
  });
});
