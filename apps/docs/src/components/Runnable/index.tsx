/**
 * `<Runnable note="<slug>" />`: shows the real source of `notes/<slug>.ts` in an editable code
 * area and runs it in the page. Run executes the bundled note; after an edit it runs the edited
 * code instead (compiled in the page). Output, a progress bar, Stop and Reset, and a badge with
 * the backend the note ran on.
 *
 * Nothing runs on the server or before the reader clicks Run. For the browser test, the root has
 * `data-testid="runnable"`, `data-status="idle|running|done|error|stopped"` and
 * `data-ready="true"` once it can run; the button is `run-button`, the panel `run-output`.
 */
import clsx from 'clsx';
import React, { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { cpuBackend, isCapabilityError, pageBackend } from '../../runtime/backend';
import { compileNote } from '../../runtime/compile';
import type { TableOptions } from '../../runtime/context';
import { loadNote, noteSlugs, noteSource } from '../../runtime/notes';
import { createPageContext, isAbortError, type OutputSink } from '../../runtime/page-context';
import CodeEditor from './CodeEditor';
import Output, { type OutputItem } from './Output';
import styles from './styles.module.css';

export type RunStatus = 'idle' | 'running' | 'done' | 'error' | 'stopped';

/** At most this many printed lines are kept per run (the rest are counted). */
const MAX_LINES = 2000;

interface RunError {
  name: string;
  message: string;
  stack?: string;
}

function describeError(e: unknown): RunError {
  if (e instanceof Error || e instanceof DOMException) {
    const stack = e instanceof Error ? e.stack : undefined;
    return { name: e.name, message: e.message, stack };
  }
  return { name: 'Error', message: String(e) };
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export interface RunnableProps {
  /** The note's slug: the file `notes/<slug>.ts`. */
  note: string;
  /** Optional heading shown above the code (default: the file name). */
  title?: string;
}

export default function Runnable({ note, title }: RunnableProps): React.JSX.Element {
  const original = noteSource(note);
  if (original === undefined) {
    // Fails the build (pages render on the server) when a page names a note that does not exist.
    throw new Error(`<Runnable note="${note}" />: there is no notes/${note}.ts (notes: ${noteSlugs().join(', ')})`);
  }

  const [source, setSource] = useState(original);
  const [status, setStatus] = useState<RunStatus>('idle');
  const [ready, setReady] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [error, setError] = useState<RunError | null>(null);
  const [progress, setProgress] = useState<{ fraction: number; label?: string } | null>(null);
  const [backendName, setBackendName] = useState<string | null>(null);
  const [elapsed, setElapsed] = useState<number | null>(null);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const items = useRef<OutputItem[]>([]);
  const dropped = useRef(0);
  const controller = useRef<AbortController | null>(null);
  const edited = source !== original;

  useEffect(() => setReady(true), []);
  // When the file itself changes (live reload while writing a note), show the new file unless the
  // reader has edited the old one.
  const shownOriginal = useRef(original);
  useEffect(() => {
    if (shownOriginal.current === original) return;
    const previous = shownOriginal.current;
    shownOriginal.current = original;
    setSource((s) => (s === previous ? original : s));
  }, [original]);
  // Stop a running note when the page navigates away.
  useEffect(() => () => controller.current?.abort(), []);

  const run = useCallback(async () => {
    if (controller.current) return;
    const ctl = new AbortController();
    controller.current = ctl;
    items.current = [];
    dropped.current = 0;
    setError(null);
    setProgress(null);
    setElapsed(null);
    setStopping(false);
    setStatus('running');
    redraw();

    let lines = 0;
    const push = (item: OutputItem) => {
      if (ctl !== controller.current) return;
      items.current.push(item);
      redraw();
    };
    const sink: OutputSink = {
      text: (text) => {
        if (++lines > MAX_LINES) {
          dropped.current++;
          redraw();
        } else push({ kind: 'text', text });
      },
      table: (rows: Record<string, unknown>[], opts?: TableOptions) => push({ kind: 'table', rows, opts }),
      figure: (element) => push({ kind: 'figure', element }),
      progress: (fraction, label) => setProgress({ fraction, label }),
    };

    const started = performance.now();
    try {
      const [backend, tensorLib, Plot] = await Promise.all([
        pageBackend(),
        import('@ml/tensor'),
        import('@observablehq/plot'),
      ]);
      const runNote = edited ? await compileNote(source, note) : await loadNote(note);
      const attempt = async (on: typeof backend) => {
        tensorLib.setBackend(on);
        setBackendName(on.name);
        await runNote(createPageContext({ backend: on, signal: ctl.signal, sink, plot: (o) => Plot.plot(o) }));
      };
      try {
        await attempt(backend);
      } catch (e) {
        // a note that needs what the GPU backend lacks (float64, a kernel) runs on the CPU instead
        if (backend.name === 'cpu' || !isCapabilityError(e) || ctl.signal.aborted) throw e;
        items.current = [];
        lines = 0;
        const reason = e instanceof Error ? e.message : String(e);
        push({ kind: 'text', text: `[running on the CPU: ${backend.name} cannot run this note (${reason})]` });
        await attempt(await cpuBackend());
      }
      setStatus(ctl.signal.aborted ? 'stopped' : 'done');
    } catch (e) {
      if (ctl.signal.aborted || isAbortError(e)) {
        setStatus('stopped');
      } else {
        setError(describeError(e));
        setStatus('error');
      }
    } finally {
      setElapsed(performance.now() - started);
      setStopping(false);
      controller.current = null;
      redraw();
    }
  }, [edited, note, source]);

  const stop = () => {
    const ctl = controller.current;
    if (!ctl) return;
    setStopping(true);
    ctl.abort(new DOMException('The run was stopped', 'AbortError'));
  };

  const reset = () => {
    setSource(original);
  };

  const running = status === 'running';
  const file = `notes/${note}.ts`;
  const hasOutput = items.current.length > 0 || dropped.current > 0 || error !== null || status === 'stopped';

  return (
    <section
      className={styles.runnable}
      data-testid="runnable"
      data-note={note}
      data-status={status}
      data-ready={ready ? 'true' : 'false'}
    >
      <header className={styles.header}>
        <span className={styles.file} title={`The file apps/docs/${file}`}>
          {title ?? file}
        </span>
        {edited ? <span className={clsx(styles.badge, styles.edited)}>edited</span> : null}
        <span className={styles.spacer} />
        {backendName ? (
          <span className={clsx(styles.badge, styles.backend)} title="The backend this note ran on" data-testid="backend-badge">
            {backendName}
          </span>
        ) : null}
        {edited ? (
          <button type="button" className="button button--sm button--secondary" onClick={reset} disabled={running}>
            Reset
          </button>
        ) : null}
        {running ? (
          <button type="button" className="button button--sm button--danger" onClick={stop} disabled={stopping} data-testid="stop-button">
            {stopping ? 'Stopping…' : 'Stop'}
          </button>
        ) : null}
        <button
          type="button"
          className="button button--sm button--primary"
          onClick={() => void run()}
          disabled={!ready || running}
          data-testid="run-button"
          title={edited ? 'Run the edited code' : `Run ${file}`}
        >
          {running ? 'Running…' : edited ? 'Run edited' : 'Run'}
        </button>
      </header>

      <CodeEditor value={source} onChange={setSource} label={`Source of ${file}`} />

      <div className={styles.output} data-testid="run-output" data-status={status} aria-live="polite" hidden={!running && !hasOutput}>
        {running && progress ? (
          <div className={styles.progress}>
            <progress max={1} value={progress.fraction} />
            <span>{progress.label ?? `${Math.round(progress.fraction * 100)}%`}</span>
          </div>
        ) : null}
        <Output items={items.current} dropped={dropped.current} />
        {status === 'stopped' ? <p className={styles.stopped}>stopped</p> : null}
        {error ? (
          <div className={styles.error} role="alert">
            <strong>{error.name}</strong>: {error.message}
            {error.stack ? (
              <details>
                <summary>stack</summary>
                <pre>{error.stack}</pre>
              </details>
            ) : null}
          </div>
        ) : null}
        {elapsed !== null && status === 'done' ? (
          <p className={styles.note}>
            done in {formatMs(elapsed)}
            {backendName ? ` on ${backendName}` : ''}
          </p>
        ) : null}
      </div>
    </section>
  );
}
