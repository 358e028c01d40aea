// `mothership --help`: every command with its one-line summary, the summaries in one column.
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

it('lists every command, the summaries aligned whatever the longest name', async () => {
  const r = await runCli(['--help']);
  expect(r.code).toBe(0);
  const lines = r.stdout.split('\n');
  const commands = lines.slice(lines.indexOf('Commands:') + 1, lines.indexOf('', lines.indexOf('Commands:')));
  const names = commands.map((l) => /^ {2}(\S+)/.exec(l)![1]);
  expect(names).toEqual(
    expect.arrayContaining(['up', 'demo', 'pub', 'sub', 'provision', 'device', 'sim', 'bridge']),
  );
  const columns = new Set(commands.map((l) => l.length - l.slice(2).replace(/^\S+\s+/, '').length));
  expect(columns.size).toBe(1);
});
