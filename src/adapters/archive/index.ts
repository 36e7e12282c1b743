export * from './segment.js';
export * from './s3-archive.js';
export * from './apply.js';
export * from './ship.js';
export * from './verify-archive.js';
