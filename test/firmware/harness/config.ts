// config.json for a test board: the example's shape with timings scaled down so the suite is fast.
export const AP = { ssid: 'workshop', password: 'hunter22' };

/** Keepalive used by the tests (seconds); production default is 60. */
export const TEST_KEEPALIVE = 2;

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
    timing: {
      backoff_min_ms: 200,
      backoff_max_ms: 2000,
      retry_ms: 1000,
      timeout_ms: 2000,
      wifi_timeout_ms: 500,
      watchdog_ms: 5000,
      queue_max: 50,
      stable_ms: 3000,
      ...timing,
    },
    pins: { led: 2, button: 0, dht: 14, soil: 36 },
    app,
  };
}
