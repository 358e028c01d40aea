/** Hooks the screens share: the live viewport and frames, fetched API data, a ticking clock. */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, api } from './api';
import { type Frame, type LiveState, live, type Viewport } from './live';

/** Tells the hub what this screen shows, for as long as it is shown. */
export function useViewport(viewport: Viewport): void {
  const key = JSON.stringify(viewport);
  useEffect(() => {
    live.show(JSON.parse(key) as Viewport);
  }, [key]);
}

export function useFrames(handler: (f: Frame) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => live.onFrame((f) => ref.current(f)), []);
}

export function useLiveState(): LiveState {
  const [state, setState] = useState(live.state);
  useEffect(() => live.onState(setState), []);
  return state;
}

/** The time now, updated every `ms`: relative times ("3 min ago") stay true. */
export function useNow(ms = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export interface Fetched<T> {
  data: T | undefined;
  error: ApiError | undefined;
  reload(): void;
}

/** GETs `path` (again when it changes); null fetches nothing. */
export function useApi<T>(path: string | null): Fetched<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [n, setN] = useState(0);
  // Asked at once when the screen mounts (a plain effect waits for the first paint, late on a slow phone).
  useLayoutEffect(() => {
    if (path === null) return;
    let current = true;
    api<T>(path).then(
      (d) => {
        if (!current) return;
        setData(d);
        setError(undefined);
      },
      (e: ApiError) => current && setError(e),
    );
    return () => {
      current = false;
    };
  }, [path, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}
