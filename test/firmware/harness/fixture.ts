// One broker for a test file, and the boards and mosquitto_subs a test starts, stopped after it.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Board, type BoardOptions } from '../../../src/devices/sim/board.js';
import { startBroker, type TestBroker } from './broker.js';
import { mosquittoSub, type Sub } from './seeds.js';

export interface Bench {
  readonly broker: TestBroker;
  board(opts: BoardOptions): Promise<Board>;
  sub(args: string[]): Promise<Sub>;
}

/** Call at the top of a test file: registers the hooks that start and stop everything. */
export function bench(): Bench {
  let broker: TestBroker | undefined;
  const boards: Board[] = [];
  const subs: Sub[] = [];
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });
  afterEach(async () => {
    await Promise.all(boards.splice(0).map((b) => b.stop()));
    for (const s of subs.splice(0)) s.stop();
  });
  const bench: Bench = {
    get broker() {
      if (!broker) throw new Error('the broker is started in beforeAll');
      return broker;
    },
    async board(opts) {
      const b = await Board.start(opts);
      boards.push(b);
      return b;
    },
    async sub(args) {
      const s = await mosquittoSub(bench.broker.port, args);
      subs.push(s);
      return s;
    },
  };
  return bench;
}
