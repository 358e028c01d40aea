/**
 * A chart of one numeric series (uPlot): the hub downsamples the range to the chart's pixel width
 * (`/api/series/points?width=`), live values are appended as they arrive, and the export links give
 * what is shown as CSV or NDJSON.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { type ApiError, api, type LiveMessage, type Point, q } from './api';
import { fieldValue } from './fields';

export const RANGES: [string, number][] = [
  ['5m', 5 * 60e3],
  ['1h', 3600e3],
  ['6h', 6 * 3600e3],
  ['24h', 24 * 3600e3],
  ['7d', 7 * 24 * 3600e3],
  ['30d', 30 * 24 * 3600e3],
  ['1y', 365 * 24 * 3600e3],
];

interface Props {
  topic: string;
  field: string;
  title?: string;
  unit?: string | null;
  /** The topic's latest live message: appended when it carries this field. */
  latest?: LiveMessage | undefined;
  range?: string;
}

/** uPlot is fetched the first time a chart shows: the Devices screen loads without it. */
let uPlotModule: Promise<{ default: typeof uPlot }> | undefined;
const loadUPlot = () => {
  uPlotModule ??= import('uplot') as Promise<{ default: typeof uPlot }>;
  return uPlotModule;
};

type Data = [number[], (number | null)[], (number | null)[], (number | null)[]];

function color(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function Chart({ topic, field, title, unit, latest, range: initial = '1h' }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = useRef<Data>([[], [], [], []]);
  const shown = useRef({ from: Date.now() - 3600e3, to: Date.now() });
  const [range, setRange] = useState(initial);
  const [count, setCount] = useState(0);
  const [error, setError] = useState<string | undefined>(undefined);
  const span = RANGES.find(([r]) => r === range)![1];

  useEffect(() => {
    const el = box.current!;
    let cancelled = false;
    let resize: ResizeObserver | undefined;
    loadUPlot().then(({ default: UPlot }) => {
      if (cancelled) return;
      const fg = color('--muted');
      const axis = { stroke: fg, grid: { stroke: color('--line'), width: 1 }, ticks: { stroke: fg } };
      const u = new UPlot(
        {
          width: Math.max(200, el.clientWidth),
          height: 180,
          legend: { show: false },
          cursor: { drag: { x: true, y: false } },
          // The whole chosen range, not just where the samples are: a gap reads as a gap.
          scales: {
            x: {
              time: true,
              range: () => [shown.current.from / 1000, Math.max(shown.current.to, Date.now()) / 1000],
            },
          },
          axes: [axis, { ...axis, size: 44 }],
          series: [
            {},
            { label: 'avg', stroke: color('--accent'), width: 2, spanGaps: true },
            { label: 'min', stroke: color('--accent-faint'), width: 1, spanGaps: true },
            { label: 'max', stroke: color('--accent-faint'), width: 1, spanGaps: true },
          ],
        },
        data.current,
        el,
      );
      plot.current = u;
      resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 180 }));
      resize.observe(el);
    });
    return () => {
      cancelled = true;
      resize?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    let current = true;
    const to = Date.now();
    const from = to - span;
    shown.current = { from, to };
    const width = Math.max(50, Math.round(box.current?.clientWidth ?? 300));
    api<{ points: Point[] }>(
      `/api/series/points?topic=${q(topic)}&field=${q(field)}&from=${from}&to=${to}&width=${width}`,
    ).then(
      (r) => {
        if (!current) return;
        const d: Data = [[], [], [], []];
        for (const p of r.points) {
          d[0].push(p.t / 1000);
          d[1].push(p.avg);
          d[2].push(p.min);
          d[3].push(p.max);
        }
        data.current = d;
        plot.current?.setData(d);
        setCount(d[0].length);
        setError(undefined);
      },
      (e: ApiError) => {
        if (!current) return;
        // No sample recorded yet is not an error: the first live value starts the chart.
        if (e.status === 404) return setError(undefined);
        setError(e.message);
      },
    );
    return () => {
      current = false;
    };
  }, [topic, field, span]);

  useEffect(() => {
    const v = fieldValue(latest, field);
    if (v === undefined || !latest) return;
    const d = data.current;
    const t = latest.at / 1000;
    if (d[0].length > 0 && t <= d[0][d[0].length - 1]!) return;
    d[0].push(t);
    d[1].push(v);
    d[2].push(v);
    d[3].push(v);
    plot.current?.setData(d);
    setCount(d[0].length);
  }, [latest, field]);

  const last = data.current[1][count - 1];
  const now = Date.now();
  const exportQuery = `topic=${q(topic)}&field=${q(field)}&from=${now - span}&to=${now}`;
  return (
    <section class="card chart" data-chart={`${topic} ${field}`} data-points={count}>
      <header>
        <h3>{title ?? `${topic} ${field}`}</h3>
        <span class="big" data-last>
          {last !== undefined && last !== null ? `${+last.toFixed(2)}${unit ? ` ${unit}` : ''}` : '–'}
        </span>
      </header>
      <fieldset class="ranges" aria-label="time range">
        {RANGES.map(([r]) => (
          <button type="button" key={r} class={r === range ? 'on' : ''} onClick={() => setRange(r)}>
            {r}
          </button>
        ))}
      </fieldset>
      <div class="plot" ref={box} />
      {count === 0 && !error && <p class="muted">No data in this range yet.</p>}
      {error && <p class="error">{error}</p>}
      <p class="links">
        Export what is shown: <a href={`/api/export?${exportQuery}&format=csv`}>CSV</a>{' '}
        <a href={`/api/export?${exportQuery}&format=ndjson`}>NDJSON</a>
      </p>
    </section>
  );
}
