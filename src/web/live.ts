/**
 * The live WebSocket (`/api/live`): one per page. The screen in view says what it shows (a viewport:
 * topics, a tree node, the device list) and gets frames for that only. When the hub goes away (a
 * broker restart) it reconnects by itself, resends the viewport, and says so through its state.
 */
import type { Device, LiveMessage, TopicNode } from './api';

export interface Viewport {
  topics?: string[];
  /** A node of the topic tree (null: the top level), or several: each comes back when it changes. */
  tree?: string | null | (string | null)[];
  devices?: boolean;
}

export interface Frame {
  at: number;
  messages?: LiveMessage[];
  tree?: { parent: string | null; children: TopicNode[] };
  trees?: { parent: string | null; children: TopicNode[] }[];
  devices?: Device[];
}

/** `connecting` at first, `open`, then `lost` while it retries after a drop. */
export type LiveState = 'connecting' | 'open' | 'lost';

export class Live {
  state: LiveState = 'connecting';
  /** The last time the link came back after a loss (the page says "reconnected"), and how often. */
  reconnectedAt = 0;
  reconnects = 0;
  private ws: WebSocket | undefined;
  private viewport: Viewport = {};
  private retryMs = 500;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly frameListeners = new Set<(f: Frame) => void>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();
  private closed = false;

  constructor(
    private readonly url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`,
  ) {}

  start(): void {
    this.closed = false;
    this.connect();
  }

  /** After a login the cookie changed: a new socket carries it. */
  restart(): void {
    clearTimeout(this.timer);
    const old = this.ws;
    this.ws = undefined;
    old?.close();
    this.retryMs = 500;
    this.connect();
  }

  stop(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }

  show(viewport: Viewport): void {
    this.viewport = viewport;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(viewport));
  }

  onFrame(listener: (f: Frame) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  onState(listener: (s: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private setState(s: LiveState): void {
    if (s === 'open' && this.state === 'lost') {
      this.reconnectedAt = Date.now();
      this.reconnects++;
    }
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.setState('open');
      ws.send(JSON.stringify(this.viewport));
    };
    ws.onmessage = (e) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(e.data)) as Frame;
      } catch {
        return;
      }
      for (const l of this.frameListeners) l(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws || this.closed) return;
      if (this.state === 'open') this.setState('lost');
      // Back off up to 5 s: a restarting broker is back within seconds.
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }
}

export const live = new Live();
