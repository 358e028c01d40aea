/**
 * A chart's data: each series' points (from the hub, downsampled, plus live values), joined on one
 * time axis for uPlot, and what is shown (the points inside the visible window) as CSV or NDJSON, so an
 * export is exactly what the chart draws.
 */
import type { Point } from './api';

export interface SeriesRef {
  topic: string;
  field: string;
}

export const seriesLabel = (s: SeriesRef) => `${s.topic} ${s.field}`;

/** Times in seconds (uPlot's), then per series: avg (and min, max when the chart has one series). */
export type PlotData = [number[], ...(number | null)[][]];

/** One series: its avg line with min and max around it; several: one avg line each, on the union of their times. */
export function plotData(points: Point[][]): PlotData {
  if (points.length === 1) {
    const p = points[0]!;
    return [p.map((x) => x.t / 1000), p.map((x) => x.avg), p.map((x) => x.min), p.map((x) => x.max)];
  }
  const times = [...new Set(points.flatMap((p) => p.map((x) => x.t)))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const lines = points.map((p) => {
    const line: (number | null)[] = new Array(times.length).fill(null);
    for (const x of p) line[at.get(x.t)!] = x.avg;
    return line;
  });
  return [times.map((t) => t / 1000), ...lines];
}

/** Appends a live value when it is newer than the series' last point; true when it did. */
export function appendLive(points: Point[], t: number, v: number): boolean {
  const last = points[points.length - 1];
  if (last && t <= last.t) return false;
  points.push({ t, n: 1, min: v, max: v, avg: v });
  return true;
}

export interface Window {
  from: number;
  to: number;
}

/** Keeps a zoomed or panned window inside the chosen range and at least a second long. */
export function clampWindow(w: Window, range: Window): Window {
  const span = Math.min(Math.max(w.to - w.from, 1000), range.to - range.from);
  const from = Math.min(Math.max(w.from, range.from), range.to - span);
  return { from, to: from + span };
}

function shown(points: Point[][], w: Window): Point[][] {
  return points.map((p) => p.filter((x) => x.t >= w.from && x.t <= w.to));
}

const num = (v: number) => String(+v.toFixed(6));

/** CSV of what is shown: a row per time, avg, min, max and count of each series (empty where it has none). */
export function toCsv(series: SeriesRef[], points: Point[][], w: Window): string {
  const visible = shown(points, w);
  const head = [
    'time',
    ...series.flatMap((s) => ['avg', 'min', 'max', 'count'].map((k) => `${seriesLabel(s)} ${k}`)),
  ];
  const rows = new Map<number, string[]>();
  visible.forEach((p, i) => {
    for (const x of p) {
      const row = rows.get(x.t) ?? new Array(series.length * 4).fill('');
      row.splice(i * 4, 4, num(x.avg), num(x.min), num(x.max), String(x.n));
      rows.set(x.t, row);
    }
  });
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const lines = [head.map(quote).join(',')];
  for (const t of [...rows.keys()].sort((a, b) => a - b))
    lines.push([new Date(t).toISOString(), ...rows.get(t)!].join(','));
  return `${lines.join('\n')}\n`;
}

/** NDJSON of what is shown: one line per point of each series. */
export function toNdjson(series: SeriesRef[], points: Point[][], w: Window): string {
  const out: string[] = [];
  shown(points, w).forEach((p, i) => {
    for (const x of p)
      out.push(
        JSON.stringify({
          time: new Date(x.t).toISOString(),
          ...series[i],
          avg: x.avg,
          min: x.min,
          max: x.max,
          count: x.n,
        }),
      );
  });
  return out.map((l) => `${l}\n`).join('');
}
