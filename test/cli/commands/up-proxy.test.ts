// Behind nginx/Caddy on the same host every WebSocket client arrives from loopback, so under the LAN
// rule anyone the proxy forwards would get in anonymously: `up` warns at the first proxied request.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCli, startCli } from '../../helpers/cli.js';

let running: RunningCli | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function wsPortOf(args: string[]): Promise<number> {
  running = startCli(['up', '--no-mdns', ...args]);
  return Number((await running.waitFor(/WebSocket\s+ws:\/\/[^:]+:(\d+)\/mqtt/))[1]);
}

/** Connects over WebSocket with the headers a reverse proxy adds, then disconnects. */
async function throughProxy(port: number, clientId: string, headers: Record<string, string>): Promise<void> {
  const c = await mqtt.connectAsync(`ws://127.0.0.1:${port}/mqtt`, {
    clientId,
    reconnectPeriod: 0,
    wsOptions: { headers },
  });
  await c.endAsync();
}

const warning =
  /Warning: WebSocket listener on port \d+ got a request through a reverse proxy \(X-Forwarded-For: 203\.0\.113\.9, from 127\.0\.0\.1\): every client it forwards looks local/;

describe('mothership up behind a reverse proxy', () => {
  it('warns once, at the first WebSocket request carrying X-Forwarded-For, while the LAN rule is in force', async () => {
    const port = await wsPortOf(['-p', '0', '--ws-port', '0', '--host', '127.0.0.1']);
    await throughProxy(port, 'proxied-1', { 'X-Forwarded-For': '203.0.113.9' });
    await running!.waitFor(warning);
    await throughProxy(port, 'proxied-2', { 'X-Forwarded-For': '203.0.113.10' });
    await running!.waitFor(/New client connected from 127\.0\.0\.1 as proxied-2/);
    expect(running!.output().match(/through a reverse proxy/g)).toHaveLength(1);
  });

  it('a Forwarded header counts too', async () => {
    const port = await wsPortOf(['-p', '0', '--ws-port', '0', '--host', '127.0.0.1']);
    await throughProxy(port, 'proxied-3', { Forwarded: 'for=203.0.113.9;proto=https' });
    await running!.waitFor(
      /through a reverse proxy \(Forwarded: for=203\.0\.113\.9;proto=https, from 127\.0\.0\.1\)/,
    );
  });

  it('says nothing when the LAN rule is not in force (allow_anonymous true)', async () => {
    const conf = join(mkdtempSync(join(tmpdir(), 'ms-proxy-')), 'mosquitto.conf');
    writeFileSync(conf, 'listener 0 127.0.0.1\nprotocol websockets\nallow_anonymous true\n');
    const port = await wsPortOf(['-c', conf]);
    await throughProxy(port, 'proxied-4', { 'X-Forwarded-For': '203.0.113.9' });
    // The warning would be logged at the upgrade, before the CONNECT is even read.
    await running!.waitFor(/New client connected from 127\.0\.0\.1 as proxied-4/);
    expect(running!.output()).not.toMatch(/reverse proxy/);
  });
});
