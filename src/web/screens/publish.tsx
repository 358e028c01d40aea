/** Publish: topic, payload, QoS, retain; what was sent is kept in this browser. */
import { useState } from 'preact/hooks';
import { api } from '../api';

interface Sent {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

const KEY = 'mothership.sent';

function history(): Sent[] {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '[]') as Sent[];
  } catch {
    return [];
  }
}

export function PublishScreen({ topic: initial = '' }: { topic?: string }) {
  const [form, setForm] = useState<Sent>({ topic: initial, payload: '', qos: 0, retain: false });
  const [note, setNote] = useState<{ text: string; error?: boolean } | undefined>(undefined);
  const [sent, setSent] = useState(history);
  const send = async (e: Event) => {
    e.preventDefault();
    setNote(undefined);
    try {
      const r = await api<{ bytes: number }>('/api/publish', form);
      setNote({
        text: `Sent ${r.bytes} bytes to ${form.topic} (QoS ${form.qos}${form.retain ? ', retained' : ''}).`,
      });
      const next = [form, ...sent.filter((s) => JSON.stringify(s) !== JSON.stringify(form))].slice(0, 20);
      localStorage.setItem(KEY, JSON.stringify(next));
      setSent(next);
    } catch (err) {
      setNote({ text: (err as Error).message, error: true });
    }
  };
  const set = (patch: Partial<Sent>) => setForm({ ...form, ...patch });
  return (
    <div class="screen" data-screen="publish">
      <h2>Publish</h2>
      <form class="card form" onSubmit={send}>
        <label>
          Topic
          <input
            name="topic"
            required
            value={form.topic}
            onInput={(e) => set({ topic: (e.currentTarget as HTMLInputElement).value })}
          />
        </label>
        <label>
          Payload
          <textarea
            name="payload"
            rows={3}
            value={form.payload}
            onInput={(e) => set({ payload: (e.currentTarget as HTMLTextAreaElement).value })}
          />
        </label>
        <div class="inline">
          <label>
            QoS
            <select
              name="qos"
              value={String(form.qos)}
              onChange={(e) =>
                set({ qos: Number((e.currentTarget as HTMLSelectElement).value) as 0 | 1 | 2 })
              }
            >
              <option value="0">0</option>
              <option value="1">1</option>
              <option value="2">2</option>
            </select>
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="retain"
              checked={form.retain}
              onChange={(e) => set({ retain: (e.currentTarget as HTMLInputElement).checked })}
            />
            Retain
          </label>
          <button type="submit" class="primary">
            Publish
          </button>
        </div>
        {note && (
          <p class={note.error ? 'error' : 'ok'} role={note.error ? 'alert' : 'status'}>
            {note.text}
          </p>
        )}
      </form>
      {sent.length > 0 && (
        <section class="card">
          <h3>Sent from this browser</h3>
          <ul class="log">
            {sent.map((s) => (
              <li key={JSON.stringify(s)}>
                <button type="button" class="link" onClick={() => setForm(s)}>
                  <b>{s.topic}</b> {s.payload}{' '}
                  <span class="muted">
                    QoS {s.qos}
                    {s.retain ? ' R' : ''}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
