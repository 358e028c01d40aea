/**
 * The history endpoints: a topic's last messages, its series, a series downsampled for a chart, and
 * CSV/NDJSON export streamed in constant memory. Every one needs the read right on the topic.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCodes } from '../../errors.js';
import { topicNameProblem } from '../../protocol/topic.js';
import type { HistoryRecorder, SeriesInfo, Tier } from '../history/index.js';
import { pathPointer } from '../history/index.js';
import type { HttpAccess, HttpIdentity } from './http-access.js';
import { HttpError, sendJson } from './http-json.js';
import type { Route } from './routes.js';

const DAY = 24 * 3600 * 1000;

function bad(message: string): HttpError {
  return new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, message);
}

/** `from`/`to` as epoch ms or ISO-8601; `to` defaults to now, `from` to `to` minus `defaultSpan`. */
function timeRange(url: URL, defaultSpan: number): { from: number; to: number } {
  const parse = (name: string): number | undefined => {
    const v = url.searchParams.get(name);
    if (v === null || v === '') return undefined;
    const t = /^-?\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(t))
      throw bad(`'${name}' must be epoch milliseconds or an ISO-8601 time, got '${v}'`);
    return t;
  };
  const to = parse('to') ?? Date.now();
  const from = parse('from') ?? to - defaultSpan;
  if (from > to) throw bad("'from' is after 'to'");
  return { from, to };
}

function topicParam(url: URL, who: HttpIdentity, access: HttpAccess): string {
  const topic = url.searchParams.get('topic');
  if (!topic) throw bad("'topic' is required");
  const problem = topicNameProblem(topic);
  if (problem) throw bad(`invalid topic '${topic}': ${problem}`);
  if (!access.allows(who, 'read', topic))
    throw new HttpError(403, ErrorCodes.HUB_FORBIDDEN, `not allowed: read '${topic}'`);
  return topic;
}

/** The series named by `field` (a JSON Pointer such as `/t` or `/a.b/0`; empty for a plain number). */
async function seriesParam(
  history: HistoryRecorder,
  topic: string,
  url: URL,
): Promise<SeriesInfo | undefined> {
  const field = url.searchParams.get('field');
  if (field === null) return undefined;
  const found = (await history.listSeries(topic)).find(
    (s) => s.topic === topic && pathPointer(s.path) === field,
  );
  if (!found) throw new HttpError(404, ErrorCodes.HUB_NOT_FOUND, `no series '${field}' on '${topic}'`);
  return found;
}

function tierParam(url: URL): Tier | undefined {
  const tier = url.searchParams.get('tier');
  if (tier === null) return undefined;
  if (tier !== 'raw' && tier !== 'minute' && tier !== 'hour') throw bad("'tier' must be raw, minute or hour");
  return tier;
}

export function historyRoutes(history: HistoryRecorder, access: HttpAccess): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/api\/messages$/,
      async handle({ res, url, who }) {
        const topic = topicParam(url, who, access);
        const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
        const messages = (await history.messages(topic, limit)).map((m) => {
          const text = m.payload.toString('utf8');
          const utf8 = !text.includes('\uFFFD');
          return {
            topic: m.topic,
            time: m.time,
            qos: m.qos,
            retain: m.retain,
            properties: m.properties ?? null,
            clientId: m.clientId ?? null,
            payload: utf8 ? text : m.payload.toString('base64'),
            encoding: utf8 ? 'utf8' : 'base64',
            size: m.size,
          };
        });
        sendJson(res, 200, { topic, messages });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/series$/,
      async handle({ res, url, who }) {
        const filter = url.searchParams.get('filter') ?? '#';
        const series = (await history.listSeries(filter))
          .filter((s) => access.allows(who, 'read', s.topic))
          .map((s) => ({ topic: s.topic, path: s.path, field: pathPointer(s.path), unit: s.unit ?? null }));
        sendJson(res, 200, { series });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/series\/points$/,
      async handle({ res, url, who }) {
        const topic = topicParam(url, who, access);
        const series = await seriesParam(history, topic, url);
        if (!series)
          throw bad("'field' is required (a JSON Pointer from /api/series; empty for a plain number)");
        const width = Number(url.searchParams.get('width') ?? 1000);
        if (!Number.isInteger(width) || width < 1 || width > 10_000)
          throw bad("'width' must be an integer 1..10000");
        const tier = tierParam(url);
        const result = await history.query(series, {
          ...timeRange(url, DAY),
          width,
          ...(tier ? { tier } : {}),
        });
        if (!result) throw new HttpError(404, ErrorCodes.HUB_NOT_FOUND, `no series on '${topic}'`);
        sendJson(res, 200, {
          topic,
          field: pathPointer(result.series.path),
          unit: result.series.unit ?? null,
          tier: result.tier,
          bucketMs: result.bucketMs,
          points: result.points,
        });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/export$/,
      async handle({ res, url, who }) {
        const topic = topicParam(url, who, access);
        const series = await seriesParam(history, topic, url);
        const format = url.searchParams.get('format') ?? 'csv';
        if (format !== 'csv' && format !== 'ndjson') throw bad("'format' must be csv or ndjson");
        const tier = tierParam(url);
        const range = timeRange(url, 7 * DAY);
        const chunks = history.export(
          { topic, ...(series ? { path: series.path } : {}) },
          { format, ...range, ...(tier ? { tier } : {}) },
        );
        const name = `${topic.replace(/[^A-Za-z0-9._-]+/g, '_')}${
          series && series.path.length > 0
            ? `_${pathPointer(series.path)
                .slice(1)
                .replace(/[^A-Za-z0-9._-]+/g, '_')}`
            : ''
        }.${format}`;
        res.writeHead(200, {
          'content-type':
            format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          'content-disposition': `attachment; filename="${name}"`,
          'cache-control': 'no-store',
        });
        // Backpressure from the socket paces the reads: memory stays flat whatever the range.
        await pipeline(Readable.from(chunks), res);
      },
    },
  ];
}
