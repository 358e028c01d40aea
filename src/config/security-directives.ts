/** Who may connect and what they may do: mosquitto 2's security directives, plus our `lan` and subscribe check. */

import { ErrorCodes, MothershipError } from '../errors.js';
import type { AllowAnonymous } from './config-types.js';
import type { Directive } from './directive-table.js';
import { at } from './lexer.js';
import type { ParseState } from './parse-state.js';
import { boolean } from './values.js';

const anonymousForm = 'true, false or lan (anonymous from this machine and the local network only)';

export const securityDirectives: Directive<ParseState>[] = [
  {
    name: 'per_listener_settings',
    scope: 'global',
    form: 'true or false',
    apply(v, state) {
      const on = v.bool();
      // As mosquitto 2: otherwise earlier security settings would silently change meaning.
      if (on && state.securitySeen)
        throw new MothershipError(
          ErrorCodes.CONFIG_INVALID_VALUE,
          `${at(v.where)}: per_listener_settings must be set before any other security settings (allow_anonymous, password_file, acl_file)`,
        );
      state.config.perListenerSettings = on;
    },
  },
  {
    name: 'allow_anonymous',
    scope: 'security',
    form: anonymousForm,
    apply(v, state) {
      const word = v.one(anonymousForm);
      const allow: AllowAnonymous = word === 'lan' ? 'lan' : boolean(v.where, v.name, word, anonymousForm);
      state.security(
        (l) => (l.allowAnonymous = allow),
        () => (state.config.allowAnonymous = allow),
      );
    },
  },
  {
    name: 'password_file',
    scope: 'security',
    form: 'a file path',
    apply(v, state) {
      const p = v.path();
      state.security(
        (l) => (l.passwordFile = p),
        () => (state.config.passwordFile = p),
      );
    },
  },
  {
    name: 'acl_file',
    scope: 'security',
    form: 'a file path',
    apply(v, state) {
      const p = v.path();
      state.security(
        (l) => (l.aclFile = p),
        () => (state.config.aclFile = p),
      );
    },
  },
  {
    name: 'check_subscribe_acl',
    scope: 'global',
    form: 'true or false',
    apply(v, state) {
      state.config.checkSubscribeAcl = v.bool();
    },
  },
];
