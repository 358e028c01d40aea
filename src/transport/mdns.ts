import type { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { Bonjour, type Service } from 'bonjour-service';

/**
 * mDNS / DNS-SD (RFC 6762/6763): `mothership up` announces the broker as `_mqtt._tcp` (and its
 * WebSocket listener as `_mqtt-ws._tcp`) so boards and `mothership pub/sub` find it without an IP
 * address; `findBroker` is the browsing side.
 */

/** The TXT record's `version`: bumped if the meaning of the TXT keys ever changes. */
export const MDNS_TXT_VERSION = '1';

export interface AdvertiseOptions {
  /** The MQTT port to announce as `_mqtt._tcp`. */
  port: number;
  /** The service instance name; `Mothership on <hostname>` by default. */
  name?: string;
  /** Also announce `_mqtt-ws._tcp` on this port (path `/mqtt`). */
  wsPort?: number;
  /** Whether the MQTT port speaks TLS (TXT `tls=1`). */
  tls?: boolean;
  /**
   * IPv4 addresses of the interfaces to announce on (one responder each); every multicast-capable
   * interface when omitted.
   */
  interfaces?: string[];
}

export interface Advertisement {
  /** The instance names announced (one per service type). */
  readonly names: string[];
  /** Sends goodbye packets (TTL 0) and closes the sockets. */
  stop(): Promise<void>;
}

export interface FoundBroker {
  /** An IPv4 address of the broker when it announced one, else its `.local` host name. */
  host: string;
  port: number;
  /** The service instance name, e.g. `Mothership on pi`. */
  name: string;
  /** The `.local` host name from the SRV record. */
  hostname: string;
  /** Every address announced for the host (IPv4 and IPv6). */
  addresses: string[];
  txt: Record<string, string>;
}

export interface FindOptions {
  /** Give up after this long (resolves undefined). */
  timeoutMs: number;
  /** IPv4 address of the interface to browse on; every interface when omitted. */
  interface?: string;
  /** Service type without underscores: `mqtt` (default) or `mqtt-ws`. */
  type?: 'mqtt' | 'mqtt-ws';
}

interface MdnsSocket extends EventEmitter {
  destroy(cb?: () => void): void;
}

/** The multicast-dns instance bonjour-service keeps private; its socket errors must not crash us. */
function mdnsOf(bonjour: Bonjour): MdnsSocket | undefined {
  return (bonjour as unknown as { server?: { mdns?: MdnsSocket } }).server?.mdns;
}

function open(iface: string | undefined, onError: (err: Error) => void): Bonjour {
  // On Linux a socket bound to a unicast address never receives multicast: bind the wildcard address
  // and use the interface for group membership and outgoing packets only.
  const opts = iface ? { interface: iface, bind: '0.0.0.0' } : {};
  const bonjour = new Bonjour(opts as never, onError);
  const mdns = mdnsOf(bonjour);
  // bonjour-service is pinned exactly because of this private field: if an upgrade moves it, say so
  // loudly (the mDNS tests fail) rather than run with socket errors that would crash the broker.
  if (!mdns || typeof mdns.on !== 'function') {
    bonjour.destroy();
    throw new Error(
      'bonjour-service no longer exposes server.mdns: check src/transport/mdns.ts after upgrading it',
    );
  }
  mdns.on('error', onError);
  // Warnings are per-interface hiccups (an interface without multicast, a send that failed): not fatal.
  mdns.on('warning', () => {});
  return bonjour;
}

function destroy(bonjour: Bonjour): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        resolve();
      }
    };
    try {
      bonjour.destroy(finish);
    } catch {
      finish();
    }
    setTimeout(finish, 1000).unref();
  });
}

function waitUp(service: Service, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (service.published) return resolve();
    const t = setTimeout(
      () => reject(new Error(`mDNS: '${service.name}' was not announced within ${ms} ms`)),
      ms,
    );
    service.once('up', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * Announces the broker on the local network. Resolves once the first announcement went out; the
 * responder keeps answering queries (and re-announcing) until `stop()`.
 */
export async function advertiseBroker(options: AdvertiseOptions): Promise<Advertisement> {
  const name = options.name ?? `Mothership on ${hostname().split('.')[0]}`;
  const txt: Record<string, string> = { version: MDNS_TXT_VERSION, tls: options.tls ? '1' : '0' };
  if (options.wsPort !== undefined) {
    txt.ws_port = String(options.wsPort);
    txt.ws_path = '/mqtt';
  }
  let failure: Error | undefined;
  const onError = (err: Error): void => {
    failure ??= err;
  };
  const responders = (options.interfaces?.length ? options.interfaces : [undefined]).map((i) =>
    open(i, onError),
  );
  const services: Service[] = [];
  try {
    for (const bonjour of responders) {
      // probe: false — the instance name carries the host name, and a probe conflict in
      // bonjour-service only logs; announcing straight away keeps `up` fast and quiet.
      services.push(bonjour.publish({ name, type: 'mqtt', port: options.port, txt, probe: false }));
      if (options.wsPort !== undefined) {
        services.push(
          bonjour.publish({
            name,
            type: 'mqtt-ws',
            port: options.wsPort,
            txt: { version: MDNS_TXT_VERSION, path: '/mqtt', tls: options.tls ? '1' : '0' },
            probe: false,
          }),
        );
      }
    }
    await Promise.all(services.map((s) => waitUp(s, 5000)));
    if (failure) throw failure;
  } catch (err) {
    await Promise.all(responders.map(destroy));
    throw err;
  }
  let stopped = false;
  return {
    names: [...new Set(services.map((s) => s.fqdn))],
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(
        responders.map(
          (b) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 1000);
              t.unref();
              try {
                b.unpublishAll(() => {
                  clearTimeout(t);
                  resolve();
                });
              } catch {
                clearTimeout(t);
                resolve();
              }
            }),
        ),
      );
      await Promise.all(responders.map(destroy));
    },
  };
}

function txtRecord(txt: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (txt && typeof txt === 'object') {
    for (const [k, v] of Object.entries(txt as Record<string, unknown>)) {
      out[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
    }
  }
  return out;
}

/**
 * Browses for an MQTT broker (`_mqtt._tcp` by default) and resolves with the first one that answers,
 * or undefined after `timeoutMs`.
 */
export async function findBroker(options: FindOptions): Promise<FoundBroker | undefined> {
  let failure: Error | undefined;
  const bonjour = open(options.interface, (err) => {
    failure ??= err;
  });
  try {
    return await new Promise<FoundBroker | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        browser.stop();
        if (failure) reject(failure);
        else resolve(undefined);
      }, options.timeoutMs);
      const browser = bonjour.find({ type: options.type ?? 'mqtt', protocol: 'tcp' }, (service) => {
        const addresses = (service.addresses ?? []).filter((a) => typeof a === 'string');
        const ipv4 = addresses.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
        clearTimeout(timer);
        browser.stop();
        resolve({
          host: ipv4 ?? service.host,
          port: service.port,
          name: service.name,
          hostname: service.host,
          addresses,
          txt: txtRecord(service.txt),
        });
      });
    });
  } finally {
    await destroy(bonjour);
  }
}
