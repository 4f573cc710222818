/**
 * The NoteContext a note gets when it runs in the page: what it prints, tabulates and plots goes
 * to a sink (the Runnable's output panel); `progress` yields to the page so it can repaint and the
 * reader can press Stop, and throws an AbortError once the run was stopped.
 */
import type { Backend } from '@ml/tensor';
import type { PlotOptions } from '@observablehq/plot';
import type { NoteContext, TableOptions } from './context';
import { format } from './format';

export interface OutputSink {
  text(line: string): void;
  table(rows: Record<string, unknown>[], opts?: TableOptions): void;
  /** A rendered figure (an SVG or a `<figure>`). */
  figure(element: Element): void;
  progress(fraction: number, label?: string): void;
}

/** How long a note may compute between two yields to the page (when it calls `progress`). */
const YIELD_EVERY_MS = 25;

/** Resolves on the next task, after the browser had a chance to handle input and paint. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The error `progress` throws once the reader pressed Stop. */
export function stoppedError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('The run was stopped', 'AbortError');
}

export function isAbortError(e: unknown): boolean {
  return (e instanceof Error || e instanceof DOMException) && e.name === 'AbortError';
}

export function createPageContext(options: {
  backend: Backend;
  signal: AbortSignal;
  sink: OutputSink;
  plot: (options: PlotOptions) => Element;
}): NoteContext {
  const { backend, signal, sink, plot } = options;
  let lastYield = performance.now();
  return {
    print: (...values) => sink.text(format(...values)),
    table: (rows, opts) => sink.table(rows, opts),
    plot: (plotOptions) => sink.figure(plot(plotOptions)),
    async progress(fraction, label) {
      if (signal.aborted) throw stoppedError(signal);
      sink.progress(Math.min(1, Math.max(0, Number(fraction) || 0)), label);
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await nextTask();
        lastYield = performance.now();
      }
      if (signal.aborted) throw stoppedError(signal);
    },
    signal,
    backend,
  };
}
