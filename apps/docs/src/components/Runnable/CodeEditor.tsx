/**
 * A light code editor: a transparent <textarea> over a syntax-highlighted <pre> with the same
 * text and metrics, so the reader edits plain text and sees it highlighted. Tab indents (press
 * Escape first to move focus out with Tab instead).
 */
import { usePrismTheme } from '@docusaurus/theme-common';
import { Highlight } from 'prism-react-renderer';
import React, { useRef } from 'react';
import styles from './styles.module.css';

const INDENT = '  ';

export default function CodeEditor(props: {
  value: string;
  onChange: (value: string) => void;
  label: string;
}): React.JSX.Element {
  const { value, onChange, label } = props;
  const theme = usePrismTheme();
  const escaped = useRef(false);

  const onKeyDown = (e: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape') {
      escaped.current = true;
      return;
    }
    const wasEscaped = escaped.current;
    escaped.current = false;
    if (e.key !== 'Tab' || wasEscaped || e.metaKey || e.ctrlKey || e.altKey) return;
    e.preventDefault();
    const ta = e.currentTarget;
    const { selectionStart: start, selectionEnd: end } = ta;
    if (!e.shiftKey && start === end) {
      // execCommand keeps the browser's undo history; fall back to setting the value.
      if (!document.execCommand?.('insertText', false, INDENT)) {
        onChange(value.slice(0, start) + INDENT + value.slice(end));
        requestAnimationFrame(() => ta.setSelectionRange(start + INDENT.length, start + INDENT.length));
      }
      return;
    }
    // Indent or outdent every selected line.
    const lineStart = value.lastIndexOf('\n', start - 1) + 1;
    const block = value.slice(lineStart, end);
    const lines = block.split('\n');
    const changed = e.shiftKey
      ? lines.map((l) => (l.startsWith(INDENT) ? l.slice(INDENT.length) : l.replace(/^ /, '')))
      : lines.map((l) => INDENT + l);
    const next = changed.join('\n');
    onChange(value.slice(0, lineStart) + next + value.slice(end));
    const firstDelta = changed[0].length - lines[0].length;
    requestAnimationFrame(() =>
      ta.setSelectionRange(Math.max(lineStart, start + firstDelta), end + next.length - block.length),
    );
  };

  return (
    <div className={styles.editor} style={{ color: theme.plain.color, backgroundColor: theme.plain.backgroundColor }}>
      <Highlight code={value} language="tsx" theme={theme}>
        {({ tokens, getLineProps, getTokenProps }) => (
          <pre className={styles.highlight} aria-hidden="true">
            {tokens.map((line, i) => {
              const { key: _lineKey, ...lineProps } = getLineProps({ line }) as { key?: unknown };
              return (
                <span {...lineProps} key={i}>
                  {line.map((token, j) => {
                    const { key: _tokenKey, ...tokenProps } = getTokenProps({ token }) as { key?: unknown };
                    return <span {...tokenProps} key={j} />;
                  })}
                  {'\n'}
                </span>
              );
            })}
          </pre>
        )}
      </Highlight>
      <textarea
        className={styles.input}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
        aria-label={label}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        autoCorrect="off"
        data-testid="run-source"
      />
    </div>
  );
}
