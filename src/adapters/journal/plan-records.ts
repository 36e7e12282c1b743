/**
 * `plan_records`: plans handed out to be applied later, and operators' approvals of refused plans,
 * as a hash-chained, append-only table of the journal (migrations/NNN_plan_records.sql). Its own chain,
 * of the same form as `change_events`: row n stores `prev_hash` = hash of row n-1 and `hash` =
 * sha256(prev_hash, its columns); `rolemap journal verify` walks it.
 *
 * - `saved`: a plan written out (`--plan-out`, `--json`); `--plan FILE` applies only a plan whose hash is here.
 * - `refused`: the daemon's refused plan, whole, awaiting approval.
 * - `approved`: `rolemap approve RUN` approved that run's plan, by hash; who approved it comes from the OS.
 * - `used`: the daemon used the approval (whatever came of it); an approval is used once.
 * - `cleared`: the refusal no longer awaits approval.
 */
import { createHash } from 'node:crypto';
import { GENESIS, chainHash } from './chain.js';
import { inTransaction, type SqliteDatabase } from './sqlite.js';

export type PlanRecordEvent = 'saved' | 'refused' | 'approved' | 'used' | 'cleared';

/** plan_records columns in the order they are hashed (prev_hash and hash excluded). */
export const PLAN_RECORD_COLUMNS = [
  'id',
  'at',
  'event',
  'run_id',
  'plan_hash',
  'plan_json',
  'refusal_code',
  'changes',
  'by_run_id',
  'os_uid',
  'os_user',
  'sudo_user',
  'host',
  'detail',
] as const;

export interface PlanRecordContent {
  readonly id: number;
  readonly at: string;
  readonly event: PlanRecordEvent;
  readonly run_id: string;
  readonly plan_hash: string;
  readonly plan_json: string | null;
  readonly refusal_code: string | null;
  readonly changes: number | null;
  readonly by_run_id: string | null;
  readonly os_uid: number | null;
  readonly os_user: string | null;
  readonly sudo_user: string | null;
  readonly host: string | null;
  readonly detail: string | null;
}
export type PlanRecordRow = PlanRecordContent & { readonly prev_hash: string; readonly hash: string };
export type PlanRecordInput = Partial<Omit<PlanRecordContent, 'id' | 'at' | 'event' | 'run_id' | 'plan_hash'>> &
  Pick<PlanRecordContent, 'event' | 'run_id' | 'plan_hash'>;

export function planRecordHash(prevHash: string, row: PlanRecordContent): string {
  return chainHash(prevHash, PLAN_RECORD_COLUMNS.map((c) => row[c]));
}

/** sha256 of a stored plan's JSON text, as `planHash` computes it over the canonical form. */
export function textHash(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Who approved, as the OS says: uid and user name of the process; `$SUDO_USER` only as claimed. */
export interface Approver {
  readonly uid: number;
  readonly user: string;
  /** `$SUDO_USER` when set: recorded as such, never trusted alone. */
  readonly sudoUser: string | null;
  readonly host: string;
}

export function describeApprover(a: { readonly os_uid: number | null; readonly os_user: string | null; readonly sudo_user: string | null }): string {
  const base = `${a.os_user ?? 'unknown'} (uid ${a.os_uid ?? '?'})`;
  return a.sudo_user ? `${base}, via sudo by ${a.sudo_user} ($SUDO_USER, as claimed)` : base;
}

/** Appends one row to the chain; its own IMMEDIATE transaction unless the caller holds one. */
export function appendPlanRecord(db: SqliteDatabase, at: string, input: PlanRecordInput): PlanRecordRow {
  const write = (): PlanRecordRow => {
    const head = (db.prepare('SELECT id, hash FROM plan_records ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined) ?? { id: 0, hash: GENESIS };
    const content: PlanRecordContent = {
      id: head.id + 1,
      at,
      event: input.event,
      run_id: input.run_id,
      plan_hash: input.plan_hash,
      plan_json: input.plan_json ?? null,
      refusal_code: input.refusal_code ?? null,
      changes: input.changes ?? null,
      by_run_id: input.by_run_id ?? null,
      os_uid: input.os_uid ?? null,
      os_user: input.os_user ?? null,
      sudo_user: input.sudo_user ?? null,
      host: input.host ?? null,
      detail: input.detail ?? null,
    };
    const hash = planRecordHash(head.hash, content);
    db.prepare(`INSERT INTO plan_records (${PLAN_RECORD_COLUMNS.join(', ')}, prev_hash, hash) VALUES (${PLAN_RECORD_COLUMNS.map(() => '?').join(', ')}, ?, ?)`).run(
      ...PLAN_RECORD_COLUMNS.map((c) => content[c]),
      head.hash,
      hash,
    );
    return { ...content, prev_hash: head.hash, hash };
  };
  return db.inTransaction ? write() : inTransaction(db, write);
}

export function isPlanRecorded(db: SqliteDatabase, planHash: string): boolean {
  return db.prepare("SELECT 1 FROM plan_records WHERE plan_hash = ? AND event IN ('saved', 'refused') LIMIT 1").get(planHash) !== undefined;
}

/** The refused plan awaiting approval: the last `refused` row, unless a `cleared` row came after it. */
export function pendingRefusalRow(db: SqliteDatabase): PlanRecordRow | null {
  const row = db.prepare("SELECT * FROM plan_records WHERE event = 'refused' ORDER BY id DESC LIMIT 1").get() as PlanRecordRow | undefined;
  if (row === undefined) return null;
  const cleared = db.prepare("SELECT 1 FROM plan_records WHERE event = 'cleared' AND id > ? LIMIT 1").get(row.id);
  return cleared === undefined ? row : null;
}

export function refusedRowOf(db: SqliteDatabase, runId: string): PlanRecordRow | null {
  return (db.prepare("SELECT * FROM plan_records WHERE event = 'refused' AND run_id = ? ORDER BY id DESC LIMIT 1").get(runId) as PlanRecordRow | undefined) ?? null;
}

/** The approval not yet used: the last `approved` row with no `used` row for the same plan after it. */
export function unusedApprovalRow(db: SqliteDatabase): PlanRecordRow | null {
  const row = db.prepare("SELECT * FROM plan_records WHERE event = 'approved' ORDER BY id DESC LIMIT 1").get() as PlanRecordRow | undefined;
  if (row === undefined) return null;
  const used = db.prepare("SELECT 1 FROM plan_records WHERE event = 'used' AND id > ? AND plan_hash = ? LIMIT 1").get(row.id, row.plan_hash);
  return used === undefined ? row : null;
}

export function lastRowOf(db: SqliteDatabase, event: PlanRecordEvent): PlanRecordRow | null {
  return (db.prepare('SELECT * FROM plan_records WHERE event = ? ORDER BY id DESC LIMIT 1').get(event) as PlanRecordRow | undefined) ?? null;
}
