/**
 * The directives a config file may use, by name: the broker's own (src/config/*-directives.ts) and the
 * ones each feature registers (the hub, the bridge), so a feature adds its lines without growing a
 * `switch`. A name is registered once: two features cannot silently give one line two meanings.
 */
import type { DirectiveValue } from './values.js';

/**
 * Where a directive applies: `global` anywhere; `listener` to the current `listener` block (before
 * any, mosquitto's default listener); `security` broker-wide, or per listener under
 * `per_listener_settings true`; any other scope is a block some directive opens (e.g. a bridge's
 * `connection`), and the directive is an error outside it.
 */
export type Scope = 'global' | 'listener' | 'security' | (string & {});

export interface Directive<S> {
  name: string;
  scope: Scope;
  /** The accepted form, as the docs and error messages state it. */
  form: string;
  /** This directive starts a block of that scope (e.g. `listener`, `connection`). */
  opens?: Scope;
  apply(value: DirectiveValue, state: S): void;
}

export class DirectiveTable<S> {
  private readonly byName = new Map<string, Directive<S>>();

  constructor(...groups: ReadonlyArray<Directive<S>>[]) {
    for (const group of groups) this.register(...group);
  }

  register(...directives: Directive<S>[]): this {
    for (const d of directives) {
      if (this.byName.has(d.name)) throw new Error(`config directive '${d.name}' is registered twice`);
      this.byName.set(d.name, d);
    }
    return this;
  }

  get(name: string): Directive<S> | undefined {
    return this.byName.get(name);
  }

  list(): Directive<S>[] {
    return [...this.byName.values()];
  }
}
