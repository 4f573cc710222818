/** The output panel of a Runnable: printed text, tables and figures, in the order they came. */
import { useEffect, useRef } from 'react';
import type { TableOptions } from '../../runtime/context';
import { inspect } from '../../runtime/format';
import styles from './styles.module.css';

export type OutputItem =
  | { kind: 'text'; text: string }
  | { kind: 'table'; rows: Record<string, unknown>[]; opts?: TableOptions }
  | { kind: 'figure'; element: Element };

function formatCell(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(6)));
  }
  if (typeof v === 'string') return v;
  return inspect(v, 1);
}

function Table({ rows, opts }: { rows: Record<string, unknown>[]; opts?: TableOptions }) {
  const columns = opts?.columns ?? Object.keys(rows[0] ?? {});
  return (
    <div className={styles.tableWrap}>
      <table className={styles.table}>
        {opts?.caption ? <caption>{opts.caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {columns.map((c) => {
                const v = row[c];
                return (
                  <td key={c} className={typeof v === 'number' ? styles.num : undefined}>
                    {formatCell(v)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Figure({ element }: { element: Element }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.replaceChildren(element);
  }, [element]);
  return <div className={styles.figure} ref={ref} data-testid="run-figure" />;
}

/** Groups consecutive text lines into one block. */
function blocks(items: readonly OutputItem[]): (OutputItem | { kind: 'lines'; lines: string[] })[] {
  const out: (OutputItem | { kind: 'lines'; lines: string[] })[] = [];
  for (const item of items) {
    const last = out[out.length - 1];
    if (item.kind === 'text' && last?.kind === 'lines') last.lines.push(item.text);
    else if (item.kind === 'text') out.push({ kind: 'lines', lines: [item.text] });
    else out.push(item);
  }
  return out;
}

export default function Output({ items, dropped }: { items: readonly OutputItem[]; dropped: number }) {
  return (
    <>
      {blocks(items).map((b, i) => {
        switch (b.kind) {
          case 'lines':
            return (
              <pre key={i} className={styles.text}>
                {b.lines.join('\n')}
              </pre>
            );
          case 'table':
            return <Table key={i} rows={b.rows} opts={b.opts} />;
          case 'figure':
            return <Figure key={i} element={b.element} />;
          default:
            return null;
        }
      })}
      {dropped > 0 ? <p className={styles.note}>… {dropped} more lines not shown</p> : null}
    </>
  );
}
