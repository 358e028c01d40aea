import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless, with nothing reaching the network (never a downloaded browser): for the
 * e2e tests and bench/dashboard.ts.
 */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
