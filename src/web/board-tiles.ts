/**
 * The tiles a board gets with no setup, from its retained `<device>/info` (firmware/lib/board.py):
 * `app` names the program and `pub`/`sub` the topics it uses, in the order each app lists them.
 */
import type { Device } from './api';

export type TileSpec =
  | { kind: 'gauge'; title: string; topic: string; field: string; unit: string; min: number; max: number }
  | {
      kind: 'chart';
      title: string;
      topic: string;
      field: string;
      unit: string;
      /** More series drawn on the same chart. */
      more?: { topic: string; field: string }[];
    }
  | {
      kind: 'switch';
      title: string;
      topic: string;
      on: string;
      off: string;
      qos: 0 | 1 | 2;
      retain?: boolean;
    }
  | { kind: 'state'; title: string; topic: string; states: Record<string, string>; otherwise: string }
  | { kind: 'log'; title: string; topics: string[] }
  | { kind: 'number'; title: string; topic: string; field: string; unit: string }
  | { kind: 'button'; title: string; topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean }
  | {
      kind: 'slider';
      title: string;
      topic: string;
      field: string;
      min: number;
      max: number;
      payload: string;
      qos: 0 | 1 | 2;
      retain: boolean;
    };

export function boardTiles(device: Device): TileSpec[] {
  const info = device.info;
  const pub = info?.pub ?? [];
  const sub = info?.sub ?? [];
  switch (info?.app) {
    case 'dht': {
      // Seed 004: "t=24.1C, h=26.5%." on the first topic, "soil=42%, raw=..." on the second, the LED on `output`.
      const [reading, soil] = pub;
      const tiles: TileSpec[] = [];
      if (reading)
        tiles.push(
          { kind: 'gauge', title: 'Temperature', topic: reading, field: '/t', unit: '°C', min: -10, max: 50 },
          { kind: 'gauge', title: 'Humidity', topic: reading, field: '/h', unit: '%', min: 0, max: 100 },
        );
      if (soil)
        tiles.push({
          kind: 'gauge',
          title: 'Soil moisture',
          topic: soil,
          field: '/soil',
          unit: '%',
          min: 0,
          max: 100,
        });
      if (sub[0]) tiles.push({ kind: 'switch', title: 'LED', topic: sub[0], on: 'on', off: 'off', qos: 1 });
      if (reading)
        tiles.push(
          { kind: 'chart', title: 'Temperature', topic: reading, field: '/t', unit: '°C' },
          { kind: 'chart', title: 'Humidity', topic: reading, field: '/h', unit: '%' },
        );
      if (soil) tiles.push({ kind: 'chart', title: 'Soil moisture', topic: soil, field: '/soil', unit: '%' });
      return tiles;
    }
    case 'led_remote': {
      // Seed 002: the button is active low ('0' = pressed); the LED lights while the peer's is pressed.
      const tiles: TileSpec[] = [];
      if (pub[0])
        tiles.push({
          kind: 'state',
          title: 'Button',
          topic: pub[0],
          states: { '0': 'pressed' },
          otherwise: 'released',
        });
      if (sub[0])
        tiles.push({ kind: 'state', title: 'LED', topic: sub[0], states: { '0': 'on' }, otherwise: 'off' });
      return tiles;
    }
    case 'conversation':
      // Seeds 000/001: hello and its answer on notification.
      return [{ kind: 'log', title: 'Conversation', topics: [...new Set([...pub, ...sub])] }];
    default:
      return [];
  }
}

/** Every topic the tiles read, for the live viewport. */
export function tileTopics(tiles: TileSpec[]): string[] {
  return [
    ...new Set(
      tiles.flatMap((t) =>
        t.kind === 'log'
          ? t.topics
          : t.kind === 'chart'
            ? [t.topic, ...(t.more ?? []).map((m) => m.topic)]
            : [t.topic],
      ),
    ),
  ];
}
