/** Home: every board, online or offline and since when, with what its info and session say. */
import { useState } from 'preact/hooks';
import type { Device } from '../api';
import { ago, bytes, signal } from '../format';
import { useApi, useFrames, useNow, useViewport } from '../hooks';

export function byPresence(a: Device, b: Device): number {
  return Number(b.online) - Number(a.online) || Number(b.ours) - Number(a.ours) || a.id.localeCompare(b.id);
}

export function DevicesScreen() {
  const fetched = useApi<{ devices: Device[] }>('/api/devices');
  const [pushed, setPushed] = useState<Device[] | undefined>(undefined);
  const now = useNow();
  useViewport({ devices: true });
  useFrames((f) => f.devices && setPushed(f.devices));
  const devices = pushed ?? fetched.data?.devices;
  if (fetched.error && !devices) return <p class="error">{fetched.error.message}</p>;
  if (!devices) return <p class="muted">Loading…</p>;
  const online = devices.filter((d) => d.online).length;
  return (
    <div class="screen" data-screen="devices">
      <h2>
        Devices <small class="muted">{`${online} online of ${devices.length}`}</small>
      </h2>
      {devices.length === 0 && (
        <p class="muted empty">
          No boards yet. Flash a board with the firmware (firmware/README.md) and point it at this hub: it
          shows up here by itself.
        </p>
      )}
      <ul class="cards devices">
        {[...devices].sort(byPresence).map((d) => (
          <DeviceCard key={d.id} device={d} now={now} />
        ))}
      </ul>
    </div>
  );
}

function DeviceCard({ device: d, now }: { device: Device; now: number }) {
  const info = d.info;
  const last = d.disconnects[0];
  return (
    <li class="card device" data-device={d.id} data-online={String(d.online)}>
      <a href={`#/device/${encodeURIComponent(d.id)}`} class="row-link">
        <header>
          <span class={`dot ${d.online ? 'online' : 'offline'}`} />
          <b class="name">{d.id}</b>
          <span class="presence" data-presence>
            {d.online ? 'online' : 'offline'}
            {d.since !== undefined && ` since ${ago(d.since, now)}`}
          </span>
        </header>
        <dl>
          {info?.app && (
            <>
              <dt>App</dt>
              <dd>
                {info.app} {info.fw}
              </dd>
            </>
          )}
          <dt>IP</dt>
          <dd>{info?.ip ?? d.client?.address ?? '–'}</dd>
          <dt>Last seen</dt>
          <dd>{ago(d.lastSeen, now)}</dd>
          {info && (
            <>
              <dt>Wi-Fi</dt>
              <dd>{signal(info.rssi)}</dd>
              <dt>Free heap</dt>
              <dd>{bytes(info.heap)}</dd>
              <dt>Reset</dt>
              <dd>{info.reset ?? '–'}</dd>
            </>
          )}
          <dt>Last disconnect</dt>
          <dd data-disconnect>{last ? `${last.reason}, ${ago(last.at, now)}` : '–'}</dd>
        </dl>
      </a>
    </li>
  );
}
