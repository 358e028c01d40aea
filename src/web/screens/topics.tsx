/**
 * The topic tree, from the hub (children fetched as a node opens, then kept live through the viewport),
 * searchable, with counts, rates and retained markers; a branch's retained messages are cleared after
 * a confirmation saying how many.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, q, type TopicNode } from '../api';
import { useApi, useFrames, useViewport } from '../hooks';
import { VirtualList } from '../virtual-list';

interface Row {
  node: TopicNode;
  depth: number;
  /** A closing row: the hub sends at most 1000 children of a node; this many more are not shown. */
  more?: number;
}

const ROW = 52;

function flatten(nodes: TopicNode[], open: Map<string, TopicNode[]>, depth = 0, out: Row[] = []): Row[] {
  for (const node of nodes) {
    out.push({ node, depth });
    const children = open.get(node.topic);
    if (!children) continue;
    flatten(children, open, depth + 1, out);
    if (node.children > children.length)
      out.push({ node, depth: depth + 1, more: node.children - children.length });
  }
  return out;
}

interface Pending {
  filter: string;
  count: number;
  topics: string[];
}

export function TopicsScreen() {
  const root = useApi<{ children: TopicNode[] }>('/api/topics');
  const [top, setTop] = useState<TopicNode[] | undefined>(undefined);
  const [open, setOpen] = useState(new Map<string, TopicNode[]>());
  const [search, setSearch] = useState('');
  const [found, setFound] = useState<TopicNode[] | undefined>(undefined);
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [note, setNote] = useState<{ text: string; error?: boolean } | undefined>(undefined);
  // The top level and every open node stay live: counts, rates and new topics as they come.
  useViewport({ tree: [null, ...open.keys()] });
  useFrames((f) => {
    for (const { parent, children } of f.trees ?? []) {
      if (parent === null) setTop(children);
      else setOpen((prev) => (prev.has(parent) ? new Map(prev).set(parent, children) : prev));
    }
  });

  useEffect(() => {
    if (search.trim() === '') return setFound(undefined);
    let current = true;
    const t = setTimeout(() => {
      api<{ topics: TopicNode[] }>(`/api/topics/search?q=${q(search.trim())}`).then(
        (r) => current && setFound(r.topics),
        (e: Error) => current && setNote({ text: e.message, error: true }),
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(t);
    };
  }, [search]);

  const toggle = async (node: TopicNode) => {
    if (open.has(node.topic)) {
      setOpen((prev) => {
        const next = new Map(prev);
        for (const k of [...next.keys()])
          if (k === node.topic || k.startsWith(`${node.topic}/`)) next.delete(k);
        return next;
      });
      return;
    }
    const r = await api<{ children: TopicNode[] }>(`/api/topics?parent=${q(node.topic)}`);
    setOpen((prev) => new Map(prev).set(node.topic, r.children));
  };

  const askClear = async (node: TopicNode) => {
    const filter = node.children > 0 ? `${node.topic}/#` : node.topic;
    try {
      const r = await api<{ count: number; topics: string[] }>('/api/retained/clear', { filter });
      setPending({ filter, count: r.count, topics: r.topics });
      setNote(undefined);
    } catch (e) {
      setNote({ text: (e as Error).message, error: true });
    }
  };

  const clear = async () => {
    if (!pending) return;
    try {
      const r = await api<{ cleared: number }>('/api/retained/clear', {
        filter: pending.filter,
        confirm: true,
      });
      setNote({ text: `Cleared ${r.cleared} retained message${r.cleared === 1 ? '' : 's'}.` });
      root.reload();
      setOpen(new Map());
    } catch (e) {
      setNote({ text: (e as Error).message, error: true });
    }
    setPending(undefined);
  };

  const nodes = top ?? root.data?.children;
  const rows: Row[] = found ? found.map((node) => ({ node, depth: 0 })) : flatten(nodes ?? [], open);
  return (
    <div class="screen" data-screen="topics">
      <h2>Topics</h2>
      <input
        type="search"
        class="search"
        placeholder="Search topics"
        value={search}
        onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
      />
      {pending && (
        <div class="confirm" role="alertdialog" data-confirm>
          <p>
            {pending.count === 0
              ? `No retained message matches ${pending.filter}.`
              : `Clear ${pending.count} retained message${pending.count === 1 ? '' : 's'} matching ${pending.filter}?`}
          </p>
          {pending.topics.length > 0 && <p class="muted small">{pending.topics.slice(0, 5).join(', ')}</p>}
          {pending.count > 0 && (
            <button type="button" class="danger" onClick={clear}>
              Clear {pending.count}
            </button>
          )}{' '}
          <button type="button" onClick={() => setPending(undefined)}>
            Cancel
          </button>
        </div>
      )}
      {note && (
        <p class={note.error ? 'error' : 'ok'} role="status">
          {note.text}
        </p>
      )}
      {root.error && !nodes && <p class="error">{root.error.message}</p>}
      {rows.length === 0 && nodes && <p class="muted">{found ? 'No topic matches.' : 'No topics yet.'}</p>}
      <VirtualList
        items={rows}
        rowHeight={ROW}
        render={({ node, depth, more }) =>
          more !== undefined ? (
            <div
              class="tree-row muted"
              style={{ paddingLeft: `${40 + depth * 16}px` }}
              data-more={node.topic}
            >
              {more} more under {node.topic}: search to find them
            </div>
          ) : (
            <div class="tree-row" style={{ paddingLeft: `${8 + depth * 16}px` }} data-topic={node.topic}>
              {node.children > 0 && !found ? (
                <button
                  type="button"
                  class="expander"
                  aria-label={`open ${node.topic}`}
                  onClick={() => toggle(node)}
                >
                  {open.has(node.topic) ? '▾' : '▸'}
                </button>
              ) : (
                <span class="expander" />
              )}
              <a class="tree-name" href={`#/topic/${encodeURIComponent(node.topic)}`}>
                {found ? node.topic : node.name || '(empty)'}
                {node.retained && (
                  <span class="badge" title="retained">
                    R
                  </span>
                )}
              </a>
              <span class="counts muted">
                {node.messagesBelow} msg
                {node.rate > 0 && ` · ${node.rate.toFixed(1)}/s`}
                {node.children > 0 && node.retainedBelow > 0 && ` · ${node.retainedBelow} retained`}
              </span>
              {node.retainedBelow > 0 && (
                <button
                  type="button"
                  class="small"
                  aria-label={`clear retained ${node.topic}`}
                  onClick={() => askClear(node)}
                >
                  Clear
                </button>
              )}
            </div>
          )
        }
      />
    </div>
  );
}
