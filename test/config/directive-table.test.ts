import { describe, expect, it } from 'vitest';
import type { Directive } from '../../src/config/directive-table.js';
import { brokerDirectiveTable, parseConfig } from '../../src/config/mosquitto-conf.js';
import type { ParseState } from '../../src/config/parse-state.js';
import { ErrorCodes } from '../../src/errors.js';

/** A feature with a block of its own, as a bridge's `connection` is: what a feature registers. */
interface Links {
  links: { name: string; address?: string; keepalive?: number }[];
}
const links = (state: ParseState) => state.section<Links>('links', () => ({ links: [] }));
const linkDirectives: Directive<ParseState>[] = [
  {
    name: 'link',
    scope: 'global',
    opens: 'link',
    form: 'a name',
    apply(v, state) {
      links(state).links.push({ name: v.one('a name') });
    },
  },
  {
    name: 'link_address',
    scope: 'link',
    form: 'host:port',
    apply(v, state) {
      links(state).links.at(-1)!.address = v.one('host:port');
    },
  },
  {
    name: 'link_keepalive',
    scope: 'link',
    form: 'an integer 5..65535',
    apply(v, state) {
      links(state).links.at(-1)!.keepalive = v.int(5, 65535);
    },
  },
];

describe('the directive table', () => {
  it('a registered feature directive is read into its own section, in its block', () => {
    const table = brokerDirectiveTable().register(...linkDirectives);
    const c = parseConfig(
      'listener 1883\nlink cloud\nlink_address example.org:8883\nlink_keepalive 30\nlink spare\n',
      '/x/m.conf',
      table,
    );
    expect(c.warnings).toEqual([]);
    expect(c.sections.get('links')).toEqual({
      links: [{ name: 'cloud', address: 'example.org:8883', keepalive: 30 }, { name: 'spare' }],
    });
    expect(c.listeners.map((l) => l.port)).toEqual([1883]);
  });

  it('a feature value error names file:line and the accepted form', () => {
    const table = brokerDirectiveTable().register(...linkDirectives);
    expect(() => parseConfig('link a\nlink_keepalive 2\n', '/x/m.conf', table)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.CONFIG_INVALID_VALUE,
        message: "/x/m.conf:2: link_keepalive must be an integer 5..65535, got '2'",
      }),
    );
  });

  it('a block directive outside its block is an error naming the line and the block', () => {
    const table = brokerDirectiveTable().register(...linkDirectives);
    expect(() => parseConfig('listener 1883\nlink_address a:1\n', '/x/m.conf', table)).toThrow(
      "/x/m.conf:2: link_address belongs in a 'link' block: put it after a 'link' line",
    );
  });

  it('without the feature registered, its lines are warnings, not errors', () => {
    const c = parseConfig('link cloud\n', '/x/m.conf');
    expect(c.warnings).toEqual(["/x/m.conf:1: unknown directive 'link'; ignored"]);
  });

  it('a name cannot be registered twice', () => {
    expect(() => brokerDirectiveTable().register({ ...linkDirectives[0]!, name: 'listener' })).toThrow(
      /registered twice/,
    );
  });

  it('every directive states its accepted form', () => {
    for (const d of brokerDirectiveTable().list()) expect(d.form, d.name).not.toBe('');
    expect(brokerDirectiveTable().list().length).toBeGreaterThan(30);
  });
});
