import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  levelsMatch,
  parseSharedFilter,
  topicFilterProblem,
  topicFiltersOverlap,
  topicMatches,
  topicNameProblem,
} from '../../src/protocol/topic.js';

describe('topic names and filters', () => {
  it('[MQTT-4.7.3-1] a topic name is at least one character', () => {
    expect(topicNameProblem('')).toBe('empty');
  });
  it('[MQTT-3.3.2-2] a PUBLISH topic name has no wildcards', () => {
    expect(topicNameProblem('a/+/b')).toBe('wildcard-in-name');
    expect(topicNameProblem('a/#')).toBe('wildcard-in-name');
    expect(topicNameProblem('blue/btn/0')).toBeUndefined();
  });
  it('[MQTT-4.7.3-2] U+0000 is not allowed', () => {
    expect(topicNameProblem('a\u0000b')).toBe('null-character');
    expect(topicFilterProblem('a\u0000b')).toBe('null-character');
  });
  it('[MQTT-4.7.1-2] # is alone in its level and last', () => {
    expect(topicFilterProblem('a/#')).toBeUndefined();
    expect(topicFilterProblem('#')).toBeUndefined();
    expect(topicFilterProblem('a/#/b')).toBe('bad-wildcard');
    expect(topicFilterProblem('a#')).toBe('bad-wildcard');
  });
  it('[MQTT-4.7.1-3] + occupies a whole level', () => {
    expect(topicFilterProblem('a/+/b')).toBeUndefined();
    expect(topicFilterProblem('+')).toBeUndefined();
    expect(topicFilterProblem('a+/b')).toBe('bad-wildcard');
  });
  it('matches single- and multi-level wildcards', () => {
    expect(topicMatches('sport/tennis/+', 'sport/tennis/player1')).toBe(true);
    expect(topicMatches('sport/tennis/+', 'sport/tennis/player1/ranking')).toBe(false);
    expect(topicMatches('sport/#', 'sport')).toBe(true);
    expect(topicMatches('sport/+', 'sport/')).toBe(true);
    expect(topicMatches('+/+', '/finance')).toBe(true);
    expect(topicMatches('#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });
  it('the shared case table (test/fixtures/topic-matching.json), also run by the firmware', () => {
    const { cases } = JSON.parse(readFileSync('test/fixtures/topic-matching.json', 'utf8')) as {
      cases: [string, string, boolean][];
    };
    expect(cases.length).toBeGreaterThan(20);
    for (const [filter, topic, matches] of cases)
      expect(topicMatches(filter, topic), `${filter} vs ${topic}`).toBe(matches);
  });
  it('[MQTT-4.7.2-1] $ topics are not matched by a leading wildcard', () => {
    expect(topicMatches('#', '$SYS/broker/uptime')).toBe(false);
    expect(topicMatches('+/broker/uptime', '$SYS/broker/uptime')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/broker/uptime')).toBe(true);
  });
  it('parses $share/<group>/<filter>', () => {
    expect(parseSharedFilter('$share/g1/a/+')).toEqual({ group: 'g1', filter: 'a/+' });
    expect(parseSharedFilter('a/b')).toBeUndefined();
    expect(parseSharedFilter('$share/g1')).toBe('invalid');
    expect(parseSharedFilter('$share//a')).toBe('invalid');
  });

  it('matching in place agrees with a naive split-and-compare matcher on random filters and topics', () => {
    // The spec's rules written the obvious way, as the oracle.
    const naive = (filter: string, topic: string): boolean => {
      if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
      const f = filter.split('/');
      const t = topic.split('/');
      for (let i = 0; i < f.length; i++) {
        if (f[i] === '#') return true;
        if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
      }
      return f.length === t.length;
    };
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const words = ['a', 'b', 'ab', '', '$SYS', 'c/'];
    for (let i = 0; i < 5000; i++) {
      const topic = Array.from({ length: 1 + rand(4) }, () => words[rand(words.length)]).join('/');
      const levels = Array.from({ length: 1 + rand(4) }, () => ['a', 'b', 'ab', '+', '', '$SYS'][rand(6)]!);
      if (rand(3) === 0) levels.push('#');
      const filter = levels.join('/');
      expect(levelsMatch(filter.split('/'), topic), `${filter} vs ${topic}`).toBe(naive(filter, topic));
    }
  });
});

describe('topicFiltersOverlap', () => {
  const overlapping: [string, string][] = [
    ['a/b', 'a/b'],
    ['a/+', 'a/b'],
    ['+/b', 'a/+'],
    ['a/#', 'a'],
    ['a/#', 'a/b/c'],
    ['#', 'x/y'],
    ['+/+', 'a/#'],
    ['$SYS/#', '$SYS/broker/version'],
  ];
  const disjoint: [string, string][] = [
    ['a/b', 'a/c'],
    ['a/+', 'a'],
    ['a/b', 'a/b/c'],
    ['+/b', 'a/c'],
    ['#', '$SYS/broker/version'],
    ['+/broker', '$SYS/broker'],
    ['b/#', 'a/#'],
  ];
  for (const [a, b] of overlapping)
    it(`${a} and ${b} overlap (both ways)`, () => {
      expect(topicFiltersOverlap(a, b)).toBe(true);
      expect(topicFiltersOverlap(b, a)).toBe(true);
    });
  for (const [a, b] of disjoint)
    it(`${a} and ${b} never match the same topic`, () => {
      expect(topicFiltersOverlap(a, b)).toBe(false);
      expect(topicFiltersOverlap(b, a)).toBe(false);
    });
});
