/**
 * A trie of topic filters, one level per node, so matching a topic costs its depth rather than the
 * number of subscriptions. Each filter holds entries keyed by an owner (a client id, or a shared group).
 */
interface TreeNode<T> {
  children: Map<string, TreeNode<T>>;
  entries: Map<string, T> | undefined;
}

function newNode<T>(): TreeNode<T> {
  return { children: new Map(), entries: undefined };
}

/** Most distinct topics whose matches are remembered; past it the memo starts over. */
const MEMO_LIMIT = 10_000;

export class SubscriptionTree<T> {
  private readonly root: TreeNode<T> = newNode();
  private count = 0;
  /**
   * Matches per topic, remembered until the tree changes: devices publish to a fixed set of topics,
   * so most lookups skip the walk (and its split) entirely.
   */
  private memo = new Map<string, [T, string][]>();

  get size(): number {
    return this.count;
  }

  get(filter: string, key: string): T | undefined {
    let node: TreeNode<T> | undefined = this.root;
    for (const level of filter.split('/')) {
      node = node.children.get(level);
      if (!node) return undefined;
    }
    return node.entries?.get(key);
  }

  set(filter: string, key: string, value: T): void {
    this.memo.clear();
    let node = this.root;
    for (const level of filter.split('/')) {
      let child = node.children.get(level);
      if (!child) {
        child = newNode();
        node.children.set(level, child);
      }
      node = child;
    }
    node.entries ??= new Map();
    if (!node.entries.has(key)) this.count++;
    node.entries.set(key, value);
  }

  /** Removes an entry, pruning empty branches; true when there was one. */
  delete(filter: string, key: string): boolean {
    this.memo.clear();
    const levels = filter.split('/');
    const path: TreeNode<T>[] = [this.root];
    let node = this.root;
    for (const level of levels) {
      const child = node.children.get(level);
      if (!child) return false;
      path.push(child);
      node = child;
    }
    if (!node.entries?.delete(key)) return false;
    this.count--;
    if (node.entries.size === 0) node.entries = undefined;
    for (let i = levels.length; i > 0; i--) {
      const n = path[i]!;
      if (n.entries || n.children.size > 0) break;
      path[i - 1]!.children.delete(levels[i - 1]!);
    }
    return true;
  }

  /**
   * Calls `visit` for every entry whose filter matches `topic`. [MQTT-4.7.2-1]: a topic starting
   * with `$` is not matched by `+` or `#` in the first level.
   */
  match(topic: string, visit: (value: T, key: string) => void): void {
    let found = this.memo.get(topic);
    if (!found) {
      found = [];
      const out = found;
      this.walk(topic, (v, k) => out.push([v, k]));
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(topic, found);
    }
    for (const [v, k] of found) visit(v, k);
  }

  private walk(topic: string, visit: (value: T, key: string) => void): void {
    const levels = topic.split('/');
    const dollar = topic.startsWith('$');
    const walk = (node: TreeNode<T>, depth: number): void => {
      const wildcardsAllowed = !(dollar && depth === 0);
      if (wildcardsAllowed) {
        const hash = node.children.get('#');
        // `a/#` matches `a` too [MQTT-4.7.1-2]
        if (hash?.entries) for (const [k, v] of hash.entries) visit(v, k);
      }
      if (depth === levels.length) {
        if (node.entries) for (const [k, v] of node.entries) visit(v, k);
        return;
      }
      const exact = node.children.get(levels[depth]!);
      if (exact) walk(exact, depth + 1);
      if (wildcardsAllowed) {
        const plus = node.children.get('+');
        if (plus) walk(plus, depth + 1);
      }
    };
    walk(this.root, 0);
  }
}
