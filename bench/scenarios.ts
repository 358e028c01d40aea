/**
 * The benchmark's scenarios, as data: `npm run bench` runs each against each broker. To add one
 * (later: QoS 1 with persistence on and off), append an object; `broker` says what the broker must
 * be started with, and a launcher that cannot do it reports "not available" for that row.
 */
import type { BrokerStartOptions } from './brokers/types.js';

interface ScenarioBase {
  name: string;
  description: string;
  broker?: BrokerStartOptions;
}

/**
 * Publishers and subscribers exchanging stamped messages as fast as the broker lets them, with at most
 * `window` messages sent but not yet delivered (closed loop: the broker's speed sets the pace, and
 * latency is what a message waits behind at most `window` others). A warm-up, then a measured
 * interval, then publishing stops and everything sent must arrive.
 */
export interface ThroughputScenario extends ScenarioBase {
  kind: 'throughput';
  publishers: number;
  subscribers: number;
  /**
   * 'shared': every subscriber subscribes to `filter` and receives every message (fan-in, fan-out);
   * 'pairs': publisher i publishes to subscriber i only, publishers == subscribers.
   */
  routing: 'shared' | 'pairs';
  /** Topic of publisher i (`{i}` is replaced). */
  publishTopic: string;
  /** Filter of subscriber i (`{i}` is replaced). */
  filter: string;
  qos: 0 | 1;
  /** Clients connect with clean session 0, so the broker keeps (and, with persistence, stores) their state. */
  persistentSessions?: boolean;
  payloadBytes: number;
  /** Most messages sent and not yet delivered: in all for 'shared', per pair for 'pairs'. */
  window: number;
  /** Messages a publisher puts in one socket write. */
  batch: number;
  warmupMs: number;
  measureMs: number;
  /** How long to wait, after publishing stops, for every message sent to arrive. */
  drainMs: number;
  /**
   * Upper bound on messages published in the whole run: far above what the warm-up and measured
   * interval need, a guard only (reaching it before the interval ends is reported as a problem).
   */
  maxMessages: number;
  quick?: Partial<Omit<ThroughputScenario, 'kind' | 'quick'>>;
}

/** Many clients connect and stay idle: memory per connection, and how fast the broker accepts them. */
export interface ConnectionsScenario extends ScenarioBase {
  kind: 'connections';
  connections: number;
  /** CONNECTs in flight at once (stays under the listen backlogs: mosquitto's is 100). */
  concurrency: number;
  keepalive: number;
  /** Pause after the last CONNACK before reading the broker's RSS. */
  settleMs: number;
  /**
   * Source addresses the connections are spread over (each has its own ephemeral ports); empty: let
   * the kernel choose. Only needed past ~28,000 connections (net.ipv4.ip_local_port_range).
   */
  sourceAddresses: string[];
  quick?: Partial<Omit<ConnectionsScenario, 'kind' | 'quick'>>;
}

/** `retained` retained messages are stored, then new subscribers to `filter` each receive them all. */
export interface RetainedScenario extends ScenarioBase {
  kind: 'retained';
  retained: number;
  payloadBytes: number;
  filter: string;
  subscribeQos: 0 | 1;
  /** New subscribers, one after the other, each receiving all retained messages. */
  rounds: number;
  /** Most retained messages a round may take before it is cut short. */
  roundTimeoutMs: number;
  quick?: Partial<Omit<RetainedScenario, 'kind' | 'quick'>>;
}

export type Scenario = ThroughputScenario | ConnectionsScenario | RetainedScenario;

/** 50 QoS 1 publisher/subscriber pairs: the base of the QoS 1 scenarios. */
const qos1Pairs: ThroughputScenario = {
  kind: 'throughput',
  name: 'qos1-pairs',
  description: '50 publisher/subscriber pairs, QoS 1 both ways, 64 B, one topic per pair',
  publishers: 50,
  subscribers: 50,
  routing: 'pairs',
  publishTopic: 'bench/pair/{i}',
  filter: 'bench/pair/{i}',
  qos: 1,
  payloadBytes: 64,
  window: 10,
  batch: 1,
  warmupMs: 1000,
  measureMs: 4000,
  drainMs: 5000,
  maxMessages: 5_000_000,
  quick: {
    publishers: 5,
    subscribers: 5,
    warmupMs: 200,
    measureMs: 500,
    drainMs: 3000,
    maxMessages: 200_000,
  },
};

export const scenarios: Scenario[] = [
  {
    kind: 'throughput',
    name: 'fan-in',
    description: '500 publishers → 1 wildcard subscriber (bench/in/#), QoS 0, 64 B',
    publishers: 500,
    subscribers: 1,
    routing: 'shared',
    publishTopic: 'bench/in/{i}',
    filter: 'bench/in/#',
    qos: 0,
    payloadBytes: 64,
    window: 1000,
    batch: 4,
    warmupMs: 1000,
    measureMs: 4000,
    drainMs: 5000,
    maxMessages: 5_000_000,
    quick: { publishers: 20, warmupMs: 200, measureMs: 500, drainMs: 3000, maxMessages: 500_000 },
  },
  {
    kind: 'throughput',
    name: 'fan-out',
    description: '1 publisher → 200 subscribers (bench/out), QoS 0, 64 B',
    publishers: 1,
    subscribers: 200,
    routing: 'shared',
    publishTopic: 'bench/out',
    filter: 'bench/out',
    qos: 0,
    payloadBytes: 64,
    window: 20,
    batch: 4,
    warmupMs: 1000,
    measureMs: 4000,
    drainMs: 5000,
    maxMessages: 100_000,
    quick: { subscribers: 20, warmupMs: 200, measureMs: 500, drainMs: 3000, maxMessages: 50_000 },
  },
  qos1Pairs,
  {
    ...qos1Pairs,
    name: 'qos1-sessions',
    description: 'qos1-pairs with persistent sessions, persistence off (memory only)',
    persistentSessions: true,
  },
  {
    ...qos1Pairs,
    name: 'qos1-durable',
    description:
      'qos1-sessions with persistence on: Mothership acks after a grouped fsync; mosquitto persistence true (autosave)',
    persistentSessions: true,
    broker: { persistence: true },
  },
  {
    ...qos1Pairs,
    name: 'qos1-disk-bound',
    description:
      'qos1-durable with every row written (Mothership: no wait for the PUBACK, inflightWriteDelayMs 0); mosquitto persistence true',
    persistentSessions: true,
    broker: { persistence: true, diskBound: true },
  },

  {
    kind: 'connections',
    name: 'idle-10k',
    description: '10,000 idle MQTT connections (keepalive 60 s): RSS per connection, connect rate',
    connections: 10_000,
    concurrency: 64,
    keepalive: 60,
    settleMs: 1500,
    // Plain connect(): every broker run listens on a new port, so 4-tuples never collide with the
    // previous runs' TIME_WAIT sockets. Binding source addresses (127.0.0.2, ...) makes bind() search
    // ports that earlier runs left in TIME_WAIT, which slowed connecting fourfold here.
    sourceAddresses: [],
    quick: { connections: 300, settleMs: 300 },
  },
  {
    kind: 'retained',
    name: 'retained-10k',
    description: '10,000 retained messages (64 B) delivered to a new `#` subscriber (QoS 0), 5 rounds',
    retained: 10_000,
    payloadBytes: 64,
    filter: '#',
    subscribeQos: 0,
    rounds: 5,
    roundTimeoutMs: 10_000,
    quick: { retained: 500, rounds: 2 },
  },
];

/** The scenario with its `quick` overrides applied (small counts, for smoke tests). */
export function quickVersion(s: Scenario): Scenario {
  const { quick, ...rest } = s;
  return { ...rest, ...quick } as Scenario;
}

/** Messages each message published is delivered as (every subscriber of a shared topic gets one). */
export function deliveriesPerPublish(s: ThroughputScenario): number {
  return s.routing === 'pairs' ? 1 : s.subscribers;
}
