import { readFileSync } from 'node:fs';
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';
import { describe, expect, it } from 'vitest';

// The firmware's topic matcher (firmware/lib/mothership_mqtt.py), run on the real MicroPython
// interpreter against the same case table as the broker's (test/fixtures/topic-matching.json).

describe("the firmware's topic_matches on MicroPython", () => {
  it('agrees with the shared case table', async () => {
    const source = readFileSync('firmware/lib/mothership_mqtt.py', 'utf8');
    const fn = /^def topic_matches\(\w+, topic\):\n(?: {4}.*\n|\n)+/m.exec(source)?.[0];
    expect(fn, 'topic_matches in mothership_mqtt.py').toBeDefined();
    const { cases } = JSON.parse(readFileSync('test/fixtures/topic-matching.json', 'utf8')) as {
      cases: [string, string, boolean][];
    };
    let output = '';
    const mp = await loadMicroPython({ stdout: (line: string) => (output += `${line}\n`), linebuffer: true });
    mp.runPython(fn!);
    mp.runPython(
      `import json\ncases = json.loads(${JSON.stringify(JSON.stringify(cases))})\n` +
        'for f, t, want in cases:\n    print("%s|%s|%s" % (f, t, topic_matches(f, t) == want))\n',
    );
    const rows = output.trim().split('\n');
    expect(rows).toHaveLength(cases.length);
    const wrong = rows.filter((r) => !r.endsWith('|True'));
    expect(wrong, 'filter|topic pairs the firmware gets wrong').toEqual([]);
  });
});
