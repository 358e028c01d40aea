// Bad flags are one clear line and start nothing.
import { expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';

it.each([
  [
    ['--boards', 'dht:5,robot:2'],
    /--boards: unknown kind 'robot' \(kinds: conversation, led-remote, mothership, dht\)/,
  ],
  [['--boards', 'dht:0'], /--boards: 'dht:0' is not KIND or KIND:COUNT/],
  [['--fault', 'wifi-off dht1'], /--fault 'wifi-off dht1': write SECONDS:COMMAND/],
  [['--fault', '10:explode dht1'], /--fault: unknown command 'explode'/],
  [['--qos', '2'], /--qos needs a whole number 0\.\.1, got '2'/],
  [['--cafile', '/nonexistent/ca.crt'], /cannot read --cafile \/nonexistent\/ca\.crt/],
  [['--bogus'], /unknown option '--bogus'/],
])('mothership sim %j is refused with a clear message', async (args, message) => {
  const r = await runCli(['sim', '-p', '1', ...args]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).not.toMatch(/boards ->/); // nothing started
});
