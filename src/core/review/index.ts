export * from './types.js';
export * from './routing.js';
export * from './population.js';
export * from './packet.js';
export * from './decisions.js';
export * from './status.js';
export * from './effect.js';
export * from './report.js';
