/** How a running Mothership answers the process signals, as mosquitto does. */
import type { Mothership } from './mothership.js';

/**
 * Takes SIGINT and SIGTERM from now on, before a long-running command starts anything, so that a
 * signal sent the moment the command says it is up (or while it starts) stops it gracefully. Node's
 * default for a signal with no listener is to end the process by that signal: a supervisor (or a
 * test) that signals right after the banner raced the listener and lost the graceful stop. A second
 * signal gets the default: it ends the process at once, the usual way out of a stop that hangs.
 * Resolves with the first one received.
 */
export function catchStopSignal(): Promise<NodeJS.Signals> {
  return new Promise<NodeJS.Signals>((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Stops it (resolving with exit code 0) on the stop signal; SIGHUP re-reads the password and ACL files. */
export async function runUntilSignalled(
  mothership: Mothership,
  stopSignal: Promise<NodeJS.Signals>,
): Promise<number> {
  const reload = (): void => void mothership.reload();
  process.on('SIGHUP', reload);
  const signal = await stopSignal;
  mothership.log.info({ event: 'shutdown', signal }, `Received ${signal}, shutting down.`);
  await mothership.stop();
  process.off('SIGHUP', reload);
  return 0;
}
