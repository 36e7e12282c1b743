export { ConfigError, SecretError, formatIssue, type ConfigIssue } from './config-error.js';
export { DEFAULT_CONFIG_PATH, configPathFrom, loadConfig, parseConfig } from './load-config.js';
export { describeSecretRef, resolveSecret } from './secret.js';
export { configSchema } from './schema.js';
export type * from './types.js';
