/** The tiles of a board page: gauge, switch, state, message log and chart, each bound to a topic. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, type LiveMessage, q, type StoredMessage } from './api';
import type { TileSpec } from './board-tiles';
import { Chart } from './chart';
import { fieldValue } from './fields';
import { clock } from './format';

export interface TileProps {
  spec: TileSpec;
  latest: Map<string, LiveMessage>;
  recent: LiveMessage[];
}

export function Tile({ spec, latest, recent }: TileProps) {
  switch (spec.kind) {
    case 'gauge':
      return <Gauge spec={spec} value={fieldValue(latest.get(spec.topic), spec.field)} />;
    case 'switch':
      return <Switch spec={spec} value={latest.get(spec.topic)?.payload} />;
    case 'state': {
      const p = latest.get(spec.topic)?.payload;
      const text = p === undefined ? '–' : (spec.states[p] ?? spec.otherwise);
      return (
        <section class="card tile" data-tile="state" data-topic={spec.topic}>
          <h3>{spec.title}</h3>
          <span class={`big state-${text}`} data-value>
            {text}
          </span>
          <small class="muted">{spec.topic}</small>
        </section>
      );
    }
    case 'log':
      return <Log spec={spec} recent={recent} />;
    case 'number':
      return <BigNumber spec={spec} message={latest.get(spec.topic)} />;
    case 'button':
      return <Button spec={spec} />;
    case 'slider':
      return <Slider spec={spec} value={fieldValue(latest.get(spec.topic), spec.field)} />;
    case 'chart':
      return (
        <Chart
          series={[{ topic: spec.topic, field: spec.field }, ...(spec.more ?? [])]}
          title={spec.title}
          unit={spec.unit}
          latest={latest}
        />
      );
  }
}

function Gauge({ spec, value }: { spec: Extract<TileSpec, { kind: 'gauge' }>; value: number | undefined }) {
  const frac = value === undefined ? 0 : Math.min(1, Math.max(0, (value - spec.min) / (spec.max - spec.min)));
  // A half circle from the left (min) to the right (max).
  const a = Math.PI * (1 - frac);
  const x = 50 + 40 * Math.cos(a);
  const y = 50 - 40 * Math.sin(a);
  return (
    <section class="card tile" data-tile="gauge" data-topic={spec.topic} data-field={spec.field}>
      <h3>{spec.title}</h3>
      <svg viewBox="0 0 100 56" class="gauge" aria-hidden="true">
        <path d="M10 50 A40 40 0 0 1 90 50" class="track" />
        {value !== undefined && (
          <path d={`M10 50 A40 40 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`} class="fill" />
        )}
      </svg>
      <span class="big" data-value>
        {value === undefined ? '–' : `${+value.toFixed(1)} ${spec.unit}`}
      </span>
    </section>
  );
}

/** Publishing from a tile: a 403 (no write on the topic) makes the tile read-only and says why. */
function usePublisher(topic: string, qos: 0 | 1 | 2, retain = false) {
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const send = async (payload: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await api('/api/publish', { topic, payload, qos, retain });
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) setRefused(e.message);
      else setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const messages = (
    <>
      {refused && (
        <p class="error" role="alert">
          Read-only: {refused}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
  return { send, disabled: busy || refused !== undefined, messages };
}

function Switch({ spec, value }: { spec: Extract<TileSpec, { kind: 'switch' }>; value: string | undefined }) {
  const pub = usePublisher(spec.topic, spec.qos, spec.retain);
  const isOn = value === spec.on;
  return (
    <section class="card tile" data-tile="switch" data-topic={spec.topic}>
      <h3>{spec.title}</h3>
      <button
        type="button"
        role="switch"
        aria-checked={isOn}
        class={`switch ${isOn ? 'on' : ''}`}
        disabled={pub.disabled}
        onClick={() => pub.send(isOn ? spec.off : spec.on)}
      >
        <span class="knob" />
        <span class="label">{value === undefined ? 'unknown' : isOn ? 'on' : 'off'}</span>
      </button>
      <small class="muted">
        {spec.topic} · QoS {spec.qos}
      </small>
      {pub.messages}
    </section>
  );
}

function Button({ spec }: { spec: Extract<TileSpec, { kind: 'button' }> }) {
  const pub = usePublisher(spec.topic, spec.qos, spec.retain);
  return (
    <section class="card tile" data-tile="button" data-topic={spec.topic}>
      <h3>{spec.title}</h3>
      <button type="button" class="primary" disabled={pub.disabled} onClick={() => pub.send(spec.payload)}>
        Send “{spec.payload}”
      </button>
      <small class="muted">{spec.topic}</small>
      {pub.messages}
    </section>
  );
}

function Slider({ spec, value }: { spec: Extract<TileSpec, { kind: 'slider' }>; value: number | undefined }) {
  const pub = usePublisher(spec.topic, spec.qos, spec.retain);
  const [moving, setMoving] = useState<number | undefined>(undefined);
  const shown = moving ?? value ?? spec.min;
  return (
    <section class="card tile" data-tile="slider" data-topic={spec.topic}>
      <h3>{spec.title}</h3>
      <span class="big" data-value>
        {shown}
      </span>
      <input
        type="range"
        min={spec.min}
        max={spec.max}
        value={shown}
        disabled={pub.disabled}
        onInput={(e) => setMoving(Number((e.currentTarget as HTMLInputElement).value))}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLInputElement).value;
          setMoving(undefined);
          pub.send(spec.payload.replaceAll('{{value}}', v));
        }}
      />
      <small class="muted">{spec.topic}</small>
      {pub.messages}
    </section>
  );
}

function BigNumber({
  spec,
  message,
}: {
  spec: Extract<TileSpec, { kind: 'number' }>;
  message: LiveMessage | undefined;
}) {
  const v = fieldValue(message, spec.field);
  const text = v !== undefined ? `${+v.toFixed(2)}${spec.unit ? ` ${spec.unit}` : ''}` : message?.payload;
  return (
    <section class="card tile" data-tile="number" data-topic={spec.topic}>
      <h3>{spec.title}</h3>
      <span class="big huge" data-value>
        {text ?? '–'}
      </span>
      <small class="muted">{spec.topic}</small>
    </section>
  );
}

function Log({ spec, recent }: { spec: Extract<TileSpec, { kind: 'log' }>; recent: LiveMessage[] }) {
  const [stored, setStored] = useState<LiveMessage[]>([]);
  const key = spec.topics.join('\n');
  useEffect(() => {
    let current = true;
    Promise.all(
      spec.topics.map((t) =>
        api<{ messages: StoredMessage[] }>(`/api/messages?topic=${q(t)}&limit=20`).then(
          (r) => r.messages,
          () => [],
        ),
      ),
    ).then((lists) => {
      if (!current) return;
      setStored(
        lists.flat().map((m) => ({
          topic: m.topic,
          payload: m.payload,
          encoding: m.encoding,
          qos: m.qos,
          retain: m.retain,
          at: m.time,
        })),
      );
    });
    return () => {
      current = false;
    };
  }, [key]);
  const seen = new Set<string>();
  const rows = [...recent.filter((m) => spec.topics.includes(m.topic)), ...stored]
    .filter((m) => {
      const k = `${m.topic} ${m.at} ${m.payload}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => b.at - a.at)
    .slice(0, 30);
  return (
    <section class="card tile wide" data-tile="log">
      <h3>{spec.title}</h3>
      <ul class="log">
        {rows.map((m) => (
          <li key={`${m.topic} ${m.at} ${m.payload}`}>
            <time>{clock(m.at)}</time> <b>{m.topic}</b> {m.encoding === 'utf8' ? m.payload : '(binary)'}
          </li>
        ))}
        {rows.length === 0 && <li class="muted">No messages yet.</li>}
      </ul>
    </section>
  );
}
