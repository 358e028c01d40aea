/**
 * `/metrics` in Prometheus' text format: the broker's figures (the same as its $SYS topics) and the
 * hub's own, each a counter or a gauge with its help line.
 */
import type { BrokerView } from '../broker-view.js';

interface Metric {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  /** The $SYS value it mirrors, or a function of the hub. */
  sys?: string;
  value?: () => number;
}

const brokerMetrics: Metric[] = [
  {
    name: 'mothership_clients_connected',
    type: 'gauge',
    help: 'Clients connected now.',
    sys: '$SYS/broker/clients/connected',
  },
  {
    name: 'mothership_clients_total',
    type: 'gauge',
    help: 'Sessions, connected or not.',
    sys: '$SYS/broker/clients/total',
  },
  {
    name: 'mothership_clients_maximum',
    type: 'gauge',
    help: 'Most clients connected at once.',
    sys: '$SYS/broker/clients/maximum',
  },
  {
    name: 'mothership_messages_received_total',
    type: 'counter',
    help: 'MQTT packets received.',
    sys: '$SYS/broker/messages/received',
  },
  {
    name: 'mothership_messages_sent_total',
    type: 'counter',
    help: 'MQTT packets sent.',
    sys: '$SYS/broker/messages/sent',
  },
  {
    name: 'mothership_publish_received_total',
    type: 'counter',
    help: 'PUBLISH packets received.',
    sys: '$SYS/broker/publish/messages/received',
  },
  {
    name: 'mothership_publish_sent_total',
    type: 'counter',
    help: 'PUBLISH packets sent.',
    sys: '$SYS/broker/publish/messages/sent',
  },
  {
    name: 'mothership_publish_dropped_total',
    type: 'counter',
    help: 'Messages dropped (queue full, too large).',
    sys: '$SYS/broker/publish/messages/dropped',
  },
  {
    name: 'mothership_publish_refused_total',
    type: 'counter',
    help: 'QoS 1/2 messages refused because the store could not keep them.',
    sys: '$SYS/broker/publish/messages/refused',
  },
  {
    name: 'mothership_publish_expired_total',
    type: 'counter',
    help: 'Messages whose expiry passed before delivery.',
    sys: '$SYS/broker/publish/messages/expired',
  },
  {
    name: 'mothership_bytes_received_total',
    type: 'counter',
    help: 'Bytes received.',
    sys: '$SYS/broker/bytes/received',
  },
  {
    name: 'mothership_bytes_sent_total',
    type: 'counter',
    help: 'Bytes sent.',
    sys: '$SYS/broker/bytes/sent',
  },
  {
    name: 'mothership_retained_messages',
    type: 'gauge',
    help: 'Retained messages.',
    sys: '$SYS/broker/retained messages/count',
  },
  {
    name: 'mothership_subscriptions',
    type: 'gauge',
    help: 'Subscriptions.',
    sys: '$SYS/broker/subscriptions/count',
  },
  {
    name: 'mothership_stored_messages',
    type: 'gauge',
    help: 'Messages queued or in flight for sessions.',
    sys: '$SYS/broker/store/messages/count',
  },
  {
    name: 'mothership_store_writes_failed_total',
    type: 'counter',
    help: 'Store commits that failed (each retry counts).',
    sys: '$SYS/broker/store/writes/failed',
  },
];

export function renderMetrics(broker: BrokerView, hub: Metric[] = []): string {
  const sys = broker.sysValues();
  const lines: string[] = [];
  for (const m of [...brokerMetrics, ...hub]) {
    const raw = m.value ? m.value() : m.sys !== undefined ? Number(sys[m.sys]) : Number.NaN;
    if (!Number.isFinite(raw)) continue;
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, `${m.name} ${raw}`);
  }
  if (sys['$SYS/broker/store/state'] !== undefined) {
    lines.push(
      '# HELP mothership_store_failing 1 while the store cannot write (QoS 1/2 publishes are refused).',
      '# TYPE mothership_store_failing gauge',
      `mothership_store_failing ${sys['$SYS/broker/store/state'] === 'failing' ? 1 : 0}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export type { Metric as HubMetric };
