export { IdentityCenterTarget, IDENTITY_CENTER_KINDS, userOwnershipScope, userOperations, groupOperations } from './identity-center-target.js';
export type { IdentityCenterTargetOptions } from './identity-center-target.js';
export { IdentityCenterError, AsyncRequestFailedError, NotOwnedError } from './errors.js';
export { InMemoryOwnershipRegistry } from './in-memory-ownership-registry.js';
export { TokenBucket, CallCounter, rateLimitPlugin } from './rate-limiter.js';
export { splitInlinePolicy, renderInlinePolicy, revocationStatement } from './revocation-statements.js';
