/**
 * What a note's code receives when it runs, in the browser (the Runnable component) or in Node
 * (the test suite). A note is a `.ts` file whose default export is
 * `async function run(ctx: NoteContext)`; it may return values that the tests assert on.
 */
import type { PlotOptions } from '@observablehq/plot';
import type { Backend } from '@ml/tensor';

export interface TableOptions {
  /** Column order (default: the keys of the first row). */
  columns?: string[];
  caption?: string;
}

export interface NoteContext {
  /** Prints a line of text (values are formatted like console.log). */
  print(...values: unknown[]): void;
  /** Shows rows of a table. */
  table(rows: Record<string, unknown>[], opts?: TableOptions): void;
  /** Draws an Observable Plot figure: `ctx.plot({ marks: [Plot.line(data, { x: 'x', y: 'y' })] })`. */
  plot(options: PlotOptions): void;
  /**
   * Reports progress in [0, 1] and yields to the page so it can repaint and the reader can press
   * Stop. Throws an `AbortError` once the run was stopped; call it inside long loops.
   */
  progress(fraction: number, label?: string): Promise<void>;
  /** Aborted when the reader presses Stop. */
  signal: AbortSignal;
  /** The backend the note runs on (also the default backend while it runs). */
  backend: Backend;
}

/** The shape of a note module. */
export type NoteRun = (ctx: NoteContext) => Promise<unknown> | unknown;
