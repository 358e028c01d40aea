// config.json for a test board: the example's shape with timings scaled down so the suite is fast
// (the same timings as `mothership sim --fast`).
import { FAST_KEEPALIVE, FAST_TIMING } from '../../../src/devices/sim/board-config.js';

export const AP = { ssid: 'workshop', password: 'hunter22' };

/** Keepalive used by the tests (seconds); production default is 60. */
export const TEST_KEEPALIVE = FAST_KEEPALIVE;

export function boardConfig(
  device: string,
  port: number,
  app: Record<string, unknown>,
  timing: Record<string, number> = {},
): Record<string, unknown> {
  return {
    device,
    wifi: [
      { ssid: 'not-in-range', password: 'x' },
      { ssid: AP.ssid, password: AP.password },
    ],
    broker: { host: '127.0.0.1', port, keepalive: TEST_KEEPALIVE },
    timing: { ...FAST_TIMING, ...timing },
    pins: { led: 2, button: 0, dht: 14, soil: 36 },
    app,
  };
}
