/**
 * Access re-certification (issue 14): the data model shared by the core, the shell, the journal and the
 * renderers (CSV / JSON here, HTML in `src/shell/review/html*`). Pure data: no behaviour, no clock.
 *
 * Lifecycle: a Campaign snapshots the population (ReviewRow: one person x one entitlement), routes each
 * row to a reviewer, groups the rows into one Packet per reviewer (sealed by a sha256 over its canonical
 * JSON), imports Decisions against those packets, and the ReportModel is the auditor's evidence.
 */
import type { Guid } from '../model/directory.js';
import type { AccountId } from '../model/role-map.js';

/** ISO-8601 UTC instant, `2027-01-12T09:30:00.000Z`. */
export type Instant = string;

/** What a campaign covers: everything, or only some accounts / granting AD groups (names or DNs). */
export interface CampaignScope {
  /** Account ids (or aliases, resolved at start) whose entitlements are reviewed; empty: every account. */
  readonly accounts: readonly AccountId[];
  /** AD group names (cn / sAMAccountName, case-insensitive) whose grants are reviewed; empty: every group. */
  readonly groups: readonly string[];
}

export interface Campaign {
  /** Stable id: `<name>` made safe (`Q1-2027`); unique in the journal. */
  readonly id: string;
  /** What people call it: `Q1-2027`. */
  readonly name: string;
  readonly scope: CampaignScope;
  readonly createdAt: Instant;
  /** Rows still undecided after this follow `reviews.ifNoDecision`. */
  readonly due: Instant;
  /** Counts at start (the rows themselves are `ReviewRow`s, journaled one by one). */
  readonly population: {
    readonly people: number;
    readonly rows: number;
    readonly reviewers: number;
  };
  /**
   * Accounts whose IAM could not be read at start (AccessDenied, endpoint down): their rows have no role
   * last use and no linked IAM users were read there. Absent: every account read (or AWS not read at all,
   * `awsRead: false`).
   */
  readonly awsNotRead?: readonly { readonly account: AccountId; readonly reason: string }[] | undefined;
  /** False when the campaign was started without reading AWS (`review start --no-aws`). */
  readonly awsRead?: boolean | undefined;
}

export type EntitlementKind = 'federated-role' | 'permission-set' | 'iam-user';

/** A person as the directory showed them at campaign start. */
export interface ReviewPerson {
  readonly objectGUID: Guid;
  readonly sAMAccountName: string;
  readonly userPrincipalName?: string | undefined;
  readonly displayName?: string | undefined;
  readonly mail?: string | undefined;
  readonly department?: string | undefined;
  readonly title?: string | undefined;
}

export interface GrantingGroup {
  readonly dn: string;
  readonly name: string;
  readonly description?: string | undefined;
  readonly guid: Guid;
}

export interface AccessKeyContext {
  readonly accessKeyId: string;
  readonly status: 'Active' | 'Inactive';
  /** AccessKeyLastUsed.LastUsedDate when AWS has one. */
  readonly lastUsedAt?: Instant | undefined;
}

export interface ReviewEntitlement {
  readonly kind: EntitlementKind;
  readonly accountId: AccountId;
  readonly accountAlias?: string | undefined;
  /** Role name (federated-role), permission set name (permission-set), IAM user name (iam-user). */
  readonly name: string;
  /** The AD group that grants it (absent for a linked IAM user, which no group grants). */
  readonly group?: GrantingGroup | undefined;
  /** Earliest journal entitlement snapshot showing this person with this grant; absent: the journal has none before this campaign. */
  readonly firstGrantedAt?: Instant | undefined;
  /** IAM users only: their access keys. */
  readonly accessKeys?: readonly AccessKeyContext[] | undefined;
}

/** What a manager can judge by. */
export interface ReviewContext {
  /** The role's or permission set's description. */
  readonly description?: string | undefined;
  /** Attached managed policies by name (ARN tail), and inline policy names. */
  readonly policies: readonly string[];
  readonly lastUsed: {
    /**
     * IAM `RoleLastUsed.LastUsedDate`: when ANYONE last used the role. AWS records it per role, not per
     * person; `perRoleNotPerPerson` is always true so that every renderer can say so plainly.
     */
    readonly roleLastUsedAt?: Instant | undefined;
    readonly roleLastUsedRegion?: string | undefined;
    readonly perRoleNotPerPerson: true;
    /** IAM users: the latest AccessKeyLastUsed over their keys (per person). */
    readonly accessKeyLastUsedAt?: Instant | undefined;
  };
}

/** How a row's reviewer was chosen. */
export type RoutedBy = 'manager' | 'manager-of-manager' | 'configured-fallback' | 'group-override';

export interface Reviewer {
  /** Absent for a configured fallback / group override that names only a UPN not found in AD. */
  readonly objectGUID?: Guid | undefined;
  /** The identity decisions are checked against (case-insensitive). */
  readonly userPrincipalName: string;
  readonly displayName?: string | undefined;
}

export interface ReviewRow {
  readonly campaignId: string;
  /**
   * Stable and unique within the campaign: `sha256(person guid, kind, account, name)` first 16 hex, so
   * the same grant has the same id in every campaign and in every export of this one.
   */
  readonly rowId: string;
  readonly person: ReviewPerson;
  readonly entitlement: ReviewEntitlement;
  readonly context: ReviewContext;
  readonly reviewer: Reviewer;
  readonly routedBy: RoutedBy;
  /** Why the router went past the manager (`manager kmeyer is disabled`), for the report. */
  readonly routingNote?: string | undefined;
}

export interface Packet {
  readonly campaign: Campaign;
  readonly reviewer: Reviewer;
  /** Sorted by person then entitlement (sAMAccountName, kind, account, name). */
  readonly rows: readonly ReviewRow[];
  /** sha256 (hex) of canonicalJson({campaign id, reviewer UPN lower case, rows}): `packetHash()`. */
  readonly sha256: string;
}

export type DecisionVerdict = 'approve' | 'revoke';

export interface Decision {
  readonly campaignId: string;
  readonly rowId: string;
  readonly verdict: DecisionVerdict;
  readonly justification: string;
  /** UPN of who decided (must be the row's reviewer). */
  readonly reviewer: string;
  readonly decidedAt: Instant;
  /** The packet hash the decision file carried. */
  readonly packetSha256: string;
}

export type RowStatus = 'approved' | 'revoked' | 'pending' | 'overdue';

export interface ReviewerStatus {
  readonly reviewer: Reviewer;
  readonly rows: number;
  readonly approved: number;
  readonly revoked: number;
  readonly pending: number;
  /** Pending after the due date. */
  readonly overdue: number;
}

export interface ExecutedRevocation {
  readonly rowId: string;
  readonly personGuid: Guid;
  readonly entitlement: string;
  /** Journal run id and the AWS request ids of the change that carried the revocation. */
  readonly runId: string;
  readonly changeAddress: string;
  readonly requestIds: readonly string[];
  readonly at: Instant;
}

export interface ReportModel {
  readonly campaign: Campaign;
  readonly generatedAt: Instant;
  readonly population: readonly ReviewRow[];
  /** One per row that has one (the latest accepted): with reviewer and time. */
  readonly decisions: readonly Decision[];
  /** Rows past due without a decision, and what `ifNoDecision` did with them. */
  readonly undecided: { readonly ifNoDecision: 'keep' | 'revoke'; readonly rowIds: readonly string[] };
  readonly executedRevocations: readonly ExecutedRevocation[];
  readonly journalVerify: { readonly ok: boolean; readonly rows: number; readonly message: string };
  readonly reviewers: readonly ReviewerStatus[];
}
