/**
 * `/api/live`: one WebSocket per page, on which the page says what it shows (a viewport subscription:
 * these topics or filters, this node of the topic tree, the device list) and the server pushes only
 * that, each topic coalesced to its latest message, at most 10 frames a second. A page that shows
 * twenty topics never receives the thousands it does not show.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Message } from '../../broker/types.js';
import { topicFilterProblem, topicMatches } from '../../protocol/topic.js';
import type { BrokerView } from '../broker-view.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { TopicNodeInfo, TopicTree } from '../topics/topic-tree.js';
import type { HttpAccess, HttpIdentity } from './http-access.js';

export const LIVE_PATH = '/api/live';
/** At most one frame per socket per this many ms (10 a second). */
export const FRAME_INTERVAL_MS = 100;
const MAX_FILTERS = 200;
/** A page that does not read what it is sent gets no more frames until it catches up. */
const MAX_BUFFERED = 1024 * 1024;

export interface Viewport {
  topics?: string[];
  /** A node of the topic tree (null: the top level), or several (the open nodes of a page's tree). */
  tree?: string | null | (string | null)[];
  devices?: boolean;
}

export interface TreeFrame {
  parent: string | null;
  children: TopicNodeInfo[];
}

export interface LiveMessage {
  topic: string;
  payload: string;
  /** `utf8` when the payload is valid UTF-8 text, else `base64`. */
  encoding: 'utf8' | 'base64';
  qos: number;
  retain: boolean;
  at: number;
}

function livePayload(m: Message): LiveMessage {
  const text = m.payload.toString('utf8');
  const utf8 = Buffer.byteLength(text) === m.payload.length && !text.includes('\uFFFD');
  return {
    topic: m.topic,
    payload: utf8 ? text : m.payload.toString('base64'),
    encoding: utf8 ? 'utf8' : 'base64',
    qos: m.qos,
    retain: m.retain,
    at: m.receivedAt,
  };
}

class LivePage {
  filters: string[] = [];
  /** The viewport's `tree` as sent (echoed back), and each watched node ('' the top) with whether it changed. */
  tree: Viewport['tree'];
  readonly trees = new Map<string, boolean>();
  devices = false;
  readonly pending = new Map<string, Message>();
  devicesDirty = false;
  /** The next frame answers a new viewport (the page then knows what follows is for it). */
  viewportChanged = false;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly who: HttpIdentity,
  ) {}
}

export class LiveUpdates {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly pages = new Set<LivePage>();
  private readonly onPublish = (m: Message) => this.publish(m);
  private readonly onPresence = () => this.presenceChanged();

  constructor(
    private readonly broker: BrokerView,
    private readonly access: HttpAccess,
    private readonly topics: TopicTree,
    private readonly devices: DeviceRegistry,
  ) {
    broker.on('publish', this.onPublish);
    broker.on('client-connect', this.onPresence);
    broker.on('client-disconnect', this.onPresence);
  }

  /** Takes the upgrade if it is for LIVE_PATH (refusing it with 401/403 when not allowed). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      return false; // not a target we can read: not ours (the WebSocket server refuses it)
    }
    if (path !== LIVE_PATH) return false;
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== req.headers.host) {
        refuse('403 Forbidden');
        return true;
      }
    }
    this.access.identify(req).then(
      (who) => {
        if (!who) return refuse('401 Unauthorized');
        this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, who));
      },
      () => refuse('500 Internal Server Error'),
    );
    return true;
  }

  private open(ws: WebSocket, who: HttpIdentity): void {
    const page = new LivePage(ws, who);
    this.pages.add(page);
    ws.on('message', (data) => this.viewport(page, data.toString()));
    ws.on('close', () => {
      clearTimeout(page.timer);
      this.pages.delete(page);
    });
    ws.on('error', () => {});
  }

  private viewport(page: LivePage, text: string): void {
    let v: Viewport;
    try {
      v = JSON.parse(text) as Viewport;
    } catch {
      page.ws.send(
        JSON.stringify({
          error: 'a viewport is a JSON object: {"topics":[...],"tree":"a/b","devices":true}',
        }),
      );
      return;
    }
    const filters = Array.isArray(v.topics) ? v.topics.filter((t) => typeof t === 'string') : [];
    const bad = filters.find((f) => topicFilterProblem(f) !== undefined);
    if (bad !== undefined || filters.length > MAX_FILTERS) {
      page.ws.send(
        JSON.stringify({
          error: bad !== undefined ? `invalid topic filter '${bad}'` : `at most ${MAX_FILTERS} topics`,
        }),
      );
      return;
    }
    const nodes = Array.isArray(v.tree) ? v.tree : v.tree === undefined ? [] : [v.tree];
    if (nodes.some((n) => n !== null && typeof n !== 'string') || nodes.length > MAX_FILTERS) {
      page.ws.send(
        JSON.stringify({ error: `'tree' is a node, null, or a list of at most ${MAX_FILTERS} of them` }),
      );
      return;
    }
    page.filters = filters;
    page.tree = v.tree;
    page.trees.clear();
    for (const n of nodes) page.trees.set(n ?? '', true);
    page.devices = v.devices === true;
    page.pending.clear();
    // What is already known comes at once: the retained values of the topics, the tree, the devices.
    for (const m of this.broker.retained()) if (this.wanted(page, m.topic)) page.pending.set(m.topic, m);
    page.devicesDirty = page.devices;
    page.viewportChanged = true;
    clearTimeout(page.timer);
    page.timer = undefined;
    this.schedule(page, true);
  }

  private wanted(page: LivePage, topic: string): boolean {
    for (const f of page.filters)
      if (topicMatches(f, topic)) return this.access.allows(page.who, 'read', topic);
    return false;
  }

  /** Marks the watched nodes `topic` is below; true when there was one. */
  private underTree(page: LivePage, topic: string): boolean {
    let any = false;
    for (const node of page.trees.keys())
      if (node === '' || topic.startsWith(`${node}/`)) {
        page.trees.set(node, true);
        any = true;
      }
    return any;
  }

  private publish(m: Message): void {
    for (const page of this.pages) {
      let dirty = false;
      if (page.filters.length > 0 && this.wanted(page, m.topic)) {
        page.pending.set(m.topic, m);
        dirty = true;
      }
      if (this.underTree(page, m.topic)) dirty = true;
      if (page.devices && (m.topic.endsWith('/status') || m.topic.endsWith('/info')))
        dirty = page.devicesDirty = true;
      if (dirty) this.schedule(page, false);
    }
  }

  private presenceChanged(): void {
    for (const page of this.pages)
      if (page.devices) {
        page.devicesDirty = true;
        this.schedule(page, false);
      }
  }

  private schedule(page: LivePage, now: boolean): void {
    if (page.timer) return;
    page.timer = setTimeout(() => this.flush(page), now ? 0 : FRAME_INTERVAL_MS);
  }

  private flush(page: LivePage): void {
    page.timer = undefined;
    if (page.ws.readyState !== page.ws.OPEN) return;
    if (page.ws.bufferedAmount > MAX_BUFFERED) {
      // Keep coalescing; try again a frame later.
      page.timer = setTimeout(() => this.flush(page), FRAME_INTERVAL_MS);
      return;
    }
    const frame: Record<string, unknown> = { at: Date.now() };
    if (page.viewportChanged)
      frame.viewport = { topics: page.filters, tree: page.tree ?? null, devices: page.devices };
    page.viewportChanged = false;
    if (page.pending.size > 0) frame.messages = [...page.pending.values()].map(livePayload);
    page.pending.clear();
    const trees: TreeFrame[] = [];
    for (const [node, changed] of page.trees) {
      if (!changed) continue;
      page.trees.set(node, false);
      trees.push({
        parent: node === '' ? null : node,
        children: (this.topics.children(node || undefined)?.children ?? []).filter(
          (n) => n.children > 0 || this.access.allows(page.who, 'read', n.topic),
        ),
      });
    }
    // One node asked as one: `tree`, as before; a list is answered with `trees`, the changed ones.
    if (Array.isArray(page.tree)) {
      if (trees.length > 0) frame.trees = trees;
    } else if (trees[0]) frame.tree = { ...trees[0], parent: page.tree ?? null };
    if (page.devicesDirty)
      frame.devices = this.devices
        .list()
        .filter((d) => this.access.allows(page.who, 'read', `${d.id}/status`));
    page.devicesDirty = false;
    page.ws.send(JSON.stringify(frame));
    // The next frame no sooner than FRAME_INTERVAL_MS after this one.
    page.timer = setTimeout(() => {
      page.timer = undefined;
      if (
        page.pending.size > 0 ||
        page.devicesDirty ||
        page.viewportChanged ||
        [...page.trees.values()].some(Boolean)
      )
        this.flush(page);
    }, FRAME_INTERVAL_MS);
  }

  close(): void {
    this.broker.off('publish', this.onPublish);
    this.broker.off('client-connect', this.onPresence);
    this.broker.off('client-disconnect', this.onPresence);
    for (const page of this.pages) {
      clearTimeout(page.timer);
      page.ws.terminate();
    }
    this.pages.clear();
    this.wss.close();
  }
}
