export { IdentityCenterTarget, IDENTITY_CENTER_KINDS } from './identity-center-target.js';
export type { IdentityCenterTargetOptions } from './context.js';
export { userOwnershipScope, userOperations } from './users.js';
export { groupOperations } from './groups.js';
export { IdentityCenterError, AsyncRequestFailedError, NotOwnedError } from './errors.js';
export { InMemoryOwnershipRegistry } from './in-memory-ownership-registry.js';
export { TokenBucket, CallCounter, rateLimitPlugin } from './rate-limiter.js';
export { splitInlinePolicy, renderInlinePolicy, revocationStatement } from './revocation-statements.js';
