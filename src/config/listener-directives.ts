/**
 * `listener` blocks as mosquitto 2 reads them: `listener` opens a block that the following
 * per-listener directives apply to; the same directives before any `listener` configure mosquitto's
 * implicit default listener.
 */
import { ErrorCodes, MothershipError } from '../errors.js';
import type { ListenerConfig } from './config-types.js';
import type { Directive } from './directive-table.js';
import { at } from './lexer.js';
import type { ListenerDraft, ParseState } from './parse-state.js';
import { integer } from './values.js';

const listenerForm = 'a port 0..65535, optionally followed by a bind address';

export const listenerDirectives: Directive<ParseState>[] = [
  {
    name: 'listener',
    scope: 'global',
    opens: 'listener',
    form: listenerForm,
    apply(v, state) {
      const { args } = v.line;
      if (args.length < 1 || args.length > 2) throw v.invalid(listenerForm);
      const port = integer(v.where, v.name, args[0]!, 0, 65535, listenerForm);
      const draft: ListenerDraft = { port, protocol: 'mqtt', where: v.where };
      if (args[1] !== undefined) draft.bindAddress = args[1];
      if (port === 0 && args[1]?.startsWith('/')) {
        draft.skip = true;
        state.config.warnings.push(v.note('unix socket listeners are not supported yet; listener ignored'));
      }
      state.listeners.push(draft);
      state.current = draft;
    },
  },
  {
    name: 'port',
    scope: 'global',
    form: 'a port 0..65535',
    apply(v, state) {
      state.config.warnings.push(
        v.note(`'port' is deprecated in mosquitto 2; prefer 'listener ${v.line.rest}'`),
      );
      state.defaultListener.port = v.int(0, 65535, 'a port 0..65535');
      state.listenerAt(v.where);
    },
  },
  {
    name: 'bind_address',
    scope: 'global',
    form: 'an IP address or host name',
    apply(v, state) {
      state.config.warnings.push(
        v.note(`'bind_address' is deprecated in mosquitto 2; prefer 'listener <port> ${v.line.rest}'`),
      );
      state.defaultListener.bindAddress = v.one('an IP address or host name');
      state.listenerAt(v.where);
    },
  },
  {
    name: 'protocol',
    scope: 'listener',
    form: 'mqtt or websockets',
    apply(v, state) {
      state.listenerAt(v.where).protocol = v.oneOf(['mqtt', 'websockets'], 'mqtt or websockets');
    },
  },
  {
    name: 'certfile',
    scope: 'listener',
    form: 'a PEM certificate file path',
    apply(v, state) {
      state.listenerAt(v.where).certfile = v.path('a PEM certificate file path');
    },
  },
  {
    name: 'keyfile',
    scope: 'listener',
    form: 'a PEM private key file path',
    apply(v, state) {
      state.listenerAt(v.where).keyfile = v.path('a PEM private key file path');
    },
  },
  {
    name: 'cafile',
    scope: 'listener',
    form: 'a PEM CA certificate file path',
    apply(v, state) {
      state.listenerAt(v.where).cafile = v.path('a PEM CA certificate file path');
    },
  },
  {
    name: 'require_certificate',
    scope: 'listener',
    form: 'true or false',
    apply(v, state) {
      state.listenerAt(v.where).requireCertificate = v.bool();
    },
  },
  {
    name: 'use_identity_as_username',
    scope: 'listener',
    form: 'true or false',
    apply(v, state) {
      state.listenerAt(v.where).useIdentityAsUsername = v.bool();
    },
  },
];

/** A listener block, checked as a whole once the file is read (TLS needs both certfile and keyfile...). */
export function finishListener(d: ListenerDraft, source: string, perListener: boolean): ListenerConfig {
  const l: ListenerConfig = { port: d.port ?? 1883, protocol: d.protocol, source };
  // Errors point at the listener line, or the first default-listener directive.
  const where =
    d.where.line > 0 ? `${at(d.where)}${source === 'default listener' ? ' (default listener)' : ''}` : source;
  const fail = (text: string) => new MothershipError(ErrorCodes.CONFIG_INVALID_VALUE, `${where}: ${text}`);
  if (d.bindAddress !== undefined) l.bindAddress = d.bindAddress;
  if (d.certfile !== undefined || d.keyfile !== undefined) {
    if (d.certfile === undefined || d.keyfile === undefined)
      throw fail(
        `certfile and keyfile must be given together for TLS (got only ${d.certfile ? 'certfile' : 'keyfile'})`,
      );
    l.tls = {
      certfile: d.certfile,
      keyfile: d.keyfile,
      requireCertificate: d.requireCertificate ?? false,
      useIdentityAsUsername: d.useIdentityAsUsername ?? false,
    };
    if (d.cafile !== undefined) l.tls.cafile = d.cafile;
    if (l.tls.requireCertificate && !d.cafile)
      throw fail('require_certificate true needs a cafile to check client certificates against');
  } else if (d.requireCertificate || d.useIdentityAsUsername || d.cafile) {
    throw fail('cafile, require_certificate and use_identity_as_username need TLS: add certfile and keyfile');
  }
  if (perListener) {
    if (d.allowAnonymous !== undefined) l.allowAnonymous = d.allowAnonymous;
    if (d.passwordFile !== undefined) l.passwordFile = d.passwordFile;
    if (d.aclFile !== undefined) l.aclFile = d.aclFile;
  }
  return l;
}
