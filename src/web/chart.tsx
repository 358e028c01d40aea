/**
 * A chart of one or more numeric series (uPlot): the hub downsamples the range to the chart's pixel
 * width (`/api/series/points?width=`), live values are appended as they arrive. Drag (mouse) or pinch
 * and drag (touch) to zoom and pan; the zoomed window is fetched again at full width. The export
 * buttons give exactly the points the chart shows, as CSV or NDJSON.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { type ApiError, api, type LiveMessage, type Point, q } from './api';
import {
  appendLive,
  clampWindow,
  plotData,
  type SeriesRef,
  seriesLabel,
  toCsv,
  toNdjson,
  type Window,
} from './chart-data';
import { touchZoom } from './chart-touch';
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
  series: SeriesRef[];
  title?: string;
  unit?: string | null;
  /** The latest live message by topic: a value newer than a series' last point is appended. */
  latest?: Map<string, LiveMessage>;
  range?: string;
}

/** uPlot is fetched the first time a chart shows: the Devices screen loads without it. */
let uPlotModule: Promise<{ default: typeof uPlot }> | undefined;
const loadUPlot = () => {
  uPlotModule ??= import('uplot') as Promise<{ default: typeof uPlot }>;
  return uPlotModule;
};

const PALETTE = ['--accent', '--series-2', '--series-3', '--series-4', '--series-5', '--series-6'];

function color(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function download(name: string, type: string, text: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export function Chart({ series, title, unit, latest, range: initial = '1h' }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const points = useRef<Point[][]>(series.map(() => []));
  const [range, setRange] = useState(initial);
  const span = RANGES.find(([r]) => r === range)![1];
  /** The chosen range, and the zoomed window inside it (null: the whole range, following now). */
  const full = useRef<Window>({ from: Date.now() - span, to: Date.now() });
  const zoom = useRef<Window | null>(null);
  const [fetchWindow, setFetchWindow] = useState<Window | null>(null);
  const [shown, setShown] = useState<Window | null>(null);
  const [count, setCount] = useState(0);
  /** How many windows were fetched and drawn (a test or the bench waits for the next one). */
  const [loads, setLoads] = useState(0);
  const [error, setError] = useState<string | undefined>(undefined);
  const key = series.map(seriesLabel).join('\n');
  const visible = (): Window =>
    zoom.current ?? { from: full.current.from, to: Math.max(full.current.to, Date.now()) };
  const redraw = () => {
    const d = plotData(points.current);
    plot.current?.setData(d as uPlot.AlignedData);
    setCount(d[0].length);
  };
  /** Zooms or pans to `w` (null: the whole range) without fetching; `settle` fetches it at full width. */
  const view = (w: Window | null, settle: boolean) => {
    zoom.current =
      w && clampWindow(w, { from: full.current.from, to: Math.max(full.current.to, Date.now()) });
    const v = visible();
    plot.current?.setScale('x', { min: v.from / 1000, max: v.to / 1000 });
    if (settle) {
      setShown(zoom.current);
      setFetchWindow(zoom.current);
    }
  };

  useEffect(() => {
    const el = box.current!;
    let cancelled = false;
    let cleanup: (() => void)[] = [];
    loadUPlot().then(({ default: UPlot }) => {
      if (cancelled) return;
      const fg = color('--muted');
      const axis = { stroke: fg, grid: { stroke: color('--line'), width: 1 }, ticks: { stroke: fg } };
      const lines: uPlot.Series[] =
        series.length === 1
          ? [
              { label: 'avg', stroke: color('--accent'), width: 2, spanGaps: true },
              { label: 'min', stroke: color('--accent-faint'), width: 1, spanGaps: true },
              { label: 'max', stroke: color('--accent-faint'), width: 1, spanGaps: true },
            ]
          : series.map((s, i) => ({
              label: seriesLabel(s),
              stroke: color(PALETTE[i % PALETTE.length]!),
              width: 2,
              spanGaps: true,
            }));
      const u = new UPlot(
        {
          width: Math.max(200, el.clientWidth),
          height: 180,
          legend: { show: false },
          // A mouse drag selects the window to zoom to (applied by the hook, which keeps it in range).
          cursor: { drag: { x: true, y: false, setScale: false } },
          // The whole window, not just where the samples are: a gap reads as a gap.
          scales: {
            x: {
              time: true,
              range: () => {
                const v = visible();
                return [v.from / 1000, v.to / 1000];
              },
            },
          },
          // The value axis as wide as its longest label (1013.2 hPa beside 7 m/s).
          axes: [
            axis,
            {
              ...axis,
              size: (_u, values) => 16 + 7 * Math.max(3, ...(values ?? []).map((v) => String(v).length)),
            },
          ],
          series: [{}, ...lines],
          hooks: {
            setSelect: [
              (p) => {
                const { left, width } = p.select;
                if (width > 4)
                  view(
                    { from: p.posToVal(left, 'x') * 1000, to: p.posToVal(left + width, 'x') * 1000 },
                    true,
                  );
                p.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              },
            ],
          },
        },
        plotData(points.current) as uPlot.AlignedData,
        el,
      );
      plot.current = u;
      const resize = new ResizeObserver(() =>
        u.setSize({ width: Math.max(200, el.clientWidth), height: 180 }),
      );
      resize.observe(el);
      let moved: Window | null = null;
      const stopTouch = touchZoom(
        u.over,
        () => u.over.clientWidth,
        visible,
        (w) => {
          moved = w;
          view(w, false);
        },
        () => moved && view(moved, true),
      );
      cleanup = [() => resize.disconnect(), stopTouch];
    });
    return () => {
      cancelled = true;
      for (const c of cleanup) c();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [key]);

  // A new range: the whole of it, from now.
  useEffect(() => {
    full.current = { from: Date.now() - span, to: Date.now() };
    zoom.current = null;
    setShown(null);
    setFetchWindow(null);
  }, [span]);

  useEffect(() => {
    let current = true;
    const w = fetchWindow ?? full.current;
    const width = Math.max(50, Math.round(box.current?.clientWidth ?? 300));
    Promise.all(
      series.map((s) =>
        api<{ points: Point[] }>(
          `/api/series/points?topic=${q(s.topic)}&field=${q(s.field)}&from=${Math.floor(w.from)}&to=${Math.ceil(w.to)}&width=${width}`,
        ).then(
          (r) => r.points,
          // No sample recorded yet is not an error: the first live value starts the chart.
          (e: ApiError) => (e.status === 404 ? [] : Promise.reject(e)),
        ),
      ),
    ).then(
      (fetched) => {
        if (!current) return;
        points.current = fetched;
        plot.current?.setScale('x', { min: visible().from / 1000, max: visible().to / 1000 });
        redraw();
        setLoads((n) => n + 1);
        setError(undefined);
      },
      (e: ApiError) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [key, fetchWindow, span]);

  useEffect(() => {
    if (!latest) return;
    let added = false;
    series.forEach((s, i) => {
      const m = latest.get(s.topic);
      const v = fieldValue(m, s.field);
      if (m && v !== undefined && points.current[i]) added = appendLive(points.current[i]!, m.at, v) || added;
    });
    if (added) redraw();
  }, [latest, key]);

  const lastOf = (i: number) => points.current[i]?.[points.current[i]!.length - 1]?.avg;
  const fmt = (v: number | undefined) =>
    v === undefined ? '–' : `${+v.toFixed(2)}${unit ? ` ${unit}` : ''}`;
  const exportName = `${series
    .map((s) => `${s.topic}${s.field}`)
    .join('+')
    .replace(/[^\w.+-]+/g, '_')}`;
  const save = (format: 'csv' | 'ndjson') => {
    const w = visible();
    const text = format === 'csv' ? toCsv(series, points.current, w) : toNdjson(series, points.current, w);
    download(`${exportName}.${format}`, format === 'csv' ? 'text/csv' : 'application/x-ndjson', text);
  };
  const v = visible();
  const inView = points.current.reduce((n, p) => n + p.filter((x) => x.t >= v.from && x.t <= v.to).length, 0);
  return (
    <section
      class="card chart"
      data-chart={series.map(seriesLabel).join(' + ')}
      data-points={count}
      data-zoomed={String(shown !== null)}
      data-from={Math.round(v.from)}
      data-to={Math.round(v.to)}
      data-shown={inView}
      data-loads={loads}
    >
      <header>
        <h3>{title ?? seriesLabel(series[0]!)}</h3>
        {series.length === 1 && (
          <span class="big" data-last>
            {fmt(lastOf(0))}
          </span>
        )}
      </header>
      {series.length > 1 && (
        <ul class="legend">
          {series.map((s, i) => (
            <li key={seriesLabel(s)} data-series={seriesLabel(s)}>
              <i style={{ background: `var(${PALETTE[i % PALETTE.length]})` }} /> {seriesLabel(s)}{' '}
              <b data-last>{fmt(lastOf(i))}</b>
            </li>
          ))}
        </ul>
      )}
      <fieldset class="ranges" aria-label="time range">
        {RANGES.map(([r]) => (
          <button type="button" key={r} class={r === range ? 'on' : ''} onClick={() => setRange(r)}>
            {r}
          </button>
        ))}
        {shown && (
          <button type="button" class="reset" onClick={() => view(null, true)}>
            Reset zoom
          </button>
        )}
      </fieldset>
      <div class="plot" ref={box} />
      {count === 0 && !error && <p class="muted">No data in this range yet.</p>}
      {error && <p class="error">{error}</p>}
      <p class="links">
        Export what is shown:{' '}
        <button type="button" class="small" onClick={() => save('csv')}>
          CSV
        </button>{' '}
        <button type="button" class="small" onClick={() => save('ndjson')}>
          NDJSON
        </button>
      </p>
    </section>
  );
}
