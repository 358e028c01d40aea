/** One run's place in a rendezvous: `arrive` resolves when every run has arrived or left. */
export interface Meeting {
  arrive: () => Promise<void>;
  /** Counts as arrived without waiting (a run that failed first); harmless after arrive. */
  leave: () => void;
}

/**
 * Where runs side by side (--together) wait for each other once connected: each run arrives, or
 * leaves (failed before it could), and all go on when every one has. Bounded: none waits past 3 minutes.
 */
export function rendezvous(n: number): () => Meeting {
  let count = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => {
    release = r;
  });
  const timer = setTimeout(release, 180_000);
  const one = () => {
    if (++count === n) {
      clearTimeout(timer);
      release();
    }
  };
  return (): Meeting => {
    let here = false;
    return {
      arrive: () => {
        if (!here) one();
        here = true;
        return all;
      },
      leave: () => {
        if (!here) one();
        here = true;
      },
    };
  };
}
