/**
 * The bridge scenarios (issue 16): the broker under test bridges `bench/#` out at QoS 1 to a remote
 * broker through a loopback TCP proxy (which refuses the link for the outage); a publisher on the hub
 * and a subscriber on the remote count, in the bench's process. The hub's CPU is read from /proc as in
 * the other scenarios; the remote's is not part of the figures.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { startTcpProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.js';
import type { RunningBroker } from '../brokers/types.js';
import { nowNs } from '../lib/mqtt-wire.js';
import { memoryKb } from '../lib/proc.js';
import type { BridgeScenario } from '../scenarios.js';
import { generatorLoad, type Measurement, type Snapshot, snapshot } from './measure.js';

export interface BridgeRemote {
  broker: RunningBroker;
  proxy: TcpProxy;
  /** The `connection` block the hub is started with: mosquitto.conf lines, the same for every broker. */
  config: string[];
  stop(): Promise<void>;
}

/** The remote (started by `start`) behind a fresh proxy, and the bridge's config pointing at it. */
export async function startBridgeRemote(start: () => Promise<RunningBroker>): Promise<BridgeRemote> {
  const broker = await start();
  let proxy: TcpProxy;
  try {
    proxy = await startTcpProxy(broker.port, broker.host);
  } catch (e) {
    await broker.stop();
    throw e;
  }
  return {
    broker,
    proxy,
    config: [
      'connection bench',
      `address 127.0.0.1:${proxy.port}`,
      'remote_clientid bench-hub',
      'restart_timeout 1 2',
      'cleansession false',
      'topic bench/# out 1',
    ],
    stop: async () => {
      await proxy.close();
      await broker.stop();
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What the remote's subscriber saw: each message by its index (the payload's first 4 bytes). */
class Arrivals {
  distinct = 0;
  duplicates = 0;
  outOfOrder = 0;
  probes = 0;
  warm = 0;
  firstAt = 0;
  lastAt = 0;
  /** Called at the first arrival of a measured message (the drain's interval starts there). */
  onFirst: (() => void) | undefined;
  private readonly seen: Uint8Array;
  private readonly lastOfTopic: Int32Array;
  private wake: (() => void) | undefined;

  constructor(
    private readonly s: BridgeScenario,
    client: MqttClient,
  ) {
    this.seen = new Uint8Array(s.messages);
    this.lastOfTopic = new Int32Array(s.topics).fill(-1);
    client.on('message', (topic, payload) => {
      if (topic === 'bench/probe') this.probes++;
      else if (topic === 'bench/warm') this.warm++;
      else this.take(payload.readUInt32BE(0));
      this.wake?.();
    });
  }

  private take(i: number): void {
    if (this.seen[i]) {
      this.duplicates++;
      return;
    }
    this.seen[i] = 1;
    const now = nowNs();
    if (this.distinct++ === 0) {
      this.firstAt = now;
      this.onFirst?.();
    }
    this.lastAt = now;
    const t = i % this.s.topics;
    if (i < this.lastOfTopic[t]!) this.outOfOrder++;
    else this.lastOfTopic[t] = i;
  }

  /** Resolves once `done()` holds, or at the deadline (false). */
  async until(done: () => boolean, deadline: number): Promise<boolean> {
    while (!done()) {
      if (Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return true;
  }
}

function payloadOf(i: number, bytes: number): Buffer {
  const b = Buffer.alloc(Math.max(4, bytes), 0x61);
  b.writeUInt32BE(i, 0);
  return b;
}

/** Publishes every message at QoS 1; resolves once the hub acknowledged them all. */
async function publishAll(pub: MqttClient, s: BridgeScenario): Promise<void> {
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < s.messages; i++)
    acks.push(pub.publishAsync(`bench/t${i % s.topics}`, payloadOf(i, s.payloadBytes), { qos: 1 }));
  await Promise.all(acks);
}

export async function runBridge(
  s: BridgeScenario,
  hub: RunningBroker,
  remote: BridgeRemote,
): Promise<Measurement> {
  const problems: string[] = [];
  const sub = await mqtt.connectAsync(`mqtt://${remote.broker.host}:${remote.broker.port}`, {
    reconnectPeriod: 0,
  });
  const pub = await mqtt.connectAsync(`mqtt://${hub.host}:${hub.port}`, { reconnectPeriod: 0 });
  try {
    const arrivals = new Arrivals(s, sub);
    await sub.subscribeAsync('bench/#', { qos: 1 });
    const baselineRssKb = memoryKb(hub.pid).rssKb;
    // The link is up once a probe crosses it (the bridge connects on its own schedule).
    const linkDeadline = Date.now() + 30_000;
    while (arrivals.probes === 0 && Date.now() < linkDeadline) {
      await pub.publishAsync('bench/probe', 'p', { qos: 1 });
      await arrivals.until(() => arrivals.probes > 0, Date.now() + 1000);
    }
    if (arrivals.probes === 0) throw new Error('the bridge did not connect to the remote within 30 s');
    const warm: Promise<unknown>[] = [];
    for (let i = 0; i < s.warmup; i++)
      warm.push(pub.publishAsync('bench/warm', payloadOf(i, s.payloadBytes), { qos: 1 }));
    await Promise.all(warm);
    if (!(await arrivals.until(() => arrivals.warm >= s.warmup, Date.now() + s.timeoutMs)))
      throw new Error(`${s.warmup - arrivals.warm} of ${s.warmup} warm-up messages did not cross the bridge`);

    // The broker's CPU to the nanosecond: draining 2,000 messages can take mosquitto under one 10 ms
    // clock tick, which measured it as 0.
    const at = () => snapshot(hub, true);
    let a: Snapshot;
    let from: () => number;
    if (s.phase === 'forward') {
      a = at();
      from = () => a.t;
      await publishAll(pub, s);
    } else {
      // The outage: the link reset, the proxy refusing the bridge's reconnects.
      remote.proxy.down();
      remote.proxy.reset();
      const closed = Date.now() + 10_000;
      while (remote.proxy.open > 0 && Date.now() < closed) await sleep(20);
      await publishAll(pub, s);
      if (arrivals.distinct > 0) problems.push(`${arrivals.distinct} messages crossed during the outage`);
      // From the first arrival after the reconnect: the backoff before it is not the drain's speed.
      a = at();
      arrivals.onFirst = () => {
        a = at();
      };
      from = () => arrivals.firstAt;
      remote.proxy.up();
    }
    const all = await arrivals.until(() => arrivals.distinct >= s.messages, Date.now() + s.timeoutMs);
    const b = at();
    if (!all)
      problems.push(
        `${s.messages - arrivals.distinct} of ${s.messages} not delivered within ${s.timeoutMs} ms`,
      );
    if (arrivals.duplicates) problems.push(`${arrivals.duplicates} duplicates`);
    const measuredUs = Math.max(1, (arrivals.lastAt - from()) / 1000);
    const counted = s.phase === 'forward' ? arrivals.distinct : arrivals.distinct - 1;
    const cpu = b.brokerCpu - a.brokerCpu;
    return {
      unit: 'msg',
      rate: counted / (measuredUs / 1e6),
      latency: null,
      latencyOf: 'none: a rate over the whole batch',
      brokerCpuMicrosPerUnit: arrivals.distinct > 0 ? cpu / arrivals.distinct : Number.NaN,
      brokerCpuPercent: (100 * cpu) / Math.max(1, (b.t - a.t) / 1000),
      baselineRssKb,
      rssPerItemKb: null,
      rssItem: null,
      expected: s.messages,
      delivered: arrivals.distinct,
      lost: s.messages - arrivals.distinct,
      outOfOrder: arrivals.outOfOrder,
      generator: generatorLoad(a, b, arrivals.distinct),
      measuredMs: measuredUs / 1000,
      problems,
    };
  } finally {
    await Promise.all([sub.endAsync(true), pub.endAsync(true)]);
  }
}
