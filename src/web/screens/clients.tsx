/** The clients inspector (administration: write on $hub/admin): sessions, subscriptions, disconnects. */
import { useState } from 'preact/hooks';
import { api, type ClientDetails, type Disconnect } from '../api';
import { ago, clock } from '../format';
import { useApi, useNow } from '../hooks';

interface Client extends ClientDetails {
  session?: { inflight: number; queued: number };
  subscriptions: { filter: string; qos: number }[];
  disconnects: Disconnect[];
}

interface Clients {
  clients: Client[];
  offlineSessions: { clientId: string; queued?: number }[];
  recentlyDisconnected: { clientId: string; at: number; reason: string }[];
}

export function ClientsScreen() {
  const fetched = useApi<Clients>('/api/clients');
  const [note, setNote] = useState<{ text: string; error?: boolean } | undefined>(undefined);
  const [asking, setAsking] = useState<string | undefined>(undefined);
  const now = useNow();
  const disconnect = async (id: string) => {
    setAsking(undefined);
    try {
      await api(`/api/clients/${encodeURIComponent(id)}/disconnect`, {});
      setNote({ text: `Disconnected ${id}.` });
      fetched.reload();
    } catch (e) {
      setNote({ text: (e as Error).message, error: true });
    }
  };
  const data = fetched.data;
  return (
    <div class="screen" data-screen="clients">
      <h2>
        Clients{' '}
        <button type="button" class="small" onClick={fetched.reload}>
          Refresh
        </button>
      </h2>
      {fetched.error && (
        <p class="error" role="alert">
          {fetched.error.message}
        </p>
      )}
      {note && <p class={note.error ? 'error' : 'ok'}>{note.text}</p>}
      <ul class="cards">
        {data?.clients.map((c) => (
          <li class="card" key={c.clientId} data-client={c.clientId}>
            <header>
              <b>{c.clientId}</b>
              <span class="muted">{c.address}</span>
            </header>
            <dl>
              <dt>Protocol</dt>
              <dd>MQTT {c.protocolVersion === 5 ? '5' : '3.1.1'}</dd>
              <dt>User</dt>
              <dd>{c.username ?? 'anonymous'}</dd>
              <dt>Keepalive</dt>
              <dd>{c.keepalive} s</dd>
              <dt>Connected</dt>
              <dd>
                {clock(c.connectedAt)} ({ago(c.connectedAt, now)})
              </dd>
              <dt>In flight / queued</dt>
              <dd>
                {c.session?.inflight ?? 0} / {c.session?.queued ?? 0}
              </dd>
              <dt>Subscriptions</dt>
              <dd>{c.subscriptions.map((s) => `${s.filter} (QoS ${s.qos})`).join(', ') || '–'}</dd>
              <dt>Last disconnects</dt>
              <dd>
                {c.disconnects
                  .slice(0, 3)
                  .map((d) => `${d.reason} ${ago(d.at, now)}`)
                  .join(', ') || '–'}
              </dd>
            </dl>
            {asking === c.clientId ? (
              <p>
                Disconnect {c.clientId}?{' '}
                <button type="button" class="danger" onClick={() => disconnect(c.clientId)}>
                  Disconnect
                </button>{' '}
                <button type="button" onClick={() => setAsking(undefined)}>
                  Cancel
                </button>
              </p>
            ) : (
              <button type="button" onClick={() => setAsking(c.clientId)}>
                Disconnect…
              </button>
            )}
          </li>
        ))}
      </ul>
      {data && data.recentlyDisconnected.length > 0 && (
        <section class="card">
          <h3>Recently disconnected</h3>
          <ul class="log">
            {data.recentlyDisconnected.map((g) => (
              <li key={`${g.clientId} ${g.at}`}>
                <b>{g.clientId}</b> {g.reason} {ago(g.at, now)}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
