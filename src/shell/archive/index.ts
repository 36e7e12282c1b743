export * from './from-config.js';
export * from './metrics.js';
export * from './ship-after-run.js';
export * from './daemon-shipper.js';
