import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// An embedder imports the package by its name and subpaths (package.json "exports", built into dist/
// by `npm install`'s prepare step): the broker with its seams from 'mothership', the store from
// 'mothership/store', mosquitto.conf reading from 'mothership/config', all of `up` from 'mothership/app'.

describe('package subpath exports', () => {
  it("'mothership', 'mothership/store', 'mothership/config' and 'mothership/app' resolve to the built package", () => {
    expect(existsSync('dist/index.js'), 'dist/ is built by npm install (prepare)').toBe(true);
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const b = await import('mothership'); const s = await import('mothership/store');" +
          "const c = await import('mothership/config'); const a = await import('mothership/app');" +
          'console.log([typeof b.Broker, typeof b.LocalMessageBus, typeof s.openSqliteStore, typeof s.SqliteStore,' +
          ' typeof c.parseConfig, typeof c.DirectiveTable, typeof a.startMothership].join(" "))',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(out.trim()).toBe(Array(7).fill('function').join(' '));
  });
});
