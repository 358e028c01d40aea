/** How a running Mothership answers the process signals, as mosquitto does. */
import type { Mothership } from './mothership.js';

/** SIGINT/SIGTERM stop it (resolving with exit code 0); SIGHUP re-reads the password and ACL files. */
export function runUntilSignalled(mothership: Mothership): Promise<number> {
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      mothership.log.info({ event: 'shutdown', signal }, `Received ${signal}, shutting down.`);
      mothership.stop().then(() => resolve(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGHUP', () => void mothership.reload());
  });
}
