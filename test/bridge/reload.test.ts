import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, eventually, node } from './helpers.js';

afterEach(cleanup);

function block(name: string, port: number, topic: string): string[] {
  return [`connection ${name}`, `address 127.0.0.1:${port}`, `remote_clientid hub-${name}`, `topic ${topic}`];
}

describe('a reload (SIGHUP) of the config', () => {
  it('adds, changes and removes bridges without touching the others', async () => {
    const remote = await node();
    const hub = await node(block('one', remote.port, 'a/# out 1'));
    const write = (...blocks: string[][]) =>
      writeFile(hub.configFile, ['listener 0 127.0.0.1', 'log_dest none', ...blocks.flat(), ''].join('\n'));
    const one = hub.m.bridges.get('one')!;
    await eventually(() => one.status().connected, 'bridge one to connect');

    await write(block('one', remote.port, 'a/# out 1'), block('two', remote.port, 'b/# out 1'));
    await hub.m.reload();
    expect(hub.m.bridges.names).toEqual(['one', 'two']);
    expect(hub.m.bridges.get('one')).toBe(one); // untouched: same link
    await eventually(() => hub.m.bridges.get('two')?.status().connected, 'bridge two to connect');

    await write(block('one', remote.port, 'a/# both 1'));
    await hub.m.reload();
    expect(hub.m.bridges.names).toEqual(['one']);
    expect(hub.m.bridges.get('one')).not.toBe(one); // changed: restarted
    // A removed bridge's queue goes with it; a restarted one keeps its session.
    const sessions = hub.m.broker.sessionInfo().map((s) => s.clientId);
    expect(sessions).toContain('local.hub-one');
    expect(sessions).not.toContain('local.hub-two');
    await eventually(() => hub.m.bridges.get('one')?.status().connected, 'bridge one to reconnect');
  });

  it('keeps the running bridges when the new config is bad', async () => {
    const remote = await node();
    const hub = await node(block('one', remote.port, 'a/# out 1'));
    await writeFile(hub.configFile, ['connection one', 'topic a/# sideways', ''].join('\n'));
    await hub.m.reload();
    expect(hub.m.bridges.names).toEqual(['one']);
  });
});
