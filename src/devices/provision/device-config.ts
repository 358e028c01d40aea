/**
 * The config.json provisioning writes on a board: the firmware's own shape (firmware/config.example.json)
 * with this board's name, Wi-Fi, broker and MQTT credentials. Timings are the firmware's defaults
 * unless given.
 */
import type { AppName } from './firmware-apps.js';

export interface BrokerTarget {
  /** An address or name the board can reach, or 'mdns' to discover the broker. */
  host: string;
  port: number;
  /** The CA (PEM) that signed the broker's certificate: TLS on, stored on the board as ca.crt. */
  ca?: string;
}

export interface DeviceConfigInput {
  device: string;
  app: AppName;
  wifi: { ssid: string; password: string };
  broker: BrokerTarget;
  user?: string;
  password?: string;
  /** The app's own settings (config.json's "app"); default: QoS 1, the app's defaults otherwise. */
  appSettings?: Record<string, unknown>;
  /** Overrides of config.json's "timing" and broker keepalive (the tests scale them down). */
  timing?: Record<string, number>;
  keepalive?: number;
}

export const CA_FILE = 'ca.crt';

/** Default device name: the app and the last 6 hex digits of the chip's unique id, e.g. dht-a1b2c3. */
export function defaultDeviceName(app: AppName, chipId: string): string {
  return `${app}-${chipId.slice(-6)}`;
}

export function deviceConfig(i: DeviceConfigInput): Record<string, unknown> {
  return {
    device: i.device,
    wifi: [{ ssid: i.wifi.ssid, password: i.wifi.password }],
    broker: {
      host: i.broker.host,
      port: i.broker.port,
      keepalive: i.keepalive ?? 60,
      user: i.user ?? null,
      password: i.password ?? null,
      ca: i.broker.ca ? CA_FILE : null,
      msg_max: 4096,
    },
    ...(i.timing ? { timing: i.timing } : {}),
    pins: { led: 2, button: 0, dht: 14, soil: 36 },
    app: i.appSettings ?? { qos: 1 },
  };
}
