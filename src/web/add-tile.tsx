/**
 * Adding a tile to a board's page in two taps: a kind (the form opens with the board's first topic
 * and its first numeric field filled in), then Add. Layouts are stored on the hub (/api/layouts), so
 * every browser shows the same page.
 */
import { useEffect, useState } from 'preact/hooks';
import { pathPointer, payloadFields } from '../hub/history/payload-fields';
import { type ApiError, api, type LiveMessage, q } from './api';
import { ADDABLE, type CustomTile, type TileKind } from './custom-tiles';
import { payloadBytes } from './format';

export function useLayout(device: string) {
  const [tiles, setTiles] = useState<CustomTile[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    api<{ tiles: CustomTile[] }>(`/api/layouts/${q(device)}`).then(
      (r) => setTiles(r.tiles),
      (e: ApiError) => e.status !== 404 && setError(e.message),
    );
  }, [device]);
  const save = async (next: CustomTile[]) => {
    try {
      const r = await api<{ tiles: CustomTile[] }>(`/api/layouts/${q(device)}`, { tiles: next });
      setTiles(r.tiles);
      setError(undefined);
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    }
  };
  return { tiles, save, error };
}

function fieldsOf(m: LiveMessage | undefined): string[] {
  return m ? payloadFields(payloadBytes(m.payload, m.encoding)).map((f) => pathPointer(f.path)) : [];
}

const SENDS: TileKind[] = ['switch', 'button', 'slider'];
const READS_FIELD: TileKind[] = ['slider', 'gauge', 'number', 'chart'];

interface Props {
  topics: string[];
  latest: Map<string, LiveMessage>;
  onAdd(tile: CustomTile): Promise<boolean>;
}

export function AddTile({ topics, latest, onAdd }: Props) {
  const [draft, setDraft] = useState<CustomTile | undefined>(undefined);
  const pick = (kind: TileKind, label: string) => {
    const topic = topics[0] ?? '';
    const field = fieldsOf(latest.get(topic))[0] ?? '';
    setDraft({ kind, title: label, topic, field, qos: SENDS.includes(kind) ? 1 : 0 });
  };
  const set = (patch: Partial<CustomTile>) => setDraft({ ...draft!, ...patch });
  const number = (name: 'min' | 'max') => (e: Event) =>
    set({ [name]: Number((e.currentTarget as HTMLInputElement).value) });
  const text = (name: keyof CustomTile) => (e: Event) =>
    set({ [name]: (e.currentTarget as HTMLInputElement).value });
  return (
    <section class="card add-tile" data-add-tile>
      <h3>Add a tile</h3>
      <div class="chips">
        {ADDABLE.map(([kind, label]) => (
          <button
            type="button"
            key={kind}
            class={draft?.kind === kind ? 'on' : ''}
            onClick={() => pick(kind, label)}
          >
            + {label}
          </button>
        ))}
      </div>
      {draft && (
        <form
          class="form"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await onAdd(draft)) setDraft(undefined);
          }}
        >
          <label>
            Title
            <input name="title" required value={draft.title} onInput={text('title')} />
          </label>
          <label>
            Topic
            <input name="topic" required list="tile-topics" value={draft.topic} onInput={text('topic')} />
            <datalist id="tile-topics">
              {topics.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </label>
          {READS_FIELD.includes(draft.kind) && (
            <label>
              Field (JSON Pointer such as /t, or empty for the whole payload)
              <input name="field" list="tile-fields" value={draft.field ?? ''} onInput={text('field')} />
              <datalist id="tile-fields">
                {fieldsOf(latest.get(draft.topic)).map((f) => (
                  <option key={f} value={f} />
                ))}
              </datalist>
            </label>
          )}
          {draft.kind === 'chart' && (
            <fieldset class="also" data-also>
              <legend>Also plot</legend>
              {[...latest.keys()]
                .sort()
                .flatMap((topic) => fieldsOf(latest.get(topic)).map((field) => ({ topic, field })))
                .filter((s) => s.topic !== draft.topic || s.field !== draft.field)
                .map((s) => {
                  const on = (draft.series ?? []).some((x) => x.topic === s.topic && x.field === s.field);
                  return (
                    <label class="check" key={`${s.topic} ${s.field}`}>
                      <input
                        type="checkbox"
                        data-series={`${s.topic} ${s.field}`}
                        checked={on}
                        onChange={() =>
                          set({
                            series: on
                              ? (draft.series ?? []).filter((x) => x.topic !== s.topic || x.field !== s.field)
                              : [...(draft.series ?? []), s],
                          })
                        }
                      />
                      {s.topic} {s.field}
                    </label>
                  );
                })}
            </fieldset>
          )}
          {(draft.kind === 'gauge' || draft.kind === 'slider') && (
            <div class="inline">
              <label>
                Min
                <input name="min" type="number" value={draft.min ?? 0} onInput={number('min')} />
              </label>
              <label>
                Max
                <input name="max" type="number" value={draft.max ?? 100} onInput={number('max')} />
              </label>
            </div>
          )}
          {SENDS.includes(draft.kind) && (
            <label>
              {draft.kind === 'slider'
                ? 'Payload ({{value}} is the slider)'
                : draft.kind === 'switch'
                  ? 'Payload for on'
                  : 'Payload'}
              <input
                name="payload"
                value={
                  draft.payload ??
                  (draft.kind === 'slider' ? '{{value}}' : draft.kind === 'switch' ? 'on' : '1')
                }
                onInput={text('payload')}
              />
            </label>
          )}
          <div class="inline">
            <button type="submit" class="primary">
              Add
            </button>
            <button type="button" onClick={() => setDraft(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
