/** `mothership/config`: mosquitto.conf syntax for embedders, and the table a feature registers its directives in. */
export { type Directive, DirectiveTable, type Scope } from './directive-table.js';
export type { ConfigLine, Where } from './lexer.js';
export * from './mosquitto-conf.js';
export type { ListenerDraft, ParseState } from './parse-state.js';
export { DirectiveValue } from './values.js';
