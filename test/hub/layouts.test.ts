// Board page layouts on the hub: saved tiles are checked, survive a restart (one JSON file in the data
// folder), and saving needs write on $hub/layouts/<device> when an ACL file is in force.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LayoutStore } from '../../src/hub/layouts/layout-store.js';
import { cleanup, hubUp, passwordFile, post, scratch } from './helpers.js';

afterAll(cleanup);

const gauge = {
  kind: 'gauge',
  title: 'Pressure',
  topic: 'garden/pressure',
  field: '/hpa',
  unit: 'hPa',
  min: 900,
  max: 1100,
};

describe('layouts', () => {
  it('saves checked tiles and reads them back; a bad tile is refused with the reason and nothing changes', async () => {
    const { base, m } = await hubUp();
    expect(await (await fetch(`${base}/api/layouts/dht1`)).json()).toEqual({ device: 'dht1', tiles: [] });
    const saved = await post(`${base}/api/layouts/dht1`, {
      tiles: [gauge, { kind: 'button', title: 'Reset', topic: 'dht1/cmd', payload: 'reset', qos: 1 }],
    });
    expect(saved.status).toBe(200);
    const back = (await (await fetch(`${base}/api/layouts/dht1`)).json()) as { tiles: unknown[] };
    expect(back.tiles).toEqual([
      gauge,
      { kind: 'button', title: 'Reset', topic: 'dht1/cmd', payload: 'reset', qos: 1 },
    ]);
    for (const [tile, reason] of [
      [
        { ...gauge, kind: 'pie' },
        "tile 1: 'kind' must be one of switch, button, slider, gauge, number, chart, log",
      ],
      [{ ...gauge, topic: 'a/+' }, "tile 1: invalid topic 'a/+'"],
      [{ ...gauge, min: 5, max: 1 }, "tile 1: 'min' must be below 'max'"],
      [{ ...gauge, qos: 3 }, "tile 1: 'qos' must be 0, 1 or 2"],
      [{ ...gauge, title: '' }, "tile 1: 'title' must be 1 to 60 characters"],
      [
        { ...gauge, kind: 'chart', series: [{ topic: 'a/#', field: '/t' }] },
        "tile 1: invalid series topic 'a/#'",
      ],
      [
        { ...gauge, kind: 'chart', series: [{ topic: 'a' }] },
        "tile 1: each of 'series' needs a topic and a field",
      ],
      [
        { ...gauge, kind: 'chart', series: Array(6).fill({ topic: 'a', field: '' }) },
        "tile 1: 'series' must be a list of at most 5 more {topic, field}",
      ],
    ] as const) {
      const res = await post(`${base}/api/layouts/dht1`, { tiles: [tile] });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(reason);
    }
    expect(
      ((await (await fetch(`${base}/api/layouts/dht1`)).json()) as { tiles: unknown[] }).tiles,
    ).toHaveLength(2);
    // In the data folder, as one JSON file.
    const file = JSON.parse(readFileSync(join(m.dataDir!, 'dashboard-layouts.json'), 'utf8')) as {
      layouts: Record<string, unknown[]>;
    };
    expect(file.layouts.dht1).toHaveLength(2);
  });

  it('a saved layout survives a restart; a damaged file starts empty and says so', async () => {
    const dir = await scratch();
    const file = join(dir, 'dashboard-layouts.json');
    new LayoutStore(file).set('dht1', [gauge as never]);
    expect(new LayoutStore(file).get('dht1')).toEqual([gauge]);
    writeFileSync(file, '{"layouts": {"dht1": [');
    const errors: string[] = [];
    expect(new LayoutStore(file, (e) => errors.push(e.message)).get('dht1')).toEqual([]);
    expect(errors[0]).toMatch(/dashboard-layouts\.json is not valid JSON/);
  });

  it('with an ACL, saving needs write on $hub/layouts/<device>; reading needs read on the board', async () => {
    const dir = await scratch();
    const passwd = await passwordFile(dir, { viewer: 'look', editor: 'edit' });
    const acl = join(dir, 'acl');
    writeFileSync(
      acl,
      'user viewer\ntopic read #\n\nuser editor\ntopic read #\ntopic write $hub/layouts/#\n',
    );
    const { base } = await hubUp(
      `listener 0 127.0.0.1\nlistener 0 127.0.0.1\nprotocol websockets\nallow_anonymous false\npassword_file ${passwd}\nacl_file ${acl}\n`,
    );
    const cookie = async (username: string, password: string) =>
      (await post(`${base}/api/login`, { username, password })).headers.get('set-cookie')!.split(';')[0]!;
    const viewer = { cookie: await cookie('viewer', 'look') };
    const editor = { cookie: await cookie('editor', 'edit') };
    const refused = await post(`${base}/api/layouts/dht1`, { tiles: [gauge] }, viewer);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      "not allowed: changing this page's tiles needs write on $hub/layouts/dht1",
    );
    expect((await post(`${base}/api/layouts/dht1`, { tiles: [gauge] }, editor)).status).toBe(200);
    const read = await fetch(`${base}/api/layouts/dht1`, { headers: viewer });
    expect(((await read.json()) as { tiles: unknown[] }).tiles).toEqual([gauge]);
    expect((await fetch(`${base}/api/layouts/dht1`)).status).toBe(401);
  });
});
