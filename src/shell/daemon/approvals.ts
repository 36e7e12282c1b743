/**
 * Refused plans and operators' approvals, kept in the journal as hash-chained `plan_records` rows
 * (adapters/journal/plan-records.ts), so they are as tamper-evident as the changes they let through,
 * and readable by the daemon whoever wrote them:
 *
 * - The daemon records each refused plan, whole, with its hash (`refused`).
 * - `rolemap approve RUN` approves exactly run RUN's plan, by hash (`approved`), recording who from
 *   the OS (uid and user name; `$SUDO_USER` as claimed, never alone). It refuses a run whose plan is
 *   not the one awaiting approval (a later refusal with other changes supersedes it).
 * - At its next run the daemon applies that plan as a saved plan (`mode: 'saved-plan'`,
 *   `approvedRefusal: true`); run-once re-plans and refuses it (exit-4 errors) unless the directory and
 *   AWS still give exactly its changes. Either way the approval is used up (`used`); the refusal is
 *   `cleared` once a plan is no longer refused or the approved plan was applied.
 *
 * Before this, refusals and approvals lived in `<journal>.refusal.json` and `<journal>.approvals.json`;
 * those files are ignored with a warning (the next refused run records its plan in the journal).
 */
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { SqliteJournal, describeApprover, textHash, type Approver, type PlanRecordRow } from '../../adapters/journal/index.js';
import { InvalidInputError } from '../../core/errors.js';
import { canonicalJson } from '../../core/plan/canonical-json.js';
import type { Plan, Refusal } from '../../core/plan/change.js';
import { shortHash } from '../../core/plan/plan-hash.js';
import { planFromJson } from '../../core/render/json.js';

export interface PendingRefusal {
  /** The refused run whose plan awaits approval: the latest refused run. */
  readonly runId: string;
  readonly refusal: Refusal;
  readonly planHash: string;
  readonly changes: number;
  /** When the daemon first refused a plan with these changes (later refusals of the same changes keep it). */
  readonly firstRunId: string;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  /** sha256 of what would be applied (owner id, changes, refusal): the same for every run refused with the same changes. */
  readonly contentHash: string;
}

export interface Approval {
  /** The run whose plan is approved. */
  readonly runId: string;
  readonly planHash: string;
  readonly approvedAt: string;
  /** `root (uid 0), via sudo by alice ($SUDO_USER, as claimed)`. */
  readonly approvedBy: string;
  readonly approver: Approver;
}

/** The legacy JSON files of rolemap before approvals moved into the journal. */
export function legacyApprovalFiles(journalPath: string): string[] {
  return [`${journalPath}.refusal.json`, `${journalPath}.approvals.json`].filter((f) => existsSync(f));
}

export const LEGACY_FILES_WARNING =
  'ignored: refused plans and approvals now live in the journal (plan_records); the next refused run records its plan there, approve it with rolemap approve RUN; these files can be deleted';

/** Who runs this process, from the OS; `$SUDO_USER` kept as what the environment claims. */
export function osApprover(env: NodeJS.ProcessEnv = process.env): Approver {
  let uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  let user = `uid ${uid}`;
  try {
    const info = userInfo();
    uid = info.uid;
    user = info.username;
  } catch {
    // no passwd entry for this uid: the uid alone
  }
  const sudo = env['SUDO_USER'];
  return { uid, user, sudoUser: sudo !== undefined && sudo !== '' ? sudo : null, host: hostname() };
}

/**
 * What would be applied, and to which AWS state, hashed: two runs refused with the same changes share it. A leaver's new
 * revocation entry holds the instant its plan was made; that instant is masked, so the same leavers
 * refused a minute later are the same plan.
 */
export function contentHash(plan: Plan): string {
  const at = plan.createdAt;
  const masked = (v: unknown): unknown => {
    if (v === at) return '<plan time>';
    if (Array.isArray(v)) return v.map(masked);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x)]));
    return v;
  };
  return textHash(canonicalJson(masked({ ownerId: plan.ownerId, actualDigest: plan.actualDigest, changes: plan.changes, refusal: plan.refusal })));
}

function pendingOf(row: PlanRecordRow, plan: Plan, first: { runId: string; at: string } | null): PendingRefusal {
  return {
    runId: row.run_id,
    refusal: plan.refusal ?? { code: (row.refusal_code ?? 'deletion-threshold') as Refusal['code'], message: row.detail ?? 'refused' },
    planHash: row.plan_hash,
    changes: row.changes ?? plan.changes.length,
    firstRunId: first?.runId ?? row.run_id,
    firstSeenAt: first?.at ?? row.at,
    lastSeenAt: row.at,
    contentHash: contentHash(plan),
  };
}

function approvalOf(row: PlanRecordRow): Approval {
  return {
    runId: row.run_id,
    planHash: row.plan_hash,
    approvedAt: row.at,
    approvedBy: describeApprover(row),
    approver: { uid: row.os_uid ?? -1, user: row.os_user ?? 'unknown', sudoUser: row.sudo_user, host: row.host ?? '' },
  };
}

export class ApprovalStore {
  readonly #journal: SqliteJournal;
  #pending: PendingRefusal | null | undefined;
  readonly #checked = new Map<number, boolean>();

  constructor(journal: SqliteJournal) {
    this.#journal = journal;
  }

  /** Opens the journal file (it must exist unless `create`), migrating it as any writer does. */
  static open(journalPath: string, options: { readonly create?: boolean } = {}): ApprovalStore {
    if (options.create !== true && !existsSync(journalPath)) throw new InvalidInputError(`no journal at ${journalPath}: nothing has been refused there (check journal.path, or --journal)`);
    return new ApprovalStore(SqliteJournal.open(journalPath));
  }

  get file(): string {
    return this.#journal.file;
  }

  close(): void {
    this.#journal.close();
  }

  /** The stored plan of a `refused` row, checked against its hash. */
  #planOf(row: PlanRecordRow): Plan {
    if (row.plan_json === null) throw new InvalidInputError(`journal ${this.file}: plan record ${row.id} (run ${row.run_id}) holds no plan`);
    if (textHash(row.plan_json) !== row.plan_hash) {
      throw new InvalidInputError(`journal ${this.file}: the stored plan of run ${row.run_id} does not match its hash ${shortHash(row.plan_hash)}: it was altered (run rolemap journal verify)`);
    }
    return planFromJson(row.plan_json, `the refused plan of run ${row.run_id}`);
  }

  /** The refused plan awaiting approval, if any. */
  pending(): PendingRefusal | null {
    if (this.#pending !== undefined) return this.#pending;
    const row = this.#journal.pendingRefusal();
    this.#pending = row === null ? null : pendingOf(row, this.#planOf(row), null);
    return this.#pending;
  }

  /** The daemon's run `runId` refused `plan`: recorded whole, with its hash; returns the pending refusal (`isNew` when its changes are new). */
  recordRefusal(runId: string, plan: Plan): { pending: PendingRefusal; isNew: boolean } {
    if (plan.refusal === null) throw new Error('recordRefusal: the plan is not refused');
    const before = this.pending();
    const text = canonicalJson(plan);
    const row = this.#journal.recordPlanEvent({
      event: 'refused',
      run_id: runId,
      plan_hash: textHash(text),
      plan_json: text,
      refusal_code: plan.refusal.code,
      changes: plan.changes.length,
      detail: plan.refusal.message,
    });
    const content = contentHash(plan);
    const same = before !== null && before.contentHash === content;
    this.#pending = pendingOf(row, plan, same ? { runId: before.firstRunId, at: before.firstSeenAt } : null);
    return { pending: this.#pending, isNew: !same };
  }

  /** The refusal no longer awaits approval (`byRunId` planned without refusal, or applied the approved plan). */
  clearRefusal(byRunId: string, detail: string): void {
    const p = this.pending();
    if (p === null) return;
    this.#journal.recordPlanEvent({ event: 'cleared', run_id: p.runId, plan_hash: p.planHash, by_run_id: byRunId, detail });
    this.#pending = null;
  }

  /** The approval the daemon has not used yet, its plan checked once per approval (for /healthz, which must stay cheap). */
  unusedApprovalOnly(): Approval | null {
    const row = this.#journal.unusedApproval();
    if (row === null) return null;
    let ok = this.#checked.get(row.id);
    if (ok === undefined) {
      try {
        ok = this.unusedApproval() !== null;
      } catch {
        ok = false;
      }
      this.#checked.set(row.id, ok);
    }
    return ok ? approvalOf(row) : null;
  }

  /** The approval the daemon has not used yet, with the plan it approves (checked against its hash). */
  unusedApproval(): { approval: Approval; plan: Plan } | null {
    const row = this.#journal.unusedApproval();
    if (row === null) return null;
    const refused = this.#journal.refusedPlanOf(row.run_id);
    if (refused === null || refused.plan_hash !== row.plan_hash) {
      throw new InvalidInputError(`journal ${this.file}: the approval of run ${row.run_id} names plan ${shortHash(row.plan_hash)}, which the journal does not hold`);
    }
    return { approval: approvalOf(row), plan: this.#planOf(refused) };
  }

  /** The daemon's run `byRunId` used the approval, whatever came of it (`detail`): it is not used again. */
  recordUsed(approval: Approval, byRunId: string, detail: string): void {
    this.#journal.recordPlanEvent({ event: 'used', run_id: approval.runId, plan_hash: approval.planHash, by_run_id: byRunId, detail });
  }

  /**
   * `rolemap approve RUN`: approves exactly run RUN's refused plan, by its hash. Refused when RUN's
   * plan was not refused by the daemon, when no refusal awaits approval, or when the one awaiting
   * approval has other changes (a later refusal superseded RUN's). Approving twice returns the first approval.
   */
  approve(runId: string, approver: Approver = osApprover()): { approval: Approval; plan: Plan; pending: PendingRefusal; already: boolean } {
    const row = this.#journal.refusedPlanOf(runId);
    if (row === null) {
      const run = this.#journal.runInfo(runId);
      if (run === null) throw new InvalidInputError(`journal ${this.file} has no run ${runId}; the refused run's id is in /healthz and the daemon's log ("the plan awaits an operator approval")`);
      throw new InvalidInputError(`run ${runId} (${run.trigger} ${run.mode}, ${run.outcome ?? 'unfinished'}) has no plan refused by the daemon awaiting approval; only the daemon's refused plans are approved (rolemap reconcile takes --allow-deletes N)`);
    }
    const plan = this.#planOf(row);
    const pending = this.pending();
    if (pending === null) {
      const cleared = this.#journal.lastPlanRecord('cleared');
      throw new InvalidInputError(
        `no refused plan awaits approval in journal ${this.file}${cleared ? `: the last refusal (run ${cleared.run_id}) was cleared by run ${cleared.by_run_id ?? '?'} at ${cleared.at} (${cleared.detail ?? ''})` : ''}`,
      );
    }
    if (pending.runId !== runId && pending.contentHash !== contentHash(plan)) {
      throw new InvalidInputError(
        `run ${runId}'s plan is not the one awaiting approval: run ${pending.runId} was refused since with other changes (${pending.refusal.code}, ${pending.changes} changes). ` +
          `Review that plan (rolemap journal show ${pending.runId}) and run: rolemap approve ${pending.runId}`,
      );
    }
    const existing = this.#journal.unusedApproval();
    if (existing !== null && existing.plan_hash === row.plan_hash) return { approval: approvalOf(existing), plan, pending, already: true };
    const approved = this.#journal.recordPlanEvent({
      event: 'approved',
      run_id: runId,
      plan_hash: row.plan_hash,
      refusal_code: row.refusal_code,
      changes: row.changes,
      os_uid: approver.uid,
      os_user: approver.user,
      sudo_user: approver.sudoUser,
      host: approver.host,
    });
    return { approval: approvalOf(approved), plan, pending, already: false };
  }
}
