/**
 * A bare MQTT 3.1.1 client for the load generator: one socket, a frame splitter, and callbacks on
 * the hot path instead of events and packet objects.
 */
import net from 'node:net';
import {
  encodeConnect,
  encodeDisconnect,
  encodeSubscribe,
  FrameSplitter,
  nowNs,
  PacketType,
} from '../lib/mqtt-wire.js';

export interface Client {
  readonly socket: net.Socket;
  readonly id: string;
  /** hrtime (ns) when the chunk being processed arrived: one clock read per chunk, not per message. */
  now: number;
  /** A PUBLISH arrived: its payload is buf[payloadStart, end). `pid` is 0 for QoS 0. */
  onPublish: ((buf: Buffer, payloadStart: number, end: number, flags: number, pid: number) => void) | null;
  onPuback: ((pid: number) => void) | null;
  /** After all frames of one received chunk (batch acknowledgements and counters here). */
  afterChunk: (() => void) | null;
  /** Set when the connection closed without us closing it. */
  lostReason: string | null;
  subscribe(filter: string, qos: 0 | 1, timeoutMs?: number): Promise<void>;
  /** Sends DISCONNECT and closes; resolves when the socket is closed (or after a second). */
  close(): Promise<void>;
  /** Closes with a TCP reset: no DISCONNECT, and no socket left in TIME_WAIT on either side. */
  reset(): void;
}

let nextSubscribeId = 1;

export function openClient(options: {
  host: string;
  port: number;
  clientId: string;
  keepalive: number;
  /** false: a persistent session (3.1.1 clean session 0), so the broker keeps state for it. */
  clean?: boolean;
  localAddress?: string;
  timeoutMs?: number;
}): Promise<Client> {
  // The benchmark never reaches beyond this machine.
  for (const a of [options.host, options.localAddress]) {
    if (a !== undefined && !/^127\.\d+\.\d+\.\d+$/.test(a)) {
      return Promise.reject(new Error(`refusing to connect to or from ${a}: loopback (127.0.0.0/8) only`));
    }
  }
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: options.host,
      port: options.port,
      localAddress: options.localAddress,
      noDelay: true,
    });
    let closing = false;
    let connected = false;
    let subackWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no CONNACK for ${options.clientId} within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);

    const client: Client = {
      socket,
      id: options.clientId,
      now: 0,
      onPublish: null,
      onPuback: null,
      afterChunk: null,
      lostReason: null,
      subscribe(filter, qos, timeoutMs = 30_000) {
        return new Promise<void>((res, rej) => {
          const t = setTimeout(
            () => rej(new Error(`no SUBACK for ${filter} within ${timeoutMs} ms`)),
            timeoutMs,
          );
          subackWaiter = {
            resolve: () => {
              clearTimeout(t);
              res();
            },
            reject: (e) => {
              clearTimeout(t);
              rej(e);
            },
          };
          nextSubscribeId = (nextSubscribeId % 65535) + 1;
          socket.write(encodeSubscribe(nextSubscribeId, filter, qos));
        });
      },
      reset() {
        closing = true;
        if (!socket.destroyed) socket.resetAndDestroy();
      },
      close() {
        closing = true;
        if (socket.destroyed) return Promise.resolve();
        return new Promise<void>((res) => {
          const t = setTimeout(() => {
            socket.destroy();
            res();
          }, 1000);
          socket.once('close', () => {
            clearTimeout(t);
            res();
          });
          socket.end(encodeDisconnect());
        });
      },
    };

    const splitter = new FrameSplitter((type, flags, buf, start, end) => {
      switch (type) {
        case PacketType.PUBLISH: {
          const qos = (flags >> 1) & 3;
          let p = start + 2 + buf.readUInt16BE(start);
          let pid = 0;
          if (qos > 0) {
            pid = buf.readUInt16BE(p);
            p += 2;
          }
          client.onPublish?.(buf, p, end, flags, pid);
          break;
        }
        case PacketType.PUBACK:
          client.onPuback?.(buf.readUInt16BE(start));
          break;
        case PacketType.CONNACK: {
          clearTimeout(timer);
          const rc = buf[start + 1];
          if (rc === 0) {
            connected = true;
            resolve(client);
          } else {
            socket.destroy();
            reject(new Error(`CONNACK return code ${rc} for ${options.clientId}`));
          }
          break;
        }
        case PacketType.SUBACK: {
          const granted = buf[start + 2];
          const w = subackWaiter;
          subackWaiter = null;
          if (granted === 0x80) w?.reject(new Error('subscription refused (SUBACK 0x80)'));
          else w?.resolve();
          break;
        }
        default:
          break;
      }
    });

    socket.on('data', (chunk: Buffer) => {
      client.now = nowNs();
      splitter.push(chunk);
      client.afterChunk?.();
    });
    socket.once('connect', () =>
      socket.write(encodeConnect(options.clientId, options.keepalive, options.clean ?? true)),
    );
    socket.on('error', (e) => {
      if (!connected) {
        clearTimeout(timer);
        reject(e);
      } else if (!closing) client.lostReason ??= e.message;
    });
    socket.on('close', () => {
      if (!connected) {
        clearTimeout(timer);
        reject(new Error(`connection closed before CONNACK (${options.clientId})`));
      } else if (!closing) client.lostReason ??= 'closed by the broker';
    });
  });
}

/** Runs `fn` over `items` with at most `limit` at once; collects results and failures. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<{ results: R[]; failures: string[] }> {
  const results: R[] = [];
  const failures: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        results.push(await fn(item));
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return { results, failures };
}
