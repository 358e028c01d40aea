/**
 * One topic: its live value, its last 100 messages (text, JSON or hex; tick two to see their diff), and a
 * chart per numeric series.
 */
import { useMemo, useState } from 'preact/hooks';
import { type LiveMessage, q, type Series, type StoredMessage } from '../api';
import { Chart } from '../chart';
import { clock, hex, payloadBytes, prettyJson } from '../format';
import { useApi, useFrames, useViewport } from '../hooks';
import { MessageDiff } from '../message-diff';

type View = 'text' | 'json' | 'hex';

function shown(m: { payload: string; encoding: 'utf8' | 'base64' }, view: View): string {
  if (view === 'hex') return hex(payloadBytes(m.payload, m.encoding));
  if (m.encoding === 'base64')
    return `(binary, ${payloadBytes(m.payload, m.encoding).length} bytes: see hex)`;
  if (view === 'json') return prettyJson(m.payload) ?? m.payload;
  return m.payload;
}

export function TopicScreen({ topic }: { topic: string }) {
  const stored = useApi<{ messages: StoredMessage[] }>(`/api/messages?topic=${q(topic)}&limit=100`);
  const series = useApi<{ series: Series[] }>(`/api/series?filter=${q(topic)}`);
  const [live, setLive] = useState<LiveMessage[]>([]);
  const [view, setView] = useState<View>('text');
  /** The messages ticked to compare (by time and payload), at most two: a third replaces the first. */
  const [picked, setPicked] = useState<string[]>([]);
  useViewport({ topics: [topic] });
  useFrames((f) => {
    const mine = f.messages?.filter((m) => m.topic === topic) ?? [];
    if (mine.length > 0) setLive([...mine, ...live].slice(0, 100));
  });
  const latest = live[0];
  const latestByTopic = useMemo(() => new Map(latest ? [[topic, latest]] : []), [latest, topic]);
  const seen = new Set(live.map((m) => `${m.at} ${m.payload}`));
  const rows = [
    ...live.map((m) => ({ ...m, time: m.at, clientId: null as string | null })),
    ...(stored.data?.messages ?? []).filter((m) => !seen.has(`${m.time} ${m.payload}`)),
  ].slice(0, 100);
  const keyOf = (m: { time: number; payload: string }) => `${m.time} ${m.payload}`;
  const pick = (key: string) =>
    setPicked(picked.includes(key) ? picked.filter((k) => k !== key) : [...picked, key].slice(-2));
  // Older first: rows are newest first, and two messages of the same millisecond keep that order.
  const compared = rows.filter((m) => picked.includes(keyOf(m))).reverse();
  const charts = (series.data?.series ?? []).filter((s) => s.topic === topic);
  return (
    <div class="screen" data-screen="topic">
      <h2 class="topic-title">{topic}</h2>
      <p>
        <a href={`#/publish?topic=${encodeURIComponent(topic)}`}>Publish to this topic</a>
      </p>
      {charts.map((s) => (
        <Chart key={s.field} series={[{ topic, field: s.field }]} unit={s.unit} latest={latestByTopic} />
      ))}
      {compared.length === 2 && (
        <MessageDiff a={compared[0]!} b={compared[1]!} onClose={() => setPicked([])} />
      )}
      <section class="card">
        <header>
          <h3>Messages</h3>
          <fieldset class="ranges" aria-label="view">
            {(['text', 'json', 'hex'] as View[]).map((v) => (
              <button type="button" key={v} class={v === view ? 'on' : ''} onClick={() => setView(v)}>
                {v}
              </button>
            ))}
          </fieldset>
        </header>
        {stored.error && <p class="error">{stored.error.message}</p>}
        <ol class="messages" data-messages>
          {rows.map((m) => (
            <li key={keyOf(m)}>
              <div class="meta muted">
                <label class="compare">
                  <input
                    type="checkbox"
                    class="pick"
                    aria-label={`compare the message of ${clock(m.time)}`}
                    checked={picked.includes(keyOf(m))}
                    onChange={() => pick(keyOf(m))}
                  />
                  {clock(m.time)}
                </label>{' '}
                · QoS {m.qos}
                {m.retain && ' · retained'}
                {m.clientId && ` · from ${m.clientId}`}
              </div>
              <pre>{shown(m, view)}</pre>
            </li>
          ))}
          {rows.length === 0 && <li class="muted">No messages recorded for this topic.</li>}
        </ol>
      </section>
    </div>
  );
}
