/**
 * The benchmark's scenarios, as data: `npm run bench` runs each against each broker. To add one
 * (later: QoS 1 with persistence on and off), append an object; `broker` says what the broker must
 * be started with, and a launcher that cannot do it reports "not available" for that row.
 */
import type { BrokerStartOptions } from './brokers/types.js';
import { type PayloadFormat, TELEMETRY_PAYLOAD_BYTES } from './lib/mqtt-wire.js';

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
/** Publishers and subscribers exchanging stamped messages, and how long: common to both message loads. */
export interface MessageLoad {
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
  /** 'binary' (default): the stamp and zeros; 'telemetry': a board's JSON, payloadBytes TELEMETRY_PAYLOAD_BYTES. */
  payload?: PayloadFormat;
  warmupMs: number;
  measureMs: number;
  /** How long to wait, after publishing stops, for every message sent to arrive. */
  drainMs: number;
}

export interface ThroughputScenario extends ScenarioBase, MessageLoad {
  kind: 'throughput';
  /** Most messages sent and not yet delivered: in all for 'shared', per pair for 'pairs'. */
  window: number;
  /** Messages a publisher puts in one socket write. */
  batch: number;
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

/**
 * Open loop: every publisher sends on a fixed schedule whatever the broker does (no window, no
 * waiting for acknowledgements), all publishers together `rate` messages per second, evenly spread
 * (message g of the run is due at start + g ÷ rate, from publisher g mod publishers). Latency is
 * measured from the *scheduled* send time, so a broker that stalls is charged for every message that
 * waited behind the stall (no coordinated omission). What a hub with a few dozen boards sees, where
 * the throughput scenarios only measure saturation.
 */
export interface RateScenario extends ScenarioBase, MessageLoad {
  kind: 'rate';
  /**
   * Messages per second, all publishers together; or a share of mosquitto's saturated rate in a
   * closed-loop scenario (`of`), measured in the same run (`npm run bench` measures it once if that
   * scenario is not part of the run).
   */
  rate: number | { share: number; of: string };
  /**
   * Before the schedule starts, every client connected and nothing sent: the broker's CPU over this
   * long is its idle cost with these connections (what a hub pays between messages).
   */
  idleMs: number;
  /**
   * Most QoS 1 messages a publisher may have unacknowledged: past it the run stops with a problem
   * (packet identifiers stay unique; a broker that far behind has no figures worth having).
   */
  maxUnacked: number;
  quick?: Partial<Omit<RateScenario, 'kind' | 'quick'>>;
}

/**
 * A bridge (issue 16): `messages` QoS 1 messages published at the broker under test on `topics`
 * topics, bound out by its bridge (the same `connection` block for every broker) to a remote broker
 * (Mothership without persistence, its own process) through a loopback TCP proxy, and counted by a
 * subscriber on the remote. `forward`: with the link up, from the first publish to the last arrival.
 * `drain`: published (and acknowledged) while the proxy refuses the link, then let through; from the
 * first arrival after the reconnect to the last (the reconnect backoff is not the bridge's speed).
 */
export interface BridgeScenario extends ScenarioBase {
  kind: 'bridge';
  phase: 'forward' | 'drain';
  /** Messages forwarded with the link up before anything is measured (both brokers warmed alike). */
  warmup: number;
  messages: number;
  topics: number;
  payloadBytes: number;
  /** Longest wait for every message to arrive (a bound, not a target). */
  timeoutMs: number;
  quick?: Partial<Omit<BridgeScenario, 'kind' | 'quick'>>;
}

export type Scenario =
  | ThroughputScenario
  | ConnectionsScenario
  | RetainedScenario
  | RateScenario
  | BridgeScenario;

/** fan-in's clients: 500 publishers, one on each topic, and one wildcard subscriber. */
const fanInClients = {
  publishers: 500,
  subscribers: 1,
  routing: 'shared',
  publishTopic: 'bench/in/{i}',
  filter: 'bench/in/#',
  qos: 0,
  payloadBytes: 64,
} as const;

/** qos1-pairs' clients: 50 publishers, each to its own subscriber, QoS 1 both ways. */
const pairClients = {
  publishers: 50,
  subscribers: 50,
  routing: 'pairs',
  publishTopic: 'bench/pair/{i}',
  filter: 'bench/pair/{i}',
  qos: 1,
  payloadBytes: 64,
} as const;

/** 50 QoS 1 publisher/subscriber pairs: the base of the QoS 1 scenarios. */
const qos1Pairs: ThroughputScenario = {
  kind: 'throughput',
  name: 'qos1-pairs',
  description: '50 publisher/subscriber pairs, QoS 1 both ways, 64 B, one topic per pair',
  ...pairClients,
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
    ...fanInClients,
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

const bridgeForward: BridgeScenario = {
  kind: 'bridge',
  name: 'bridge-forward',
  description:
    'bridge hub → remote with the link up: 20,000 QoS 1 messages (64 B, 10 topics), `topic bench/# out 1`; persistence on',
  phase: 'forward',
  warmup: 2000,
  messages: 20_000,
  topics: 10,
  payloadBytes: 64,
  timeoutMs: 120_000,
  // mosquitto's `persistence true` (autosave) keeps its bridge queue in memory between saves.
  broker: { persistence: true, bridge: true },
  quick: { warmup: 500, messages: 2000, timeoutMs: 60_000 },
};
scenarios.push(bridgeForward, {
  ...bridgeForward,
  name: 'bridge-drain',
  description:
    'bridge-forward published during an outage (the proxy refuses the link), then drained once it is back',
  phase: 'drain',
});

/** Open-loop fan-in: fan-in's clients, QoS 0, on a fixed schedule. */
const fanInAtRate: RateScenario = {
  kind: 'rate',
  name: 'fan-in@5k',
  description: 'fan-in (500 publishers → bench/in/#, QoS 0, 64 B) at a fixed 5,000 msg/s, open loop',
  ...fanInClients,
  rate: 5000,
  idleMs: 1000,
  warmupMs: 1000,
  measureMs: 5000,
  drainMs: 5000,
  maxUnacked: 10_000,
  quick: { publishers: 20, rate: 500, idleMs: 200, warmupMs: 200, measureMs: 600, drainMs: 3000 },
};

/** Open-loop QoS 1 pairs: qos1-pairs' clients on a fixed schedule. */
const qos1PairsAtRate: RateScenario = {
  kind: 'rate',
  name: 'qos1-pairs@2k',
  description: 'qos1-pairs (50 pairs, QoS 1 both ways, 64 B) at a fixed 2,000 msg/s, open loop',
  ...pairClients,
  rate: 2000,
  idleMs: 1000,
  warmupMs: 1000,
  measureMs: 5000,
  drainMs: 5000,
  maxUnacked: 10_000,
  quick: {
    publishers: 5,
    subscribers: 5,
    rate: 500,
    idleMs: 200,
    warmupMs: 200,
    measureMs: 600,
    drainMs: 3000,
  },
};

/**
 * A hub: ~40 boards, each publishing its telemetry at QoS 1 once a second, and one subscriber on `#`
 * (a dashboard, a recorder). Long enough for ~1,200 latency samples in the measured interval.
 */
const hub: RateScenario = {
  kind: 'rate',
  name: 'hub-40',
  description: '40 boards each publish QoS 1 telemetry once a second (40 msg/s) → 1 subscriber on #',
  publishers: 40,
  subscribers: 1,
  routing: 'shared',
  publishTopic: 'hub/board/{i}/telemetry',
  filter: '#',
  qos: 1,
  payloadBytes: 64,
  rate: 40,
  idleMs: 5000,
  warmupMs: 2000,
  measureMs: 30_000,
  drainMs: 5000,
  maxUnacked: 1000,
  quick: { idleMs: 300, measureMs: 1000, warmupMs: 300, drainMs: 3000 },
};

/** `base` at a share of mosquitto's saturated rate in the closed-loop scenario `of`. */
const atShare = (base: RateScenario, share: number, of: string): RateScenario => ({
  ...base,
  name: `${of}@${share * 100}%`,
  description: `${of} at ${share * 100} % of mosquitto's saturated ${of} rate (measured in the same run), open loop`,
  rate: { share, of },
});

/** The open-loop (fixed-rate) scenarios: `--scenario open-loop` selects them all. */
export const openLoopScenarios: RateScenario[] = [
  fanInAtRate,
  qos1PairsAtRate,
  {
    ...qos1PairsAtRate,
    name: 'qos1-durable@2k',
    description: 'qos1-pairs@2k with persistent sessions and persistence on (as qos1-durable)',
    persistentSessions: true,
    broker: { persistence: true },
  },
  atShare(fanInAtRate, 0.2, 'fan-in'),
  atShare(fanInAtRate, 0.5, 'fan-in'),
  atShare(qos1PairsAtRate, 0.2, 'qos1-pairs'),
  atShare(qos1PairsAtRate, 0.5, 'qos1-pairs'),
  hub,
  {
    ...hub,
    name: 'hub-40-durable',
    description: 'hub-40 with persistent sessions and persistence on (as `mothership up` runs by default)',
    persistentSessions: true,
    broker: { persistence: true },
  },
  {
    // `--only mothership,mothership+hub` gives the history recorder's cost at 1,000 recorded msg/s.
    ...hub,
    name: 'hub@1k',
    description:
      '40 boards publish QoS 1 JSON telemetry ({"t":24.1,"h":26.5,"stamp":…}) at 1,000 msg/s in all → 1 subscriber on #',
    // What the history parses from a real board: two series per message, not a binary stamp it skips.
    payload: 'telemetry',
    payloadBytes: TELEMETRY_PAYLOAD_BYTES,
    rate: 1000,
    idleMs: 2000,
    // Both brokers' code compiled and the history writer's commit path optimised (it runs once a
    // second: V8 optimises it after ~20 commits) before the steady state is measured.
    warmupMs: 30_000,
    measureMs: 20_000,
  },
];
scenarios.push(...openLoopScenarios);

/** The scenario with its `quick` overrides applied (small counts, for smoke tests). */
export function quickVersion(s: Scenario): Scenario {
  const { quick, ...rest } = s;
  return { ...rest, ...quick } as Scenario;
}

/** Messages each message published is delivered as (every subscriber of a shared topic gets one). */
export function deliveriesPerPublish(s: MessageLoad): number {
  return s.routing === 'pairs' ? 1 : s.subscribers;
}
