/**
 * Waits for a board's `<device>/status` = `online` on the broker, with a real MQTT client (MQTT.js).
 * Subscribed before the board is reset: a retained `online` left from its previous run arrives with
 * the retain flag and is ignored; the board's fresh one arrives live.
 */
import { connect, type MqttClient } from 'mqtt';
import { ErrorCodes, MothershipError } from '../../errors.js';

export interface MonitorTarget {
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** CA (PEM) for a TLS listener. */
  ca?: string;
}

export interface StatusWatch {
  online: Promise<void>;
  close(): Promise<void>;
}

export async function watchStatus(target: MonitorTarget, device: string): Promise<StatusWatch> {
  const client: MqttClient = connect({
    host: target.host,
    port: target.port,
    protocol: target.ca ? 'mqtts' : 'mqtt',
    ...(target.ca ? { ca: target.ca } : {}),
    username: target.user,
    password: target.password,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    clean: true,
    clientId: `mothership-provision-${process.pid}`,
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      client.end(true);
      reject(
        new MothershipError(
          ErrorCodes.PROVISION_FAILED,
          `cannot watch for the board on the broker at ${target.host}:${target.port}: ${why} (is 'mothership up' running?)`,
        ),
      );
    };
    client.once('connect', () => resolve());
    client.once('error', (err) => fail(err.message));
    client.once('close', () => fail('connection closed'));
  });
  let resolveOnline!: () => void;
  const online = new Promise<void>((r) => {
    resolveOnline = r;
  });
  client.on('message', (_topic, payload, packet) => {
    if (!packet.retain && payload.toString() === 'online') resolveOnline();
  });
  await client.subscribeAsync(`${device}/status`, { qos: 1 });
  return { online, close: () => client.endAsync(true) };
}
