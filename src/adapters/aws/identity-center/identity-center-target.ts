/**
 * The Identity Center target: Identity Store users, groups and memberships, and SSO Admin permission sets,
 * leavers' revocation statements and account assignments. One module per resource kind holds that kind's
 * read and apply (users.ts, groups.ts, memberships.ts, permission-sets.ts, permission-set-revocations.ts,
 * account-assignments.ts); context.ts holds what they share. This class composes them behind the Target port.
 *
 * Reading is built for few calls: `ListUsers` and `ListGroups` at 100 a page, memberships only for the
 * groups rolemap owns, permission sets in full only when the config names them or they carry the owner tag,
 * assignments only for owned permission sets on the configured accounts.
 *
 * Applying follows AWS's rules for this API family: one client-side token bucket (20 requests per second by
 * default) shared by both clients, on top of the SDK's adaptive retry; at most 10 assignment operations in
 * flight; asynchronous requests polled with backoff until SUCCEEDED or FAILED; `ConflictException` retried
 * with backoff; every permission set change re-provisioned where the set is provisioned.
 *
 * Ownership: groups by their description marker, permission sets by the `rolemap:owner` tag, users by the
 * OwnershipRegistry (the Identity Store API cannot mark users). A change to an object rolemap does not own is
 * refused here too (defence in depth behind the core's ownership filter), except adoption the role map opts into.
 */
import type { Resource, ResourceKind } from '../../../core/model/resources.js';
import type { RoleMap } from '../../../core/model/role-map.js';
import type { ActualState } from '../../../core/model/state.js';
import type { Change } from '../../../core/plan/change.js';
import type { ApplyOutcome, Target } from '../../../core/ports.js';
import { applyAssignment, parseAssignmentId, readAssignments } from './account-assignments.js';
import { IdentityCenterContext, settingsFrom } from './context.js';
import type { ApplyLog, IdentityCenterTargetOptions, Settings } from './context.js';
import { IdentityCenterError, NotOwnedError, toIdentityCenterError } from './errors.js';
import { applyGroup, readGroups } from './groups.js';
import { applyMembership, readMemberships } from './memberships.js';
import { applyRevocations } from './permission-set-revocations.js';
import { applyPermissionSet, readPermissionSets } from './permission-sets.js';
import { applyUser, readUsers } from './users.js';

export const IDENTITY_CENTER_KINDS = [
  'identitystore_group',
  'identitystore_user',
  'identitystore_membership',
  'sso_permission_set',
  'sso_permission_set_revocations',
  'sso_account_assignment',
] as const satisfies readonly ResourceKind[];

export class IdentityCenterTarget implements Target {
  readonly name = 'identity-center';
  readonly kinds: readonly ResourceKind[] = IDENTITY_CENTER_KINDS;

  readonly #ctx: IdentityCenterContext;

  constructor(options: IdentityCenterTargetOptions) {
    this.#ctx = new IdentityCenterContext(options);
  }

  /** Calls per operation made through this target's clients (every attempt), for benchmarks and run summaries. */
  callCounts(): Record<string, number> {
    return this.#ctx.counter.snapshot();
  }
  totalCalls(): number {
    return this.#ctx.counter.total();
  }
  resetCallCounts(): void {
    this.#ctx.counter.reset();
  }

  // ---------------------------------------------------------------- reading

  async readActual(roleMap: RoleMap): Promise<ActualState> {
    const s = settingsFrom(roleMap);
    this.#ctx.settings = s;
    this.#ctx.clearIds();
    if (!s) return { resources: [], warnings: [] };
    try {
      return await this.#read(s);
    } catch (e) {
      throw toIdentityCenterError(e, `identity store ${s.identityStoreId} / ${s.instanceArn}`, 'readActual');
    }
  }

  async #read(s: Settings): Promise<ActualState> {
    const ctx = this.#ctx;
    const [users, groups] = await Promise.all([readUsers(ctx, s), readGroups(ctx, s)]);
    const memberships = await readMemberships(ctx, s, groups.owned, users.byUserId);
    const permissionSets = await readPermissionSets(ctx, s);
    const assignments = await readAssignments(ctx, s, permissionSets.owned, users.byUserId, groups.byGroupId);
    const resources: Resource[] = [...users.resources, ...groups.resources, ...memberships, ...permissionSets.resources, ...assignments];
    const warnings = [...users.warnings, ...groups.warnings, ...permissionSets.warnings];
    return { resources, warnings };
  }

  // ---------------------------------------------------------------- applying

  async apply(change: Change, signal?: AbortSignal): Promise<ApplyOutcome> {
    const ctx = this.#ctx;
    const log: ApplyLog = { requestIds: [], detail: {} };
    try {
      this.#guardOwnership(change);
      switch (change.kind) {
        case 'identitystore_user':
          await applyUser(ctx, change, log, signal);
          break;
        case 'identitystore_group':
          await applyGroup(ctx, change, log, signal);
          break;
        case 'identitystore_membership':
          await applyMembership(ctx, change, log, signal);
          break;
        case 'sso_permission_set':
          await ctx.psLock.run(change.key.slice(change.kind.length + 1), 'exclusive', () => applyPermissionSet(ctx, change, log, signal));
          break;
        case 'sso_permission_set_revocations':
          await ctx.psLock.run(change.key.slice(change.kind.length + 1), 'exclusive', () => applyRevocations(ctx, change, log, signal));
          break;
        case 'sso_account_assignment': {
          const psName = parseAssignmentId(((change.after ?? change.before) as Resource).id).psName;
          await ctx.psLock.run(psName, 'shared', () => ctx.assignments.run(() => applyAssignment(ctx, change, log, signal)));
          break;
        }
        default:
          throw new IdentityCenterError(`the Identity Center target does not handle ${change.kind}`, { code: 'WrongTarget', retryable: false, subject: change.address });
      }
    } catch (e) {
      const err = toIdentityCenterError(e, change.address, `${change.action} ${change.kind}`);
      err.requestIds = [...log.requestIds];
      throw err;
    }
    const { requestIds, detail } = log;
    return Object.keys(detail).length > 0 ? { requestIds, detail } : { requestIds };
  }

  /** Refuses changes to objects rolemap does not own, except the adoption the role map opts into. */
  #guardOwnership(change: Change): void {
    const before = change.before;
    if (!before || before.owned) return;
    const s = this.#ctx.s();
    const adopt = change.action === 'update' && ((change.kind === 'identitystore_user' && s.adoptUsers) || (change.kind === 'identitystore_group' && s.adoptGroups));
    if (!adopt) {
      const hint = change.kind === 'identitystore_user' ? ' (set identityCenter.adoptUsers to adopt it)' : change.kind === 'identitystore_group' ? ' (set identityCenter.adoptGroups to adopt it)' : '';
      throw new NotOwnedError(change.address, `${change.address} exists but was not created by rolemap (owner ${s.ownerId}); refusing to ${change.action} it${hint}`);
    }
  }
}
