// Two messages compared: by JSON Pointer when both are JSON (nested keys, arrays, a key with a slash),
// else line by line, a changed line reading as removed then added.
import { describe, expect, it } from 'vitest';
import { diff, lineDiff } from '../../src/web/diff.js';

describe('message diff', () => {
  it('JSON: each leaf by its pointer, added, removed, changed or the same', () => {
    const d = diff(
      '{"t":21.5,"h":40,"net":{"rssi":-61,"ip":"10.0.0.2"},"a/b":[1,2]}',
      '{"t":22,"h":40,"net":{"rssi":-61},"a/b":[1,3],"led":"on"}',
    );
    expect(d).toEqual({
      json: true,
      keys: [
        { path: '/t', kind: 'changed', before: '21.5', after: '22' },
        { path: '/h', kind: 'same', before: '40', after: '40' },
        { path: '/net/rssi', kind: 'same', before: '-61', after: '-61' },
        { path: '/net/ip', kind: 'removed', before: '"10.0.0.2"' },
        { path: '/a~1b/0', kind: 'same', before: '1', after: '1' },
        { path: '/a~1b/1', kind: 'changed', before: '2', after: '3' },
        { path: '/led', kind: 'added', after: '"on"' },
      ],
    });
  });

  it('text (or JSON against text): lines kept, removed and added', () => {
    expect(diff('t=24.1C\nh=26.5%\nok', 't=24.3C\nh=26.5%\nok\nlow battery')).toEqual({
      json: false,
      lines: [
        { kind: 'removed', line: 't=24.1C' },
        { kind: 'added', line: 't=24.3C' },
        { kind: 'same', line: 'h=26.5%' },
        { kind: 'same', line: 'ok' },
        { kind: 'added', line: 'low battery' },
      ],
    });
    expect(diff('{"a":1}', 'on').json).toBe(false);
  });

  it('a long text stays bounded: common head and tail kept, the middle compared', () => {
    const a = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
    const b = [...a];
    b[2500] = 'changed';
    const d = lineDiff(a.join('\n'), b.join('\n'));
    expect(d.filter((c) => c.kind !== 'same')).toEqual([
      { kind: 'removed', line: 'line 2500' },
      { kind: 'added', line: 'changed' },
    ]);
    expect(d).toHaveLength(5001);
  });
});
