/** Components every MDX page can use without importing them: `<Runnable note="<slug>" />`. */
import MDXComponents from '@theme-original/MDXComponents';
import Runnable from '@site/src/components/Runnable';

export default {
  ...MDXComponents,
  Runnable,
};
