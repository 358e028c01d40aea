import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cleanup, hubUp } from './helpers.js';

afterAll(cleanup);

interface Frame {
  viewport?: { topics: string[] };
  messages?: { topic: string; payload: string }[];
  tree?: { parent: string; children: { name: string; messages: number }[] };
  trees?: { parent: string | null; children: { name: string; messages: number; children: number }[] }[];
  devices?: { id: string; online: boolean }[];
  error?: string;
}

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function frames(ws: WebSocket): { all: Frame[]; next(pred: (f: Frame) => boolean): Promise<Frame> } {
  const all: Frame[] = [];
  const waiting: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as Frame;
    all.push(f);
    for (const w of [...waiting])
      if (w.pred(f)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(f);
      }
  });
  return {
    all,
    next: (pred) =>
      new Promise((resolve) => {
        const seen = all.find(pred);
        if (seen) resolve(seen);
        else waiting.push({ pred, resolve });
      }),
  };
}

describe('the live WebSocket: the page says what it shows, the server sends only that, coalesced', () => {
  it('a burst on a watched topic arrives as its latest value; unwatched topics never arrive', async () => {
    const { wsBase, m } = await hubUp();
    m.broker.publish({ topic: 'sensors/t', payload: 'before', retain: true });
    const ws = await open(`${wsBase}/api/live`);
    const f = frames(ws);
    ws.send(JSON.stringify({ topics: ['sensors/#'], tree: 'sensors', devices: true }));
    // What is already known comes first: the retained value, the tree node, the device list.
    const first = await f.next((x) => x.viewport !== undefined);
    expect(first.messages).toEqual([expect.objectContaining({ topic: 'sensors/t', payload: 'before' })]);

    // 500 messages in one turn of the event loop: one frame carries only the last of each topic.
    for (let i = 0; i < 500; i++) {
      m.broker.publish({ topic: 'sensors/t', payload: String(i) });
      m.broker.publish({ topic: 'other/x', payload: String(i) });
    }
    const burst = await f.next((x) => x.messages?.some((msg) => msg.payload === '499') ?? false);
    expect(burst.messages).toEqual([expect.objectContaining({ topic: 'sensors/t', payload: '499' })]);
    expect(burst.tree?.children).toEqual([expect.objectContaining({ name: 't', messages: 501 })]);
    const everything = f.all.flatMap((x) => x.messages ?? []);
    expect(everything.filter((msg) => msg.topic === 'other/x')).toEqual([]);
    expect(everything.length).toBeLessThan(10);

    // A new viewport replaces the old one.
    ws.send(JSON.stringify({ topics: ['other/#'] }));
    // Every viewport is answered first by a frame that echoes it: from then on it is in force.
    await f.next((x) => x.viewport?.topics[0] === 'other/#');
    m.broker.publish({ topic: 'other/x', payload: 'now' });
    m.broker.publish({ topic: 'sensors/t', payload: 'unseen' });
    const other = await f.next((x) => x.messages?.some((msg) => msg.payload === 'now') ?? false);
    expect(other.messages!.map((msg) => msg.topic)).toEqual(['other/x']);
    ws.send('not json');
    expect((await f.next((x) => x.error !== undefined)).error).toMatch(/viewport is a JSON object/);
    ws.close();
  }, 30_000);

  it("watches several tree nodes at once (a page's open ones): each changed one comes with its children", async () => {
    const { wsBase, m } = await hubUp();
    m.broker.publish({ topic: 'garden/soil/moisture', payload: '41', retain: true });
    const ws = await open(`${wsBase}/api/live`);
    const f = frames(ws);
    ws.send(JSON.stringify({ tree: [null, 'garden', 'garden/soil'] }));
    const first = await f.next((x) => x.viewport !== undefined);
    expect(first.trees?.map((t) => t.parent)).toEqual([null, 'garden', 'garden/soil']);
    expect(first.tree).toBeUndefined();

    // A message two levels down changes every node above it; a new topic appears in its parent.
    m.broker.publish({ topic: 'garden/soil/ph', payload: '6.5' });
    const next = await f.next((x) => x.trees?.some((t) => t.children.some((c) => c.name === 'ph')) ?? false);
    const soil = next.trees!.find((t) => t.parent === 'garden/soil')!;
    expect(soil.children.map((c) => c.name).sort()).toEqual(['moisture', 'ph']);
    expect(next.trees!.find((t) => t.parent === 'garden')!.children).toEqual([
      expect.objectContaining({ name: 'soil', children: 2 }),
    ]);
    // Elsewhere: only the top level changed.
    m.broker.publish({ topic: 'hall/light', payload: 'on' });
    const hall = await f.next(
      (x) => x.trees?.some((t) => t.children.some((c) => c.name === 'hall')) ?? false,
    );
    expect(hall.trees!.map((t) => t.parent)).toEqual([null]);
    ws.send(JSON.stringify({ tree: [7] }));
    expect((await f.next((x) => x.error !== undefined)).error).toMatch(/'tree' is a node, null, or a list/);
    ws.close();
  }, 30_000);

  it('refuses a page of another site (Origin) and, under allow_anonymous false, anyone not logged in', async () => {
    const open1 = await hubUp();
    await expect(open(`${open1.wsBase}/api/live`, { origin: 'http://evil.example' })).rejects.toThrow(
      'HTTP 403',
    );
    const closed = await hubUp(
      'listener 0 127.0.0.1\nlistener 0 127.0.0.1\nprotocol websockets\nallow_anonymous false\n',
    );
    await expect(open(`${closed.wsBase}/api/live`)).rejects.toThrow('HTTP 401');
  }, 30_000);
});
