/**
 * The order of the topics in the sidebar: the order of the ML notes map. Each topic is a folder
 * under `docs/` (its label and description come from the folder's `_category_.json`); a topic
 * appears once its folder has a page. Folders not listed here come after these, in their generated order.
 */
import type { PluginOptions } from '@docusaurus/plugin-content-docs';

type SidebarItemsGeneratorOption = PluginOptions['sidebarItemsGenerator'];

export const TOPICS: readonly { title: string; dirs: readonly string[] }[] = [
  { title: 'Tensors', dirs: ['tensors'] },
  { title: 'Losses and probability', dirs: ['losses-and-probability'] },
  { title: 'Autodiff', dirs: ['autodiff'] },
  { title: 'Neural networks', dirs: ['neural-networks'] },
  { title: 'Optimization', dirs: ['optimization'] },
  { title: 'Classical ML', dirs: ['classical-ml'] },
  { title: 'Reinforcement learning', dirs: ['reinforcement-learning', 'rl'] },
  { title: 'Generative models', dirs: ['generative-models'] },
  { title: 'Sampling', dirs: ['sampling'] },
];

type Items = Awaited<ReturnType<SidebarItemsGeneratorOption>>;
type Item = Items[number];

/** The top-level folder of the first page a sidebar item leads to ('' for a top-level page). */
function topDir(item: Item): string | undefined {
  const dirOf = (id: string) => (id.includes('/') ? id.slice(0, id.indexOf('/')) : '');
  if (item.type === 'doc' || item.type === 'ref') return dirOf(item.id);
  if (item.type === 'category') {
    if (item.link?.type === 'doc') return dirOf(item.link.id);
    for (const child of item.items) {
      const dir = topDir(child);
      if (dir !== undefined) return dir;
    }
  }
  return undefined;
}

/** Sorts the top level: pages at the root first (as generated), then topics in map order. */
export function orderTopics(items: Items): Items {
  const rank = (item: Item): number => {
    const dir = topDir(item);
    if (dir === undefined || dir === '') return -1;
    const i = TOPICS.findIndex((t) => t.dirs.includes(dir));
    return i < 0 ? TOPICS.length : i;
  };
  return items
    .map((item, index) => ({ item, index, rank: rank(item) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((e) => e.item);
}

/** The docs plugin's `sidebarItemsGenerator`: the default generator, then the topic order. */
export const sidebarItemsGenerator: SidebarItemsGeneratorOption = async ({
  defaultSidebarItemsGenerator,
  ...args
}) => {
  const items = await defaultSidebarItemsGenerator(args);
  return args.item.dirName === '.' ? orderTopics(items) : items;
};
