export { HaRole } from './ha-role.js';
export type { HaRoleDeps, HaRoleName, HaStatus } from './ha-role.js';
export { HaMetrics } from './metrics.js';
export { haRoleFor } from './from-config.js';
