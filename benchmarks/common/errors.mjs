// How a suite reports a library or case it cannot run: a short reason, never a crash.

/** Thrown by a case when a library lacks what it needs; its message becomes the note. */
export class NotAvailable extends Error {}

/** The first non-empty line of an error's message. */
export function firstLine(e) {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').find((l) => l.trim().length > 0)?.trim() ?? 'unknown error';
}
