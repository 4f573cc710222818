/** webpack's `require.context`, which the site uses to bundle the notes and their sources. */
interface WebpackContext {
  (request: string): any;
  keys(): string[];
  resolve(request: string): string;
  id: string;
}

declare namespace NodeJS {
  interface Require {
    context(
      directory: string,
      useSubdirectories?: boolean,
      regExp?: RegExp,
      mode?: 'sync' | 'eager' | 'weak' | 'lazy' | 'lazy-once',
    ): WebpackContext;
  }
}
