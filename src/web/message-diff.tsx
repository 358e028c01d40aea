/** Two messages of a topic side by side as a diff: changed JSON keys highlighted, or changed lines. */
import { diff } from './diff';
import { clock, payloadBytes } from './format';

export interface Compared {
  time: number;
  payload: string;
  encoding: 'utf8' | 'base64';
}

const SIGN = { same: ' ', added: '+', removed: '−', changed: '~' } as const;

function text(m: Compared): string {
  return m.encoding === 'utf8' ? m.payload : `(binary, ${payloadBytes(m.payload, m.encoding).length} bytes)`;
}

export function MessageDiff({ a, b, onClose }: { a: Compared; b: Compared; onClose(): void }) {
  const [before, after] = a.time <= b.time ? [a, b] : [b, a];
  const d = diff(text(before), text(after));
  const changes = d.json
    ? d.keys.filter((k) => k.kind !== 'same').length
    : d.lines.filter((l) => l.kind !== 'same').length;
  return (
    <section class="card diff" data-diff={d.json ? 'json' : 'text'}>
      <header>
        <h3>
          {clock(before.time)} → {clock(after.time)}
        </h3>
        <button type="button" class="small" onClick={onClose}>
          Close
        </button>
      </header>
      <p class="muted">
        {changes === 0
          ? 'The two payloads are the same.'
          : `${changes} ${d.json ? 'key' : 'line'}${changes === 1 ? '' : 's'} differ${changes === 1 ? 's' : ''}.`}
      </p>
      {d.json ? (
        <table class="keys">
          <tbody>
            {d.keys.map((k) => (
              <tr key={k.path} class={k.kind} data-path={k.path} data-kind={k.kind}>
                <td>{SIGN[k.kind]}</td>
                <th>{k.path || '(root)'}</th>
                <td>{k.kind === 'changed' ? `${k.before} → ${k.after}` : (k.after ?? k.before)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <pre class="lines">
          {d.lines.map((l, i) => (
            <div key={i} class={l.kind} data-kind={l.kind}>
              {SIGN[l.kind]} {l.line}
            </div>
          ))}
        </pre>
      )}
    </section>
  );
}
