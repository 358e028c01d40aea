/**
 * The difference between two messages of a topic: JSON-aware when both are JSON objects or arrays
 * (each leaf by its JSON Pointer: added, removed, changed or the same), else line by line (the
 * longest common subsequence, so a changed line reads as one removed and one added).
 */
import { pathPointer } from '../hub/history/payload-fields.js';

export interface KeyChange {
  path: string;
  kind: 'added' | 'removed' | 'changed' | 'same';
  before?: string;
  after?: string;
}

export interface LineChange {
  kind: 'same' | 'added' | 'removed';
  line: string;
}

export type Diff = { json: true; keys: KeyChange[] } | { json: false; lines: LineChange[] };

function parseContainer(text: string): unknown {
  const t = text.trim();
  if (t[0] !== '{' && t[0] !== '[') return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** Every leaf (and every empty object or array) by its JSON Pointer, its value as JSON text. */
function leaves(v: unknown, path: string[] = [], out = new Map<string, string>()): Map<string, string> {
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    if (entries.length === 0) out.set(pathPointer(path), JSON.stringify(v));
    for (const [k, x] of entries) leaves(x, [...path, k], out);
  } else out.set(pathPointer(path), JSON.stringify(v));
  return out;
}

function keyDiff(a: unknown, b: unknown): KeyChange[] {
  const before = leaves(a);
  const after = leaves(b);
  const out: KeyChange[] = [];
  for (const [path, x] of before) {
    const y = after.get(path);
    if (y === undefined) out.push({ path, kind: 'removed', before: x });
    else out.push({ path, kind: x === y ? 'same' : 'changed', before: x, after: y });
  }
  for (const [path, y] of after) if (!before.has(path)) out.push({ path, kind: 'added', after: y });
  return out;
}

/** Past this many cells the middle is shown as all removed then all added (a phone stays responsive). */
const MAX_CELLS = 1_000_000;

export function lineDiff(a: string, b: string): LineChange[] {
  const x = a.split('\n');
  const y = b.split('\n');
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (
    tail < x.length - head &&
    tail < y.length - head &&
    x[x.length - 1 - tail] === y[y.length - 1 - tail]
  )
    tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const same = (line: string): LineChange => ({ kind: 'same', line });
  const middle: LineChange[] = [];
  if (xs.length * ys.length > MAX_CELLS) {
    for (const line of xs) middle.push({ kind: 'removed', line });
    for (const line of ys) middle.push({ kind: 'added', line });
  } else {
    // lcs[i][j]: the longest common subsequence of xs[i..] and ys[j..].
    const w = ys.length + 1;
    const lcs = new Uint32Array((xs.length + 1) * w);
    for (let i = xs.length - 1; i >= 0; i--)
      for (let j = ys.length - 1; j >= 0; j--)
        lcs[i * w + j] =
          xs[i] === ys[j]
            ? lcs[(i + 1) * w + j + 1]! + 1
            : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    let i = 0;
    let j = 0;
    while (i < xs.length || j < ys.length) {
      if (i < xs.length && j < ys.length && xs[i] === ys[j]) {
        middle.push(same(xs[i]!));
        i++;
        j++;
      } else if (i < xs.length && (j === ys.length || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
        // A removed line before the added one that replaces it.
        middle.push({ kind: 'removed', line: xs[i++]! });
      } else middle.push({ kind: 'added', line: ys[j++]! });
    }
  }
  return [...x.slice(0, head).map(same), ...middle, ...x.slice(x.length - tail).map(same)];
}

/** `before` → `after`: by key when both are JSON, else by line. */
export function diff(before: string, after: string): Diff {
  const a = parseContainer(before);
  const b = parseContainer(after);
  if (a !== undefined && b !== undefined) return { json: true, keys: keyDiff(a, b) };
  return { json: false, lines: lineDiff(before, after) };
}
