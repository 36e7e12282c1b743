/**
 * Desired and actual states: what the role map and the directory want, and what AWS has now.
 */
import type { DirectoryUser, Guid } from './directory.js';
import type { Resource, ResourceKey, ResourceKind } from './resources.js';
import type { Entitlements } from './entitlements.js';
import type { AccountId } from './role-map.js';

/** Why an AD account is a leaver. */
export type LeaverReason = 'disabled' | 'expired' | 'removed-from-groups' | 'deleted-from-ad';

/** One grant a person holds: a federated role or a permission set on an account, and the AD group it came through. */
export interface Entitlement {
  readonly userGuid: Guid;
  readonly userName: string; // sAMAccountName
  /**
   * The other names a federated session of this person can carry (ADFS sends one of them as the
   * RoleSessionName, `leavers.roleSessionName`), kept with the grant so that a leaver who is gone from
   * AD (deleted, or moved out of the user base) is still revoked under the right name.
   */
  readonly userPrincipalName?: string | undefined;
  readonly mail?: string | undefined;
  readonly account: AccountId;
  readonly kind: 'iam_role' | 'permission_set';
  /** Role name or permission set name. */
  readonly target: string;
  readonly viaGroupGuid: Guid;
  readonly viaGroupName: string;
  /**
   * The last moment the directory showed this grant, when that is earlier than the snapshot it is kept in:
   * a leaver's or mover's former grant kept in the history until its revocation succeeded. Absent: the
   * snapshot's own time. Decides whether an existing revocation already covers the person's sessions.
   */
  readonly seenAt?: string | undefined;
}

/**
 * A set of names a person's federated sessions could carry (ADFS sends one of them as the
 * RoleSessionName, `leavers.roleSessionName`) before a rename in AD, and until when: a session opened
 * under them may still be live until `until` plus the role's (or permission set's) session duration.
 */
export interface FormerNames {
  readonly sAMAccountName: string;
  readonly userPrincipalName?: string | undefined;
  readonly mail?: string | undefined;
  /**
   * The latest moment the person may still have carried these names (ISO): the time of the first journal
   * snapshot after the last one that showed them (the rename happened before it), or when the fast lane
   * saw the rename. Absent: they may carry them now.
   */
  readonly until?: string | undefined;
}

/**
 * An AD account that has lost, or must lose, every grant. `formerEntitlements` are the grants it
 * held before (from the journal's last entitlement snapshot when one exists, otherwise from the
 * groups it is still a member of), which decide which roles and permission sets need revoking.
 */
export interface Leaver {
  readonly guid: Guid;
  readonly sAMAccountName: string;
  readonly userPrincipalName?: string | undefined;
  readonly mail?: string | undefined;
  readonly reason: LeaverReason;
  readonly formerEntitlements: readonly Entitlement[];
  /**
   * Names other than the ones above that their sessions may still carry (renamed in AD within the
   * longest session duration): their sessions are cut under these too. Absent: none known.
   */
  readonly formerNames?: readonly FormerNames[] | undefined;
  /**
   * When AD says it happened, when it says so: the account's expiry (`expired`), its whenChanged
   * (`disabled`: the last change of the account, usually the disabling). Deletions, moves and group
   * removals carry no time in AD: the plan says when rolemap saw them.
   */
  readonly happenedAt?: string | undefined;
}

/**
 * An active account that lost some grants but keeps others: each role or permission set it no longer
 * holds gets its sessions cut, like a leaver's (no Identity Center user or IAM user is touched).
 */
export interface Mover {
  readonly guid: Guid;
  readonly sAMAccountName: string;
  readonly userPrincipalName?: string | undefined;
  readonly mail?: string | undefined;
  /** The grants of the last snapshot for roles and permission sets the account no longer holds. */
  readonly lostEntitlements: readonly Entitlement[];
  /** Names their sessions may still carry from before a rename (see Leaver.formerNames). */
  readonly formerNames?: readonly FormerNames[] | undefined;
}

export interface DesiredState {
  /** Every resource rolemap wants to exist, each owned. */
  readonly resources: readonly Resource[];
  /**
   * Who holds what according to the directory and role map now (journaled as an entitlement snapshot):
   * grouped per grant (`GroupedEntitlements`, model/entitlements.ts) when computeDesired made it.
   */
  readonly entitlements: Entitlements;
  readonly leavers: readonly Leaver[];
  /** Active accounts that lost a role or permission set but hold others (absent: none). */
  readonly movers?: readonly Mover[] | undefined;
  /** Active users seen in mapped groups etc., for the safety checks and the journal. */
  readonly directory: { readonly users: number; readonly activeUsers: number; readonly groups: number };
  /** Users who appear in the directory (by guid), for leaver matching of linked IAM users. */
  readonly directoryUsers: ReadonlyMap<Guid, DirectoryUser>;
  /**
   * Keys of desired resources the role map allows rolemap to take over when an unowned object of the
   * same name exists (`adopt: true` on a role, `identityCenter.adoptUsers` / `adoptGroups`).
   */
  readonly adoptable?: ReadonlySet<ResourceKey> | undefined;
  /** Things people should know about the desired state, e.g. a role map group the directory does not have. */
  readonly warnings?: readonly string[] | undefined;
  /**
   * Role-map group references the directory no longer resolves: their mapping's current state is
   * held (plan/held.ts) and the daemon says degraded. Absent: every reference resolved.
   */
  readonly unresolved?: readonly UnresolvedReference[] | undefined;
  /**
   * Grants an access review revoked that AD still gives (core/review/effect.ts): taken out of
   * `entitlements`, and their sessions denied by the review policy until a later review re-approves them.
   */
  readonly reviewRevocations?: readonly ReviewRevocation[] | undefined;
  /**
   * Linked IAM users an access review revoked (`iam-user` rows, core/review/effect.ts): their access keys are
   * kept Inactive, console password removed and temporary credentials denied while the revocation stands.
   */
  readonly reviewIamUserRevocations?: readonly ReviewIamUserRevocation[] | undefined;
}

/** A linked IAM user revoked in an access review. */
export interface ReviewIamUserRevocation {
  readonly account: string;
  readonly userName: string;
  readonly person: { readonly guid: Guid; readonly sAMAccountName: string; readonly userPrincipalName?: string | undefined; readonly mail?: string | undefined };
  readonly campaignId: string;
  readonly campaignName: string;
  readonly rowId: string;
  readonly by: string;
  readonly decidedAt: string;
  /** `revoked in review Q1-2027 by M. Meyer on 2027-01-12`. */
  readonly reason: string;
}

/** One person's grant revoked in an access review while AD still grants it. */
export interface ReviewRevocation {
  readonly entitlement: Entitlement;
  /** Every AD group that still grants it (the operator should remove these memberships). */
  readonly groups: readonly string[];
  readonly campaignId: string;
  readonly campaignName: string;
  readonly rowId: string;
  /** Who decided (display name or UPN); `no decision by the due date` for ifNoDecision: revoke. */
  readonly by: string;
  readonly decidedAt: string;
  /** `revoked in review Q1-2027 by M. Meyer on 2027-01-12`. */
  readonly reason: string;
}

/** A role-map group reference that does not resolve (renamed or deleted AD group). */
export interface UnresolvedReference {
  /** `sAMAccountName=Data-Analysts`. */
  readonly reference: string;
  /** The group's objectGUID when the journal's history knows it (held by guid in the plan). */
  readonly groupGuid?: Guid | undefined;
  /** The group name the reference gives (lower case), to find its Identity Center group when the history does not know it. */
  readonly groupName?: string | undefined;
  readonly message: string;
}

/**
 * Part of AWS whose state could not be read this run (AssumeRole denied, the credentials act in
 * another account, a SAML provider missing, throttled out): its actual state is unknown, so the
 * plan holds everything there (nothing created, changed or deleted) and the run ends `partial`.
 */
export interface UnreadableScope {
  readonly kinds: readonly ResourceKind[];
  /** The account whose resources of `kinds` are unknown; absent: every account (a whole target failed). */
  readonly account?: AccountId | undefined;
  /** Who to name: `account prod (222222222222)`, `Identity Center`. */
  readonly name: string;
  /** Why, as the error said it. */
  readonly reason: string;
}

export interface ActualState {
  /** Every resource the targets read, owned or not (unowned ones are read so that collisions show). */
  readonly resources: readonly Resource[];
  /** Problems a target found while reading that do not stop the plan (e.g. an unowned role with a wanted name). */
  readonly warnings: readonly string[];
  /** What could not be read: nothing is planned there (see UnreadableScope). Absent: everything was read. */
  readonly unreadable?: readonly UnreadableScope[] | undefined;
}

/** Does `scope` cover resource `r`? */
export function scopeCovers(scope: UnreadableScope, r: { readonly kind: ResourceKind; readonly account: AccountId }): boolean {
  return scope.kinds.includes(r.kind) && (scope.account === undefined || scope.account === r.account);
}
