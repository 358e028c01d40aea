/**
 * The broker runs in the test process, so a throw inside it (in a socket 'data' handler, a timer) is an
 * uncaught exception of this process; in production it would kill the broker. `trapUncaught` swaps the
 * process-level handlers (vitest's among them) for collectors while a test drives hostile input, so the
 * test can assert that nothing was thrown; `restore` puts the previous handlers back.
 */
export interface Trap {
  readonly errors: unknown[];
  restore(): void;
}

export function trapUncaught(): Trap {
  const errors: unknown[] = [];
  const saved = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  const onError = (err: unknown) => {
    errors.push(err);
  };
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  let restored = false;
  return {
    errors,
    restore() {
      if (restored) return;
      restored = true;
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      for (const l of saved.uncaughtException) process.on('uncaughtException', l);
      for (const l of saved.unhandledRejection) process.on('unhandledRejection', l as never);
    },
  };
}

/** One line per error, for assertion messages. */
export function describeErrors(errors: unknown[]): string {
  return errors.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e))).join('\n---\n');
}
