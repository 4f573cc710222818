/** A NoteContext for Node tests that records everything a note prints, tabulates and plots. */
import type { PlotOptions } from '@observablehq/plot';
import { createCpuBackend, setBackend } from '@ml/tensor';
import { format } from 'node:util';
import type { NoteContext, NoteRun, TableOptions } from '../src/runtime/context.js';

export interface Recording {
  lines: string[];
  tables: { rows: Record<string, unknown>[]; opts?: TableOptions }[];
  plots: PlotOptions[];
  progress: number[];
  result: unknown;
}

/** Runs a note on a fresh CPU backend and returns what it showed and returned. */
export async function runNote(run: NoteRun): Promise<Recording> {
  const backend = createCpuBackend();
  setBackend(backend);
  const rec: Recording = { lines: [], tables: [], plots: [], progress: [], result: undefined };
  const ctx: NoteContext = {
    print: (...values) => void rec.lines.push(format(...values)),
    table: (rows, opts) => void rec.tables.push({ rows, opts }),
    plot: (options) => void rec.plots.push(options),
    progress: async (f) => void rec.progress.push(f),
    signal: new AbortController().signal,
    backend,
  };
  rec.result = await run(ctx);
  return rec;
}
