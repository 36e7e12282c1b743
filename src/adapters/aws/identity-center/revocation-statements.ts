/**
 * The permission-set revocation statements live in the core (`src/core/model/permission-set-revocations.ts`):
 * the plan counts the inline-policy quota with the same rendering the target writes.
 */
export { CONDITION_KEY, PERMISSION_SET_INLINE_POLICY_QUOTA, inlinePolicySize, renderInlinePolicy, revocationStatement, splitInlinePolicy } from '../../../core/model/permission-set-revocations.js';
