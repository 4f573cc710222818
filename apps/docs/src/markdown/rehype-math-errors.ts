/**
 * Runs after rehype-katex and turns every formula KaTeX could not render into a build error that
 * names the file, the line and KaTeX's reason. (rehype-katex only records a message and renders
 * the formula in red, which would let a broken formula reach the site.)
 */
interface Message {
  source?: string | null;
  reason: string;
  line?: number | null;
  column?: number | null;
}
interface File {
  path?: string;
  messages: Message[];
}

export default function rehypeMathErrors() {
  return (_tree: unknown, file: File): void => {
    const errors = file.messages.filter((m) => m.source === 'rehype-katex');
    if (errors.length === 0) return;
    const where = (m: Message) => `${file.path ?? '<unknown file>'}:${m.line ?? '?'}:${m.column ?? '?'}`;
    const detail = errors.map((m) => {
      const cause = (m as { cause?: unknown }).cause;
      return `  ${where(m)} ${m.reason}${cause instanceof Error ? `: ${cause.message}` : ''}`;
    });
    throw new Error(`Bad math (KaTeX could not render ${errors.length} formula(s)):\n${detail.join('\n')}`);
  };
}
