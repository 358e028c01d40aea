import { describe, expect, it } from 'vitest';
import { SubscriptionTree } from '../../src/broker/subscription-tree.js';
import { topicMatches } from '../../src/protocol/topic.js';

function matches(tree: SubscriptionTree<string>, topic: string): string[] {
  const out: string[] = [];
  tree.match(topic, (v) => out.push(v));
  return out.sort();
}

describe('subscription tree', () => {
  it('finds exact, + and # subscriptions in one walk', () => {
    const t = new SubscriptionTree<string>();
    t.set('a/b/c', 'c1', 'exact');
    t.set('a/+/c', 'c2', 'plus');
    t.set('a/#', 'c3', 'hash');
    t.set('#', 'c4', 'all');
    t.set('x/y', 'c5', 'other');
    expect(matches(t, 'a/b/c')).toEqual(['all', 'exact', 'hash', 'plus']);
    expect(matches(t, 'a')).toEqual(['all', 'hash']);
    expect(matches(t, 'x/y')).toEqual(['all', 'other']);
  });

  it('[MQTT-4.7.2-1] does not match $ topics with leading wildcards', () => {
    const t = new SubscriptionTree<string>();
    t.set('#', 'a', 'hash');
    t.set('+/x', 'b', 'plus');
    t.set('$SYS/#', 'c', 'sys');
    expect(matches(t, '$SYS/x')).toEqual(['sys']);
  });

  it('removes entries and prunes empty branches', () => {
    const t = new SubscriptionTree<string>();
    t.set('a/b', 'k', 'v');
    t.set('a/b', 'k2', 'v2');
    expect(t.size).toBe(2);
    expect(t.delete('a/b', 'k')).toBe(true);
    expect(t.delete('a/b', 'k')).toBe(false);
    expect(matches(t, 'a/b')).toEqual(['v2']);
    t.delete('a/b', 'k2');
    expect(t.size).toBe(0);
    expect(matches(t, 'a/b')).toEqual([]);
  });

  it('agrees with topicMatches on random filters and topics', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const words = ['a', 'b', '', '$SYS', 'c'];
    const topic = () => Array.from({ length: 1 + rand(4) }, () => words[rand(words.length)]).join('/');
    const filter = () => {
      const levels = Array.from({ length: 1 + rand(4) }, () => ['a', 'b', '+', '', 'c', '$SYS'][rand(6)]!);
      if (rand(3) === 0) levels.push('#');
      return levels.join('/');
    };
    const t = new SubscriptionTree<string>();
    const filters = Array.from({ length: 60 }, filter);
    for (const [i, f] of filters.entries()) t.set(f, String(i), f);
    for (let i = 0; i < 500; i++) {
      const tp = topic();
      const expected = [...new Set(filters.filter((f) => topicMatches(f, tp)))].sort();
      expect([...new Set(matches(t, tp))].sort(), `topic '${tp}'`).toEqual(expected);
    }
  });

  it('a remembered match is forgotten as soon as a subscription is added or removed', () => {
    const t = new SubscriptionTree<string>();
    t.set('a/+', 'k1', 'one');
    expect(matches(t, 'a/b')).toEqual(['one']);
    t.set('a/#', 'k2', 'two');
    expect(matches(t, 'a/b')).toEqual(['one', 'two']);
    t.delete('a/+', 'k1');
    expect(matches(t, 'a/b')).toEqual(['two']);
  });
});
