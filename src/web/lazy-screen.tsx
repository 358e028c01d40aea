/**
 * A screen whose code is fetched the first time it shows: the first load (the Devices screen) carries
 * only the shell and that screen, so a throttled phone parses a third of the app before it can list
 * the boards.
 */
import type { ComponentType } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';

export function lazyScreen<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  let loading: Promise<ComponentType<P>> | undefined;
  return function LazyScreen(props: P) {
    const [, setReady] = useState(0);
    const [error, setError] = useState<string | undefined>(undefined);
    useLayoutEffect(() => {
      if (loaded) return;
      let current = true;
      loading ??= load();
      loading.then(
        (c) => {
          loaded = c;
          if (current) setReady(1);
        },
        () => {
          loading = undefined; // try again next time it shows
          if (current) setError('This screen did not load (was the hub upgraded? reload the page).');
        },
      );
      return () => {
        current = false;
      };
    }, []);
    if (loaded) {
      const Screen = loaded;
      return <Screen {...props} />;
    }
    return error ? <p class="error">{error}</p> : <p class="muted">Loading…</p>;
  };
}
