/** `mothership/app`: the whole of `mothership up` for a program that embeds it. */
export { loadMothershipConfig, mothershipDirectives } from './config-file.js';
export { type Mothership, type MothershipOptions, startMothership } from './mothership.js';
