/**
 * The config.json a simulated board boots with: the firmware's own shape (firmware/config.example.json),
 * joined to the sim's one access point, pointed at the broker given on the command line. `fast`
 * scales the timings down as the firmware tests do (keepalive 2 s, backoff 0.2-2 s, watchdog 5 s),
 * so recoveries take seconds; otherwise the firmware's defaults apply, as on a real board.
 */
import type { BoardSpec } from './kinds.js';

/** The access point every simulated board joins. */
export const SIM_AP = { ssid: 'mothership-sim', password: 'simulated' };

export interface SimBroker {
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** A CA (PEM) to verify the broker with: TLS on, the CA stored on the board as ca.crt. */
  ca?: string;
}

/** Keepalive (s) and timings of `fast`: the firmware tests' own (test/firmware/harness/config.ts). */
export const FAST_KEEPALIVE = 2;
export const FAST_TIMING = {
  backoff_min_ms: 200,
  backoff_max_ms: 2000,
  retry_ms: 1000,
  timeout_ms: 2000,
  wifi_timeout_ms: 500,
  watchdog_ms: 5000,
  queue_max: 50,
  stable_ms: 3000,
};

export function simBoardConfig(
  spec: BoardSpec,
  broker: SimBroker,
  fast: boolean,
  queueMax?: number,
): Record<string, unknown> {
  const timing: Record<string, number> = fast ? { ...FAST_TIMING } : {};
  if (queueMax !== undefined) timing.queue_max = queueMax;
  return {
    device: spec.name,
    wifi: [{ ssid: SIM_AP.ssid, password: SIM_AP.password }],
    broker: {
      host: broker.host,
      port: broker.port,
      keepalive: fast ? FAST_KEEPALIVE : 60,
      ...(broker.user !== undefined ? { user: broker.user } : {}),
      ...(broker.password !== undefined ? { password: broker.password } : {}),
      ...(broker.ca !== undefined ? { ca: 'ca.crt' } : {}),
    },
    timing,
    pins: { led: 2, button: 0, dht: 14, soil: 36 },
    app: spec.appConfig,
  };
}
