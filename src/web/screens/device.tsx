/** One board: its tiles (from its info), its topics with live values, recent messages, client details. */
import { useEffect, useState } from 'preact/hooks';
import { AddTile, useLayout } from '../add-tile';
import { api, type Device, type LiveMessage, q, type StoredMessage } from '../api';
import { boardTiles, tileTopics } from '../board-tiles';
import { customSpec } from '../custom-tiles';
import { ago, bytes, clock, signal } from '../format';
import { useApi, useFrames, useNow, useViewport } from '../hooks';
import { Tile } from '../tiles';

export function DeviceScreen({ id }: { id: string }) {
  const fetched = useApi<Device>(`/api/devices/${q(id)}`);
  const [pushed, setPushed] = useState<Device | undefined>(undefined);
  const [latest, setLatest] = useState(new Map<string, LiveMessage>());
  const [recent, setRecent] = useState<LiveMessage[]>([]);
  const now = useNow();
  const device = pushed ?? fetched.data;
  const layout = useLayout(id);
  const tiles = [...(device ? boardTiles(device) : []), ...layout.tiles.map(customSpec)];
  const topics = [...new Set([`${id}/#`, ...tileTopics(tiles), ...(device?.info?.pub ?? [])])];
  useViewport({ topics, devices: true });
  useFrames((f) => {
    const d = f.devices?.find((x) => x.id === id);
    if (d) setPushed(d);
    const messages = f.messages;
    if (messages?.length) {
      setLatest((prev) => {
        const next = new Map(prev);
        for (const m of messages) next.set(m.topic, m);
        return next;
      });
      setRecent((prev) => [...messages, ...prev].slice(0, 50));
    }
  });
  // Tiles start from the last recorded message of their topics (a reading from before the page opened).
  const tileKey = tileTopics(tiles).join('\n');
  useEffect(() => {
    if (tileKey === '') return;
    let current = true;
    for (const topic of tileKey.split('\n'))
      api<{ messages: StoredMessage[] }>(`/api/messages?topic=${q(topic)}&limit=1`).then(
        ({ messages: [m] }) => {
          if (!current || !m) return;
          setLatest((prev) =>
            prev.has(topic)
              ? prev
              : new Map(prev).set(topic, {
                  topic,
                  payload: m.payload,
                  encoding: m.encoding,
                  qos: m.qos,
                  retain: m.retain,
                  at: m.time,
                }),
          );
        },
        () => {},
      );
    return () => {
      current = false;
    };
  }, [tileKey]);
  if (fetched.error && !device) return <p class="error">{fetched.error.message}</p>;
  if (!device) return <p class="muted">Loading…</p>;
  const info = device.info;
  return (
    <div class="screen" data-screen="device">
      <h2>
        <span class={`dot ${device.online ? 'online' : 'offline'}`} /> {device.id}{' '}
        <small class="muted" data-presence>
          {device.online ? 'online' : 'offline'}
          {device.since !== undefined && ` since ${ago(device.since, now)}`}
        </small>
      </h2>
      {tiles.length > 0 && (
        <div class="tiles">
          {tiles.map((t, i) => (
            <Tile key={`${i} ${t.kind} ${t.title}`} spec={t} latest={latest} recent={recent} />
          ))}
        </div>
      )}
      <AddTile
        topics={[
          ...new Set([
            ...(device.info?.pub ?? []),
            ...(device.info?.sub ?? []),
            ...[...latest.keys()].sort(),
          ]),
        ]}
        latest={latest}
        onAdd={(tile) => layout.save([...layout.tiles, tile])}
      />
      {layout.error && (
        <p class="error" role="alert" data-layout-error>
          {layout.error}
        </p>
      )}
      {layout.tiles.length > 0 && (
        <section class="card">
          <h3>Tiles you added</h3>
          <ul class="kv">
            {layout.tiles.map((t, i) => (
              <li key={`${i} ${t.title}`} data-custom={t.title}>
                {t.title}{' '}
                <span class="muted">
                  {t.kind} · {t.topic}
                </span>
                <button
                  type="button"
                  class="small push"
                  onClick={() => layout.save(layout.tiles.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section class="card">
        <h3>Topics</h3>
        <ul class="kv topics-live">
          {[...latest.values()]
            .sort((a, b) => a.topic.localeCompare(b.topic))
            .map((m) => (
              <li key={m.topic}>
                <a href={`#/topic/${encodeURIComponent(m.topic)}`}>{m.topic}</a>
                <span class="value">
                  {m.encoding === 'utf8' ? m.payload : `(${m.payload.length} base64 chars)`}
                </span>
                {m.retain && <span class="badge">retained</span>}
              </li>
            ))}
          {latest.size === 0 && <li class="muted">Nothing received yet.</li>}
        </ul>
      </section>
      <section class="card">
        <h3>Recent messages</h3>
        <ul class="log">
          {recent.map((m) => (
            <li key={`${m.topic} ${m.at} ${m.payload}`}>
              <time>{clock(m.at)}</time> <b>{m.topic}</b> {m.encoding === 'utf8' ? m.payload : '(binary)'}
            </li>
          ))}
          {recent.length === 0 && <li class="muted">Messages appear here as they arrive.</li>}
        </ul>
      </section>
      <section class="card">
        <h3>Board and connection</h3>
        <dl>
          {info && (
            <>
              <dt>App</dt>
              <dd>
                {info.app} {info.fw}
              </dd>
              <dt>IP</dt>
              <dd>{info.ip ?? '–'}</dd>
              <dt>Wi-Fi</dt>
              <dd>{signal(info.rssi)}</dd>
              <dt>Free heap</dt>
              <dd>{bytes(info.heap)}</dd>
              <dt>Reset cause</dt>
              <dd>{info.reset ?? '–'}</dd>
              <dt>Pins</dt>
              <dd>
                {info.pins
                  ? Object.entries(info.pins)
                      .map(([k, v]) => `${k} ${v}`)
                      .join(', ')
                  : '–'}
              </dd>
              <dt>Publishes</dt>
              <dd>{(info.pub ?? []).join(', ') || '–'}</dd>
              <dt>Subscribes</dt>
              <dd>{(info.sub ?? []).join(', ') || '–'}</dd>
            </>
          )}
          <dt>Last seen</dt>
          <dd>{ago(device.lastSeen, now)}</dd>
          {device.client && (
            <>
              <dt>Address</dt>
              <dd>{device.client.address}</dd>
              <dt>Protocol</dt>
              <dd>MQTT {device.client.protocolVersion === 5 ? '5' : '3.1.1'}</dd>
              <dt>Keepalive</dt>
              <dd>{device.client.keepalive} s</dd>
              <dt>Connected</dt>
              <dd>{clock(device.client.connectedAt)}</dd>
            </>
          )}
          {device.session && (
            <>
              <dt>Session</dt>
              <dd>
                {device.session.subscriptions} subscriptions, {device.session.inflight} in flight,{' '}
                {device.session.queued} queued
              </dd>
            </>
          )}
        </dl>
        <h4>Last disconnects</h4>
        <ul class="log" data-disconnects>
          {device.disconnects.map((d) => (
            <li key={d.at}>
              <time>{clock(d.at)}</time> {d.reason} <span class="muted">{d.address}</span>
            </li>
          ))}
          {device.disconnects.length === 0 && <li class="muted">None seen.</li>}
        </ul>
      </section>
    </div>
  );
}
