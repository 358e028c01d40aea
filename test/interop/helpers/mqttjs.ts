import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

/** An MQTT.js client plus everything it has received, for awaiting messages in order. */
export interface Collecting {
  client: MqttClient;
  messages: Received[];
  /** Resolves once `count` messages (in total, since creation) are in, rejects after `ms`. */
  waitFor(count: number, ms?: number): Promise<Received[]>;
  /** True when no further message arrives within `ms` (beyond those already collected). */
  quiet(ms?: number): Promise<boolean>;
  end(): Promise<void>;
  /** The CONNACK, when connected through connectCollecting. */
  connack?: IConnackPacket;
}

export type Transport = 'tcp' | 'ws';

export function brokerUrl(b: { url: string; wsUrl: string }, transport: Transport): string {
  return transport === 'tcp' ? b.url : b.wsUrl;
}

let counter = 0;
export function uniqueId(prefix = 'mqttjs'): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(16).slice(2, 6)}`;
}

/** Connects (no reconnects unless asked, so a test failure cannot loop) and starts collecting. */
export async function connectCollecting(url: string, options: IClientOptions = {}): Promise<Collecting> {
  // Collect from the first packet on: a resumed session's queued messages may arrive with the CONNACK.
  const client = mqtt.connect(url, {
    clientId: uniqueId(),
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
  const c = collect(client);
  c.connack = await new Promise<IConnackPacket>((resolve, reject) => {
    const t = setTimeout(() => {
      client.end(true);
      reject(new Error(`MQTT.js could not connect to ${url} within 6 s`));
    }, 6000);
    client.once('connect', (connack) => {
      clearTimeout(t);
      resolve(connack);
    });
    client.once('error', (err) => {
      clearTimeout(t);
      client.end(true);
      reject(err);
    });
  });
  return c;
}

export function collect(client: MqttClient): Collecting {
  const messages: Received[] = [];
  let waiters: (() => void)[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, packet });
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  client.on('error', () => {});
  return {
    client,
    messages,
    async waitFor(count, ms = 5000) {
      const deadline = Date.now() + ms;
      while (messages.length < count) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(
            `got ${messages.length} of ${count} messages within ${ms} ms: ${messages.map((m) => m.topic).join(', ')}`,
          );
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return messages.slice(0, count);
    },
    async quiet(ms = 300) {
      const before = messages.length;
      await new Promise((r) => setTimeout(r, ms));
      return messages.length === before;
    },
    async end() {
      await client.endAsync(true).catch(() => {});
    },
  };
}

/** Resolves when `client` emits `event`, rejects after `ms`. */
export function eventOnce(client: MqttClient, event: 'close' | 'connect' | 'disconnect', ms = 5000) {
  return new Promise<unknown>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    client.once(event as 'close', (...args: unknown[]) => {
      clearTimeout(t);
      resolve(args[0]);
    });
  });
}
