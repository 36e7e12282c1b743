/**
 * Refused plans and operator approvals, kept in two small JSON files next to the journal until the
 * journal grows tables for them (each file has one writer, and each write is atomic: a temporary
 * file, fsync, rename):
 *
 * - `<journal>.refusal.json`, written by the daemon: the refused plan awaiting approval (the whole
 *   plan, so that exactly what the operator approved is what gets applied), with its run id.
 * - `<journal>.approvals.json`, written by `rolemap approve RUN`: every approval ever given (an
 *   append-only list, kept as a record).
 *
 * An approval matches the pending refusal when run id, refusal code, the plan's `actualDigest` and
 * its number of changes are the same. The daemon then applies the stored plan as a saved plan
 * (`mode: 'saved-plan'`, `approvedRefusal: true`), which refuses when the AWS state changed since
 * the plan was made; a stale approval is discarded and the next run plans afresh.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { InvalidInputError } from '../../core/errors.js';
import type { Plan, Refusal } from '../../core/plan/change.js';

export interface PendingRefusal {
  /** The first run refused with this plan; what the operator approves. */
  readonly runId: string;
  readonly refusal: Refusal;
  readonly actualDigest: string;
  readonly changes: number;
  readonly firstSeenAt: string;
  /** Later runs refused with the same plan keep this pending refusal and update these. */
  readonly lastRunId: string;
  readonly lastSeenAt: string;
  readonly plan: Plan;
}

export interface Approval {
  readonly runId: string;
  readonly code: Refusal['code'];
  readonly actualDigest: string;
  readonly changes: number;
  readonly approvedAt: string;
  readonly approvedBy: string;
  readonly host: string;
}

export function refusalPathFor(journalPath: string): string {
  return `${journalPath}.refusal.json`;
}
export function approvalsPathFor(journalPath: string): string {
  return `${journalPath}.approvals.json`;
}

/** Same refusal and same plan: the approval of one holds for the other. */
export function samePlanRefusal(a: { refusal: Refusal; actualDigest: string; changes: number }, plan: Plan): boolean {
  return plan.refusal !== null && a.refusal.code === plan.refusal.code && a.actualDigest === plan.actualDigest && a.changes === plan.changes.length;
}

/** The pending refusal once run `runId` refused `plan`: the current one, seen again, when the plan is the same; else a new one. */
export function nextPendingRefusal(current: PendingRefusal | null, runId: string, plan: Plan, refusal: Refusal, at: Date): PendingRefusal {
  if (current && samePlanRefusal(current, plan)) return { ...current, lastRunId: runId, lastSeenAt: at.toISOString() };
  return { runId, refusal, actualDigest: plan.actualDigest, changes: plan.changes.length, firstSeenAt: at.toISOString(), lastRunId: runId, lastSeenAt: at.toISOString(), plan };
}

export function approvalMatches(approval: Approval, pending: PendingRefusal): boolean {
  return approval.runId === pending.runId && approval.code === pending.refusal.code && approval.actualDigest === pending.actualDigest && approval.changes === pending.changes;
}

export class ApprovalStore {
  readonly refusalPath: string;
  readonly approvalsPath: string;

  constructor(readonly journalPath: string) {
    this.refusalPath = refusalPathFor(journalPath);
    this.approvalsPath = approvalsPathFor(journalPath);
  }

  pending(): PendingRefusal | null {
    return readJson<PendingRefusal | null>(this.refusalPath, null);
  }

  /** Records a refused plan; keeps the earlier pending refusal (and its run id) when the plan is the same. */
  recordRefusal(runId: string, plan: Plan, at: Date): PendingRefusal {
    if (plan.refusal === null) throw new Error('recordRefusal: the plan is not refused');
    const next = nextPendingRefusal(this.pending(), runId, plan, plan.refusal, at);
    writeJsonAtomic(this.refusalPath, next);
    return next;
  }

  clearRefusal(): void {
    if (this.pending() !== null) writeJsonAtomic(this.refusalPath, null);
  }

  approvals(): readonly Approval[] {
    return readJson<{ approvals: Approval[] }>(this.approvalsPath, { approvals: [] }).approvals;
  }

  /** The approval of the pending refusal, if given. */
  approvalFor(pending: PendingRefusal): Approval | null {
    return this.approvals().find((a) => approvalMatches(a, pending)) ?? null;
  }

  /** `rolemap approve RUN`: approves the pending refusal when RUN is its run (or a later run refused with the same plan). */
  approve(runId: string, at: Date, by: string = operatorName()): Approval {
    const pending = this.pending();
    if (!pending) throw new InvalidInputError(`no refused plan is awaiting approval for journal ${this.journalPath} (nothing in ${this.refusalPath})`);
    if (runId !== pending.runId && runId !== pending.lastRunId) {
      throw new InvalidInputError(`run ${runId} is not the refused run awaiting approval; that is run ${pending.runId} (${pending.refusal.code}: ${pending.refusal.message}), last refused again in run ${pending.lastRunId}`);
    }
    const approval: Approval = {
      runId: pending.runId,
      code: pending.refusal.code,
      actualDigest: pending.actualDigest,
      changes: pending.changes,
      approvedAt: at.toISOString(),
      approvedBy: by,
      host: hostname(),
    };
    writeJsonAtomic(this.approvalsPath, { approvals: [...this.approvals(), approval] });
    return approval;
  }
}

function operatorName(): string {
  const sudo = process.env['SUDO_USER'];
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  return sudo && sudo !== user ? `${sudo} (via sudo as ${user})` : user;
}

function readJson<T>(path: string, empty: T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new InvalidInputError(`${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Temporary file in the same directory, fsync, rename: readers see the old or the new file, never half. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
