/**
 * A windowed list: rows of one height, and the DOM holds only those in view (plus a few), so a node
 * with 10,000 topics costs the page a screenful of rows.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

interface Props<T> {
  items: T[];
  rowHeight: number;
  render(item: T, index: number): ComponentChildren;
  /** Rows rendered beyond the visible ones, each side. */
  overscan?: number;
}

export function VirtualList<T>({ items, rowHeight, render, overscan = 8 }: Props<T>) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = box.current!;
    const measure = () => setHeight(el.clientHeight || 600);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + overscan);
  return (
    <div class="vlist" ref={box} onScroll={(e) => setTop((e.currentTarget as HTMLDivElement).scrollTop)}>
      <div style={{ height: `${items.length * rowHeight}px`, position: 'relative' }}>
        <div style={{ transform: `translateY(${first * rowHeight}px)` }}>
          {items.slice(first, last).map((item, i) => (
            <div class="vrow" style={{ height: `${rowHeight}px` }} key={first + i}>
              {render(item, first + i)}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
