/** What the directives of one config file (and its include_dir files) build up while it is read. */
import type { AllowAnonymous, LoadedConfig } from './config-types.js';
import type { Where } from './lexer.js';

/** Directives that apply to the current listener block (or, before any, the default listener). */
export interface ListenerDraft {
  port?: number;
  bindAddress?: string;
  protocol: 'mqtt' | 'websockets';
  certfile?: string;
  keyfile?: string;
  cafile?: string;
  requireCertificate?: boolean;
  useIdentityAsUsername?: boolean;
  allowAnonymous?: AllowAnonymous;
  passwordFile?: string;
  aclFile?: string;
  where: Where;
  /** A unix socket listener we do not support: parsed, then dropped. */
  skip?: boolean;
}

export class ParseState {
  readonly config: LoadedConfig;
  readonly defaultListener: ListenerDraft;
  /** Something configured the default listener (port, bind_address, ...), so it starts. */
  defaultListenerUsed = false;
  readonly listeners: ListenerDraft[] = [];
  current: ListenerDraft | undefined;
  /** The block the last block-opening directive started (`listener`, a bridge's `connection`). */
  block: string | undefined;
  /** A security directive was seen (per_listener_settings must come before them). */
  securitySeen = false;
  /** include_dir nesting. */
  depth = 0;

  constructor(
    file: string,
    /** Reads one more file into this state (include_dir). */
    readonly include: (file: string, from: Where) => void,
  ) {
    this.defaultListener = { protocol: 'mqtt', where: { file, line: 0 } };
    this.config = {
      files: [],
      broker: {},
      listeners: [],
      listenersConfigured: false,
      perListenerSettings: false,
      allowAnonymous: undefined,
      checkSubscribeAcl: false,
      persistence: undefined,
      autosaveInterval: undefined,
      log: { dest: [], types: [] },
      mdns: undefined,
      durability: undefined,
      commitDelayMs: undefined,
      warnings: [],
      sections: new Map(),
    };
  }

  /** The listener a listener directive at `w` configures: the current block, or the default listener. */
  listenerAt(w: Where): ListenerDraft {
    if (!this.current) {
      if (!this.defaultListenerUsed) this.defaultListener.where = w;
      this.defaultListenerUsed = true;
    }
    return this.current ?? this.defaultListener;
  }

  /** A security setting: broker-wide, or the current listener's under per_listener_settings. */
  security(applyToListener: (l: ListenerDraft) => void, applyGlobally: () => void): void {
    this.securitySeen = true;
    if (this.config.perListenerSettings) applyToListener(this.current ?? this.defaultListener);
    else applyGlobally();
  }

  /** A feature's own settings object, made on first use. */
  section<T>(key: string, init: () => T): T {
    let s = this.config.sections.get(key) as T | undefined;
    if (s === undefined) {
      s = init();
      this.config.sections.set(key, s);
    }
    return s;
  }
}
