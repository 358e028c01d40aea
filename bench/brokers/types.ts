/** What a scenario may ask of the broker it runs against (later issues add more). */
export interface BrokerStartOptions {
  /** Keep messages on disk (mosquitto `persistence true`); default off. */
  persistence?: boolean;
  /**
   * Every message's rows written (Mothership: in-flight rows not waiting for the subscriber's PUBACK,
   * `inflightWriteDelayMs` 0): the disk-bound case of subscribers that never keep up. Others ignore it.
   */
  diskBound?: boolean;
  /** The scenario bridges to a remote broker (issue 16): a launcher without bridges is not available. */
  bridge?: boolean;
  /** The bridge's `connection` block, as mosquitto.conf lines (set by the run: it names the remote's port). */
  bridgeConfig?: string[];
}

export interface RunningBroker {
  readonly name: string;
  /** The broker's own process: /proc/<pid> measures only the broker. */
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /** What the broker printed so far (for error reports). */
  output(): string;
  /** Whether it is still running (a crash mid-scenario makes the scenario fail). */
  alive(): boolean;
  stop(): Promise<void>;
}

/** A broker this benchmark can start. Add one by adding a file and listing it in index.ts. */
export interface BrokerLauncher {
  readonly name: string;
  /** Why this broker cannot run (with these options), or null when it can. Cheap: starts nothing. */
  unavailable(options: BrokerStartOptions): Promise<string | null>;
  /** Starts a fresh broker on a free 127.0.0.1 port and resolves once it accepts connections. */
  start(options: BrokerStartOptions): Promise<RunningBroker>;
}

/** Thrown by `start` when the broker turns out not to exist yet (reported, never a crash). */
export class BrokerUnavailable extends Error {}
