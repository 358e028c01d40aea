/**
 * A tile someone added to a board's page (issue 13): what it shows or sends, bound to one topic. The
 * hub checks each one before storing it, so a layout read back always renders; the page shares these
 * types (src/web imports them, type-only).
 */
import { topicNameProblem } from '../../protocol/topic.js';

export const TILE_KINDS = ['switch', 'button', 'slider', 'gauge', 'number', 'chart', 'log'] as const;
export type TileKind = (typeof TILE_KINDS)[number];

export interface CustomTile {
  kind: TileKind;
  title: string;
  topic: string;
  /** The value read from the payload: a JSON Pointer (`/t`) or a `key=value` field; `''` the whole payload. */
  field?: string;
  unit?: string;
  /** Gauge and slider bounds. */
  min?: number;
  max?: number;
  /** What a button or a switch (its `on`) sends; a slider's template, `{{value}}` replaced. */
  payload?: string;
  /** What a switch sends to turn off. */
  off?: string;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** A chart's further series, drawn with the first (topic, field). */
  series?: { topic: string; field: string }[];
}

export const MAX_TILES = 40;
export const MAX_SERIES = 6;
const MAX_TEXT = 1024;

/** The tile as stored, or the reason it is refused. */
export function checkTile(v: unknown, index: number): CustomTile | string {
  const at = `tile ${index + 1}`;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return `${at} must be an object`;
  const t = v as Record<string, unknown>;
  if (!TILE_KINDS.includes(t.kind as TileKind))
    return `${at}: 'kind' must be one of ${TILE_KINDS.join(', ')}`;
  if (typeof t.title !== 'string' || t.title.length === 0 || t.title.length > 60)
    return `${at}: 'title' must be 1 to 60 characters`;
  if (typeof t.topic !== 'string') return `${at}: 'topic' is required`;
  const problem = topicNameProblem(t.topic);
  if (problem) return `${at}: invalid topic '${t.topic}': ${problem}`;
  const tile: CustomTile = { kind: t.kind as TileKind, title: t.title, topic: t.topic };
  for (const name of ['field', 'unit', 'payload', 'off'] as const) {
    const s = t[name];
    if (s === undefined || s === null) continue;
    if (typeof s !== 'string' || s.length > MAX_TEXT)
      return `${at}: '${name}' must be text of at most ${MAX_TEXT} characters`;
    tile[name] = s;
  }
  for (const name of ['min', 'max'] as const) {
    const n = t[name];
    if (n === undefined || n === null) continue;
    if (typeof n !== 'number' || !Number.isFinite(n)) return `${at}: '${name}' must be a number`;
    tile[name] = n;
  }
  if (tile.min !== undefined && tile.max !== undefined && tile.min >= tile.max)
    return `${at}: 'min' must be below 'max'`;
  if (t.qos !== undefined) {
    if (t.qos !== 0 && t.qos !== 1 && t.qos !== 2) return `${at}: 'qos' must be 0, 1 or 2`;
    tile.qos = t.qos;
  }
  if (t.retain !== undefined) {
    if (typeof t.retain !== 'boolean') return `${at}: 'retain' must be true or false`;
    tile.retain = t.retain;
  }
  if (t.series !== undefined && t.series !== null) {
    const series = checkSeries(t.series, at);
    if (typeof series === 'string') return series;
    if (series.length > 0) tile.series = series;
  }
  return tile;
}

function checkSeries(v: unknown, at: string): { topic: string; field: string }[] | string {
  if (!Array.isArray(v) || v.length > MAX_SERIES - 1)
    return `${at}: 'series' must be a list of at most ${MAX_SERIES - 1} more {topic, field}`;
  const out: { topic: string; field: string }[] = [];
  for (const s of v as Record<string, unknown>[]) {
    if (!s || typeof s !== 'object' || typeof s.topic !== 'string' || typeof s.field !== 'string')
      return `${at}: each of 'series' needs a topic and a field`;
    const problem = topicNameProblem(s.topic);
    if (problem) return `${at}: invalid series topic '${s.topic}': ${problem}`;
    if (s.field.length > MAX_TEXT) return `${at}: a series field is over ${MAX_TEXT} characters`;
    out.push({ topic: s.topic, field: s.field });
  }
  return out;
}
