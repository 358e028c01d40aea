/**
 * The MQTT.js options a bridge connects to its remote with: its client id, session, keepalive,
 * credentials, the state notification as its will, the protocol (mosquitto's bridge bit with
 * try_private on v3), and TLS with SNI, the CA from bridge_cafile/bridge_capath; and what a failed
 * TLS link is called in the bridge's words.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { ErrorCodes, MothershipError } from '../errors.js';
import {
  type BridgeAddress,
  type BridgeConfig,
  type BridgeTls,
  notificationTopicOf,
  remoteClientIdOf,
} from './bridge-config.js';

/** The session the remote keeps for a bridge without cleansession: as long as it allows. */
const KEEP_SESSION = 0xffffffff;

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new MothershipError(
      ErrorCodes.BRIDGE_TLS_FILE_UNREADABLE,
      `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * A CA file in bridge_capath: .crt/.pem, or OpenSSL's subject hash name (`5ed36f99.0`) that
 * `openssl rehash`/c_rehash give it, the only name OpenSSL (mosquitto) looks up there.
 */
const CA_FILE = /^(.+\.(crt|pem)|[0-9a-f]{8}\.\d+)$/;

/** Every certificate of bridge_cafile and of the CA files in bridge_capath. */
function caOf(tls: BridgeTls): Buffer[] {
  const ca: Buffer[] = [];
  if (tls.cafile) ca.push(readPem(tls.cafile, 'bridge_cafile'));
  if (tls.capath) {
    let names: string[];
    try {
      names = readdirSync(tls.capath);
    } catch (err) {
      throw new MothershipError(
        ErrorCodes.BRIDGE_TLS_FILE_UNREADABLE,
        `cannot read the bridge_capath folder ${tls.capath}: ${(err as NodeJS.ErrnoException).code}`,
        { cause: err },
      );
    }
    for (const name of names.sort())
      if (CA_FILE.test(name)) ca.push(readPem(join(tls.capath, name), 'CA certificate'));
  }
  return ca;
}

/**
 * What a failed link says, in the bridge's words where TLS's own are cryptic: a remote that wants a
 * client certificate (AWS IoT) ends the handshake with only an alert number.
 */
export function linkErrorOf(err: Error & { code?: unknown }, tls: BridgeTls | undefined): string {
  if (!tls) return err.message;
  if (err.code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' && !tls.certfile)
    return 'the remote requires a client certificate: set bridge_certfile and bridge_keyfile';
  if (/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA)$/.test(String(err.code)) && tls.certfile)
    return `the remote refused the client certificate of bridge_certfile ${tls.certfile} (${err.code})`;
  return err.message;
}

/**
 * mosquitto's bridge bit (0x80 on the protocol level of a v3 CONNECT, try_private) asks a mosquitto
 * remote to treat the client as a bridge: no echo of its own messages, retain flags as published.
 */
export function useBridgeBit(client: MqttClient): void {
  client.on('packetsend', (packet) => {
    if (packet.cmd === 'connect') (packet as { bridgeMode?: boolean }).bridgeMode = true;
  });
}

export function remoteOptions(
  b: BridgeConfig,
  address: BridgeAddress,
  protocolVersion: 3 | 4 | 5,
  /** The state notification as the will: QoS 1 retained unless the remote refused that. */
  will: { qos: 0 | 1; retain: boolean } = { qos: 1, retain: true },
): IClientOptions {
  const v5 = protocolVersion === 5;
  const options: IClientOptions = {
    host: address.host,
    port: address.port,
    protocol: b.tls ? 'mqtts' : 'mqtt',
    protocolVersion,
    protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    clientId: remoteClientIdOf(b),
    clean: b.cleanSession,
    keepalive: b.keepalive,
    // Pings on schedule however much is sent: a half-open link is noticed within 1.5 x keepalive.
    reschedulePings: false,
    // The bridge reconnects itself, with restart_timeout's backoff.
    reconnectPeriod: 0,
    connectTimeout: 30_000,
    queueQoSZero: false,
    resubscribe: false,
    // The caller adds its listeners (the bridge bit, below) before the CONNECT goes out.
    manualConnect: true,
  };
  if (b.remoteUsername !== undefined) options.username = b.remoteUsername;
  if (b.remotePassword !== undefined) options.password = b.remotePassword;
  if (v5) {
    options.properties = { sessionExpiryInterval: b.cleanSession ? 0 : KEEP_SESSION };
    options.autoAssignTopicAlias = true;
  }
  if (b.notifications && !b.notificationsLocalOnly)
    options.will = { topic: notificationTopicOf(b), payload: Buffer.from('0'), ...will };
  const tls = b.tls;
  if (tls) {
    options.ca = caOf(tls);
    if (tls.certfile) options.cert = readPem(tls.certfile, 'bridge_certfile');
    if (tls.keyfile) options.key = readPem(tls.keyfile, 'bridge_keyfile');
    options.rejectUnauthorized = true;
    // SNI: cloud brokers (AWS IoT) pick the endpoint by the name asked for.
    if (isIP(address.host) === 0) options.servername = address.host;
    if (tls.insecure) Object.assign(options, { checkServerIdentity: () => undefined });
  }
  return options;
}
