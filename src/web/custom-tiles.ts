/** Tiles people add to a board's page (stored on the hub, /api/layouts), as the tiles the page draws. */
import type { CustomTile, TileKind } from '../hub/layouts/custom-tile';
import type { TileSpec } from './board-tiles';

export type { CustomTile, TileKind };

export const ADDABLE: [TileKind, string][] = [
  ['switch', 'Switch'],
  ['button', 'Button'],
  ['slider', 'Slider'],
  ['gauge', 'Gauge'],
  ['number', 'Big number'],
  ['chart', 'Chart'],
  ['log', 'Text log'],
];

export function customSpec(t: CustomTile): TileSpec {
  const field = t.field ?? '';
  const unit = t.unit ?? '';
  const qos = t.qos ?? 0;
  const retain = t.retain ?? false;
  switch (t.kind) {
    case 'switch':
      return {
        kind: 'switch',
        title: t.title,
        topic: t.topic,
        on: t.payload ?? 'on',
        off: t.off ?? 'off',
        qos,
        retain,
      };
    case 'button':
      return { kind: 'button', title: t.title, topic: t.topic, payload: t.payload ?? '1', qos, retain };
    case 'slider':
      return {
        kind: 'slider',
        title: t.title,
        topic: t.topic,
        field,
        min: t.min ?? 0,
        max: t.max ?? 100,
        payload: t.payload ?? '{{value}}',
        qos,
        retain,
      };
    case 'gauge':
      return {
        kind: 'gauge',
        title: t.title,
        topic: t.topic,
        field,
        unit,
        min: t.min ?? 0,
        max: t.max ?? 100,
      };
    case 'number':
      return { kind: 'number', title: t.title, topic: t.topic, field, unit };
    case 'chart':
      return { kind: 'chart', title: t.title, topic: t.topic, field, unit, more: t.series ?? [] };
    case 'log':
      return { kind: 'log', title: t.title, topics: [t.topic] };
  }
}
