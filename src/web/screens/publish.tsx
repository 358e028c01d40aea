/**
 * Publish: topic, payload, QoS, retain and MQTT v5 properties. What was sent and the payloads saved
 * under a name are kept in this browser (localStorage): they are one person's scratch work at this
 * screen, as a terminal's shell history is, not state of the fleet that every browser must share (the
 * tiles of a board page are, and live on the hub). A sent or saved one goes again in one tap.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import {
  type Draft,
  EMPTY,
  hasProperties,
  publishBody,
  remember,
  type Saved,
  save,
  savedList,
  sentList,
  unsave,
} from '../publish-draft';

type Note = { text: string; error?: boolean } | undefined;

function describe(d: Draft): string {
  return `QoS ${d.qos}${d.retain ? ' R' : ''}${hasProperties(d) ? ' v5' : ''}`;
}

export function PublishScreen({ topic: initial = '' }: { topic?: string }) {
  const [form, setForm] = useState<Draft>({ ...EMPTY, topic: initial });
  const [note, setNote] = useState<Note>(undefined);
  const [sent, setSent] = useState(sentList);
  const [saved, setSaved] = useState(savedList);
  const [name, setName] = useState('');
  const send = async (d: Draft) => {
    setNote(undefined);
    const body = publishBody(d);
    if (typeof body === 'string') return setNote({ text: body, error: true });
    try {
      const r = await api<{ bytes: number }>('/api/publish', body);
      setNote({ text: `Sent ${r.bytes} bytes to ${d.topic} (QoS ${d.qos}${d.retain ? ', retained' : ''}).` });
      setSent(remember(d));
    } catch (err) {
      setNote({ text: (err as Error).message, error: true });
    }
  };
  const set = (patch: Partial<Draft>) => setForm({ ...form, ...patch });
  /** A text field of the form; `rows` makes it a textarea. */
  const text = (key: keyof Draft, label: string, props: Record<string, unknown> = {}, rows = 0) => {
    const bind = {
      name: key,
      value: form[key] as string,
      onInput: (e: Event) => set({ [key]: (e.currentTarget as HTMLInputElement).value }),
      ...props,
    };
    return rows > 0 ? (
      <label>
        {label}
        <textarea rows={rows} {...bind} />
      </label>
    ) : (
      <label>
        {label}
        <input {...bind} />
      </label>
    );
  };
  return (
    <div class="screen" data-screen="publish">
      <h2>Publish</h2>
      <form
        class="card form"
        onSubmit={(e) => {
          e.preventDefault();
          send(form);
        }}
      >
        {text('topic', 'Topic', { required: true })}
        {text('payload', 'Payload', {}, 3)}
        <details class="props" open={hasProperties(form)}>
          <summary>MQTT 5 properties</summary>
          {text('contentType', 'Content type', { placeholder: 'application/json' })}
          {text('responseTopic', 'Response topic')}
          {text('correlationData', 'Correlation data (text)')}
          {text('userProperties', 'User properties (one name=value a line)', {}, 2)}
          {text('expiry', 'Message expiry (seconds)', { type: 'number', min: 1, inputMode: 'numeric' })}
        </details>
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
        <div class="inline save">
          <label>
            Save as
            <input
              name="saveName"
              placeholder="a name"
              value={name}
              onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button
            type="button"
            disabled={name.trim() === '' || form.topic === ''}
            onClick={() => {
              setSaved(save(name.trim(), form));
              setName('');
            }}
          >
            Save
          </button>
        </div>
        {note && (
          <p class={note.error ? 'error' : 'ok'} role={note.error ? 'alert' : 'status'}>
            {note.text}
          </p>
        )}
      </form>
      {saved.length > 0 && (
        <section class="card">
          <h3>Saved payloads</h3>
          <ul class="log" data-saved>
            {saved.map((s: Saved) => (
              <li key={s.name} class="sent" data-name={s.name}>
                <button type="button" class="link" onClick={() => setForm(s.draft)}>
                  <b>{s.name}</b> {s.draft.topic} <span class="muted">{describe(s.draft)}</span>
                </button>
                <button type="button" class="small" onClick={() => send(s.draft)}>
                  Send
                </button>
                <button type="button" class="small" onClick={() => setSaved(unsave(s.name))}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {sent.length > 0 && (
        <section class="card">
          <h3>Sent from this browser</h3>
          <ul class="log" data-sent>
            {sent.map((s) => (
              <li key={JSON.stringify(s)} class="sent">
                <button type="button" class="link" onClick={() => setForm(s)}>
                  <b>{s.topic}</b> {s.payload} <span class="muted">{describe(s)}</span>
                </button>
                <button type="button" class="small" onClick={() => send(s)}>
                  Send again
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
