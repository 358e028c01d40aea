/**
 * The topic tree, kept on the server: one node per topic level with its message count, a rate, the
 * last value's time and whether a retained message sits there. A page asks for one node's children
 * (lazily, as MQTT Explorer's tree opens) or searches by substring; it never receives the whole tree.
 */
import type { Message } from '../../broker/types.js';

export interface TopicNodeInfo {
  /** The node's full topic (levels joined by `/`). */
  topic: string;
  /** The last level's name. */
  name: string;
  /** Messages published exactly on this topic. */
  messages: number;
  /** Messages on this topic and everything below it. */
  messagesBelow: number;
  /** Messages per second on this topic, averaged over about the last minute. */
  rate: number;
  /** A retained message sits on this topic. */
  retained: boolean;
  /** Retained messages on this topic and below it. */
  retainedBelow: number;
  children: number;
  /** Epoch ms of the last message on this topic. */
  lastAt: number | undefined;
}

class TopicNode {
  readonly children = new Map<string, TopicNode>();
  messages = 0;
  messagesBelow = 0;
  retained = false;
  retainedBelow = 0;
  /**
   * NaN until the first message: a field that only ever holds numbers is stored unboxed and updated in
   * place, where `undefined` first would box every time stored (a heap number a message, per topic).
   */
  lastAt = Number.NaN;
  /** Exponentially weighted messages per second. */
  rate = 0;
  rateAt = 0;

  constructor(
    readonly topic: string,
    readonly name: string,
    readonly parent: TopicNode | undefined,
  ) {}
}

/** What one request for a node's children gets at most. */
export const MAX_CHILDREN_PAGE = 1000;

export interface ChildrenPage {
  /** Names after this one (the `next` of the previous page). */
  after?: string;
  /** At most this many (default and cap MAX_CHILDREN_PAGE at the API). */
  limit?: number;
}

export interface ChildrenResult {
  children: TopicNodeInfo[];
  /** Children the node has in all. */
  total: number;
  /** The `after` of the next page; undefined on the last one. */
  next: string | undefined;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The time constant of the rate's moving average. */
const RATE_WINDOW_MS = 60_000;
/** Bounds memory when a client publishes on endlessly many topics. */
const MAX_NODES = 200_000;

export class TopicTree {
  private readonly root = new TopicNode('', '', undefined);
  /** The node of each topic published to (nodes are never removed; at most MAX_NODES of them). */
  private readonly published = new Map<string, TopicNode>();
  private nodes = 0;
  /** Nodes not created because the tree was full. */
  overflow = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.nodes;
  }

  private nodeFor(topic: string, create: boolean): TopicNode | undefined {
    let node = this.root;
    let start = 0;
    for (;;) {
      const slash = topic.indexOf('/', start);
      const name = slash === -1 ? topic.slice(start) : topic.slice(start, slash);
      let child = node.children.get(name);
      if (!child) {
        if (!create) return undefined;
        if (this.nodes >= MAX_NODES) {
          this.overflow++;
          return undefined;
        }
        child = new TopicNode(slash === -1 ? topic : topic.slice(0, slash), name, node);
        node.children.set(name, child);
        this.nodes++;
      }
      node = child;
      if (slash === -1) return node;
      start = slash + 1;
    }
  }

  /** Counts one message (and keeps the retained marker in step with the broker's retained set). */
  record(m: Message): void {
    // Boards publish to the same topics over and over: one lookup instead of a walk that cuts levels.
    let node = this.published.get(m.topic);
    if (!node) {
      node = this.nodeFor(m.topic, true);
      if (!node) return;
      this.published.set(m.topic, node);
    }
    const now = this.now();
    // An exponentially decaying count: at a steady r messages/s it settles at r.
    const decay = Math.exp(-Math.max(0, now - node.rateAt) / RATE_WINDOW_MS);
    node.rate = node.rate * decay + 1000 / RATE_WINDOW_MS;
    node.rateAt = now;
    node.messages++;
    node.lastAt = m.receivedAt;
    if (m.retain) this.setRetained(node, m.payload.length > 0);
    for (let n: TopicNode | undefined = node; n; n = n.parent) n.messagesBelow++;
  }

  /** A retained message already in the broker (at start), counted as present but not as traffic. */
  markRetained(topic: string): void {
    const node = this.nodeFor(topic, true);
    if (node) this.setRetained(node, true);
  }

  private setRetained(node: TopicNode, present: boolean): void {
    if (node.retained === present) return;
    node.retained = present;
    for (let n: TopicNode | undefined = node; n; n = n.parent) n.retainedBelow += present ? 1 : -1;
  }

  private info(node: TopicNode): TopicNodeInfo {
    const idle = node.rateAt === 0 ? 0 : this.now() - node.rateAt;
    return {
      topic: node.topic,
      name: node.name,
      messages: node.messages,
      messagesBelow: node.messagesBelow,
      rate: node.rate * Math.exp(-Math.max(0, idle) / RATE_WINDOW_MS),
      retained: node.retained,
      retainedBelow: node.retainedBelow,
      children: node.children.size,
      lastAt: Number.isNaN(node.lastAt) ? undefined : node.lastAt,
    };
  }

  /**
   * One page of a node's children, sorted by name (by UTF-16 code units); the top level for
   * `undefined`. `after`: the last name of the previous page. Undefined when there is no such node.
   */
  children(topic: string | undefined, page: ChildrenPage = {}): ChildrenResult | undefined {
    const node = topic === undefined ? this.root : this.nodeFor(topic, false);
    if (!node) return undefined;
    const limit = Math.max(1, Math.floor(page.limit ?? MAX_CHILDREN_PAGE));
    const { after } = page;
    const names = [...node.children.keys()].sort(byCodeUnits);
    // The first name after the cursor: the cursor need not exist any more.
    let start = 0;
    if (after !== undefined) {
      let hi = names.length;
      while (start < hi) {
        const mid = (start + hi) >> 1;
        if (names[mid]! <= after) start = mid + 1;
        else hi = mid;
      }
    }
    const slice = names.slice(start, start + limit);
    const more = start + limit < names.length;
    return {
      children: slice.map((name) => this.info(node.children.get(name)!)),
      total: names.length,
      next: more ? slice.at(-1) : undefined,
    };
  }

  get(topic: string): TopicNodeInfo | undefined {
    const node = this.nodeFor(topic, false);
    return node ? this.info(node) : undefined;
  }

  /** Topics that carried messages or hold a retained one, whose name contains `text` (any case). */
  search(text: string, limit = 100): TopicNodeInfo[] {
    const needle = text.toLowerCase();
    const out: TopicNodeInfo[] = [];
    const stack = [...this.root.children.values()];
    while (stack.length > 0 && out.length < limit) {
      const node = stack.pop()!;
      if ((node.messages > 0 || node.retained) && node.topic.toLowerCase().includes(needle))
        out.push(this.info(node));
      for (const child of node.children.values()) stack.push(child);
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : 1));
  }
}
