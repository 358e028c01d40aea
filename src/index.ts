export * from './broker/auth.js';
export * from './broker/options.js';
export * from './broker/types.js';
export * from './errors.js';
export * from './protocol/topic.js';
