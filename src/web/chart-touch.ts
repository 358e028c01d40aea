/**
 * Touch zoom and pan of a chart's time axis: one finger drags the window along, two fingers pinch it
 * (the time under the fingers stays under them). The page keeps scrolling vertically (touch-action:
 * pan-y on the plot), so only horizontal drags and pinches reach here.
 */
import type { Window } from './chart-data';

interface Start {
  window: Window;
  /** Finger x positions in px from the plot's left edge. */
  xs: number[];
}

/** Follows the touches on `el` (the plot area, `width()` px wide), calling `onWindow` as they move. */
export function touchZoom(
  el: HTMLElement,
  width: () => number,
  current: () => Window,
  onWindow: (w: Window) => void,
  onEnd: () => void,
): () => void {
  let start: Start | undefined;
  const xs = (e: TouchEvent) => {
    const left = el.getBoundingClientRect().left;
    return [...e.touches].slice(0, 2).map((t) => t.clientX - left);
  };
  const begin = (e: TouchEvent) => {
    start = { window: current(), xs: xs(e) };
  };
  const move = (e: TouchEvent) => {
    if (!start) return;
    const now = xs(e);
    if (now.length !== start.xs.length) return begin(e); // a finger came or went: start again from here
    e.preventDefault();
    const w = start.window;
    const msPerPx = (w.to - w.from) / Math.max(1, width());
    if (now.length === 1) {
      const shift = (now[0]! - start.xs[0]!) * msPerPx;
      onWindow({ from: w.from - shift, to: w.to - shift });
      return;
    }
    const [a0, b0] = start.xs as [number, number];
    const [a1, b1] = now as [number, number];
    const scale = Math.abs(a0 - b0) / Math.max(1, Math.abs(a1 - b1));
    const centre0 = w.from + ((a0 + b0) / 2) * msPerPx;
    const span = (w.to - w.from) * scale;
    const from = centre0 - ((a1 + b1) / 2) * (span / Math.max(1, width()));
    onWindow({ from, to: from + span });
  };
  const end = (e: TouchEvent) => {
    if (e.touches.length > 0) return begin(e);
    if (start) onEnd();
    start = undefined;
  };
  el.addEventListener('touchstart', begin, { passive: true });
  el.addEventListener('touchmove', move, { passive: false });
  el.addEventListener('touchend', end);
  el.addEventListener('touchcancel', end);
  return () => {
    el.removeEventListener('touchstart', begin);
    el.removeEventListener('touchmove', move);
    el.removeEventListener('touchend', end);
    el.removeEventListener('touchcancel', end);
  };
}
