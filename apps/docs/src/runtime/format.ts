/**
 * Formats values for `ctx.print` in the page the way Node's `util.format` (console.log) does for
 * the common cases, so a note prints the same lines in the page and in its test.
 */

const MAX_ITEMS = 100;
const MAX_DEPTH = 2;

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function formatNumber(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

function formatKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : `'${key}'`;
}

/** Quotes a string the way Node does: single quotes, or double or backticks to avoid escapes. */
function quote(s: string): string {
  const escaped = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  if (!s.includes("'")) return `'${escaped}'`;
  if (!s.includes('"')) return `"${escaped}"`;
  if (!s.includes('`') && !s.includes('${')) return `\`${escaped}\``;
  return `'${escaped.replace(/'/g, "\\'")}'`;
}

/** Node's inspect, reduced: arrays, typed arrays, plain objects, Maps/Sets, errors, classes. */
export function inspect(value: unknown, depth = 0, seen: Set<object> = new Set()): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return formatNumber(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function: ${value.name || '(anonymous)'}]`;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (seen.has(obj)) return '[Circular *]';
  if (obj instanceof Error) return obj.stack ?? `${obj.name}: ${obj.message}`;
  if (obj instanceof Date) return obj.toISOString();
  if (obj instanceof RegExp) return String(obj);

  const list = (open: string, close: string, parts: string[], more: number, prefix = ''): string => {
    if (more > 0) parts.push(`... ${more} more item${more > 1 ? 's' : ''}`);
    if (parts.length === 0) return `${prefix}${open}${close}`;
    return `${prefix}${open} ${parts.join(', ')} ${close}`;
  };

  seen.add(obj);
  try {
    if (Array.isArray(obj) || ArrayBuffer.isView(obj)) {
      const arr = obj as ArrayLike<unknown>;
      const prefix = Array.isArray(obj) ? '' : `${obj.constructor.name}(${arr.length}) `;
      if (depth > MAX_DEPTH) return Array.isArray(obj) ? '[Array]' : `[${obj.constructor.name}]`;
      const n = Math.min(arr.length, MAX_ITEMS);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(inspect(arr[i], depth + 1, seen));
      return list('[', ']', parts, arr.length - n, prefix);
    }
    if (obj instanceof Map) {
      if (depth > MAX_DEPTH) return '[Map]';
      const parts = [...obj].map(([k, v]) => `${inspect(k, depth + 1, seen)} => ${inspect(v, depth + 1, seen)}`);
      return list('{', '}', parts, 0, `Map(${obj.size}) `);
    }
    if (obj instanceof Set) {
      if (depth > MAX_DEPTH) return '[Set]';
      const parts = [...obj].map((v) => inspect(v, depth + 1, seen));
      return list('{', '}', parts, 0, `Set(${obj.size}) `);
    }
    if (!isPlainObject(obj) && typeof (obj as { toString?: unknown }).toString === 'function') {
      const s = String(obj);
      if (s !== '[object Object]') return s;
    }
    if (depth > MAX_DEPTH) return '[Object]';
    const parts = Object.entries(obj).map(([k, v]) => `${formatKey(k)}: ${inspect(v, depth + 1, seen)}`);
    const name = isPlainObject(obj) ? '' : `${obj.constructor?.name ?? 'Object'} `;
    return list('{', '}', parts, 0, name);
  } finally {
    seen.delete(obj);
  }
}

/** Like `util.format(...values)`: `%s %d %i %f %j %o %O %%` in a leading string, then the rest. */
export function format(...values: unknown[]): string {
  const out: string[] = [];
  let rest = values;
  if (typeof values[0] === 'string' && values.length > 1 && values[0].includes('%')) {
    let i = 1;
    const head = values[0].replace(/%([sdifjoO%])/g, (m, spec: string) => {
      if (spec === '%') return '%';
      if (i >= values.length) return m;
      const v = values[i++];
      switch (spec) {
        case 's':
          return typeof v === 'string' ? v : inspect(v, 1);
        case 'd':
        case 'i': {
          const n = typeof v === 'bigint' ? v : Number(v);
          return typeof n === 'bigint' ? `${n}n` : formatNumber(spec === 'i' ? Math.trunc(n) : n);
        }
        case 'f':
          return formatNumber(Number(v));
        case 'j':
          return JSON.stringify(v);
        default:
          return inspect(v, 0);
      }
    });
    out.push(head);
    rest = values.slice(i);
  } else if (values.length > 0) {
    out.push(typeof values[0] === 'string' ? values[0] : inspect(values[0]));
    rest = values.slice(1);
  }
  for (const v of rest) out.push(typeof v === 'string' ? v : inspect(v));
  return out.join(' ');
}
