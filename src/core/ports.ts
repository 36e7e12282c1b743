/**
 * The interfaces the core defines and the adapters implement (dependencies point inward).
 */
import type { CampaignRecord } from './review/effect.js';
import type { DirectorySnapshot, GroupRef, Guid } from './model/directory.js';
import type { ResourceKind } from './model/resources.js';
import type { RoleMap } from './model/role-map.js';
import type { ActualState, FormerNames } from './model/state.js';
import type { Entitlements } from './model/entitlements.js';
import type { Change, Plan } from './plan/change.js';

/** What the directory source needs to know about the role map: which groups to read. */
export interface GroupSelection {
  readonly refs: readonly GroupRef[];
  /** Regexes (ADFS pattern rules) matched against group names (cn). */
  readonly namePatterns: readonly string[];
}

/** Reads a whole snapshot or throws; never returns a partial one. */
export interface DirectorySource {
  readonly describe: string;
  read(groups: GroupSelection): Promise<DirectorySnapshot>;
}

/** Outcome of applying one change: AWS request ids of every mutating call it made, in order. */
export interface ApplyOutcome {
  readonly requestIds: readonly string[];
  /** Extra facts for the journal, e.g. an async request id and its final status. */
  readonly detail?: Readonly<Record<string, string>> | undefined;
}

/**
 * An AWS target: one family of resource kinds (IAM roles, IAM users, Identity Center).
 * It reads actual state and applies one change at a time; it knows nothing of dry runs,
 * plans or the journal.
 */
export interface Target {
  readonly name: string;
  readonly kinds: readonly ResourceKind[];
  /** Everything of its kinds that exists, owned or not; throws a typed error when it cannot read. */
  readActual(roleMap: RoleMap): Promise<ActualState>;
  /** Apply one change; throws a typed error (with `requestId` when AWS gave one) on failure. */
  apply(change: Change, signal?: AbortSignal): Promise<ApplyOutcome>;
  /**
   * Why this change would not be sent now (its endpoint stopped answering), or undefined. Asked
   * before each change: the engine skips it with this cause instead of trying and failing.
   */
  unavailable?(change: Change): string | undefined;
}

/** Wraps each change during apply; the journal plugs in here. Hooks are synchronous: they never await. */
export interface ApplyHooks {
  /** Before the AWS call: the intent. */
  preApply?(change: Change): void;
  /** After it: success with its request ids. */
  postApply?(change: Change, outcome: ApplyOutcome): void;
  /** After it: failure. */
  applyFailed?(change: Change, error: unknown): void;
  /** A change that never ran because something it depends on failed, or the run was stopped. */
  skipped?(change: Change, why: string): void;
}

/**
 * Every set of session names a person was journaled under, by objectGUID (see `EntitlementHistory.names`).
 * Only `get` is part of it: a `ReadonlyMap` is one, and so is a journal that reads a person's rows when asked.
 */
export interface FormerNamesLookup {
  get(guid: Guid): readonly FormerNames[] | undefined;
}

/** The journal's memory of who held what, used to tell leavers who were removed or deleted. */
export interface EntitlementHistory {
  /** The last entitlement snapshot written (grouped per grant when the journal read it), or null when the journal has none (first run). */
  readonly last: Entitlements | null;
  /**
   * When that snapshot was written (ISO). A revocation made before the moment someone was last seen
   * holding a grant (re-added since) no longer covers their sessions: the next removal gets a new instant.
   * Absent (a journal that does not say): existing revocations are taken to cover them.
   */
  readonly at?: string | null | undefined;
  /**
   * Every set of session names (sAMAccountName, UPN, mail) each person (by objectGUID, as in `last`) was
   * journaled under within the longest session that could still be live (`LONGEST_SESSION_SECONDS`
   * before the time asked for), each with `until`: the time of the first snapshot after the last one
   * that showed it (absent when the last snapshot shows it). A person renamed in AD before leaving is
   * revoked under each of them. Absent: the journal does not say (only `last`'s names are known).
   * Asked only for leavers and movers, so a journal may look each person up when asked (a Map is one).
   */
  readonly names?: FormerNamesLookup | undefined;
}

/** Where a run came from and what it may do. */
/** `fast-lane`: the daemon's leaver fast lane (only leavers' revocations and removals, from the state last known). */
export type RunMode = 'dry-run' | 'apply' | 'saved-plan' | 'fast-lane';
export type RunTrigger = 'cli' | 'daemon' | 'demo' | 'test';
export type RunOutcome = 'no-changes' | 'planned' | 'applied' | 'partial' | 'failed' | 'refused' | 'interrupted';

export interface RunStart {
  readonly runId: string;
  readonly trigger: RunTrigger;
  readonly mode: RunMode;
  readonly host: string;
  readonly version: string;
  /** sha256 of the config file's bytes. */
  readonly configHash: string;
  readonly startedAt: string;
  /** The process running it (on `host`): a later run closes a dry run whose process is gone. */
  readonly pid?: number | undefined;
}

/** Another name an AD user is known by (UPN, mail), so auditors can ask for a person by any of them. */
export interface PrincipalAlias {
  readonly alias: string;
  readonly guid: string;
}

/**
 * What a run needs from the journal (the SQLite adapter implements it). Every method is synchronous:
 * each write is its own transaction and none stays open across an await.
 */
export interface RunJournal {
  startRun(run: RunStart): void;
  /** Records the plan's changes: status `planned` on a dry run, `pending` before an apply. */
  recordPlan(runId: string, plan: Plan): void;
  /** Intent / outcome rows around each AWS mutation. */
  hooks(runId: string): ApplyHooks;
  /** The entitlements after the run: written after an apply, and when who holds what changed though AWS needs no change. */
  recordEntitlements(runId: string, at: string, entitlements: Entitlements, aliases?: readonly PrincipalAlias[]): void;
  finishRun(runId: string, end: { readonly outcome: RunOutcome; readonly finishedAt: string; readonly error?: string | undefined; readonly directory?: { readonly users: number; readonly groups: number } | undefined }): void;
  /** The last entitlement snapshot, for telling leavers. */
  /**
   * The history as of `now` (default: the journal's clock): `names` reaches back the longest session
   * duration from it.
   */
  entitlementHistory(now?: Date): EntitlementHistory;
  /** A plan handed out to be applied later (`--plan-out`, `--json`): its hash (`planHash`), so a saved plan can be told from an edited one. */
  recordSavedPlan(runId: string, planHash: string, changes: number): void;
  /** Whether the journal recorded a plan with this hash as saved (or refused awaiting approval): only such a plan may be applied later. */
  isPlanRecorded(planHash: string): boolean;
  /** The tamper-evident chain's last row (id and hash), logged at the end of each run as an anchor outside the database. */
  chainHead?(): { readonly id: number; readonly hash: string } | null;
  /** Every access review campaign with its rows and decisions (core/review), oldest first; absent: none. */
  reviewCampaigns?(): readonly CampaignRecord[];
}

/**
 * Ownership of objects that cannot carry a tag (Identity Center users): which AWS ids rolemap
 * created, for which AD guid. The journal implements it in SQLite; tests may use a Map.
 */
export interface OwnershipRegistry {
  /** AWS id (identity store UserId) -> AD guid, for objects this owner created in that store. */
  owned(scope: string): ReadonlyMap<string, string>;
  /** Record that rolemap created (or adopted) an object; synchronous, its own transaction. */
  record(scope: string, awsId: string, guid: string): void;
  /** Forget an object rolemap deleted. */
  forget(scope: string, awsId: string): void;
  /**
   * Creates of `kind` that were sent but whose outcome was never recorded (the process died between
   * the AWS call and the journal): the AD guid and the AWS name the create carried. Lets a target
   * recover ownership of what it created just before a crash. Optional: in-memory registries have none.
   */
  unconfirmedCreates?(kind: string): readonly { readonly guid: string; readonly name: string; readonly runId: string; readonly seq: number }[];
}
