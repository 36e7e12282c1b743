import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTERRUPTED_MESSAGE, JournalWriteError, NEVER_STARTED_MESSAGE, SqliteJournal, accessAsOf, listChanges, openJournalForQuery, showRun, verifyJournal } from '../../../src/adapters/journal/index.js';
import { ADMINS, ALICE, BOB, CAROL, PROD, READERS, changeOf, entitlement, icUser, manualClock, membership, planOf, role, runStart, tempDir } from './fixtures.js';

describe('SqliteJournal', () => {
  let tmp: ReturnType<typeof tempDir>;
  let journal: SqliteJournal;
  const clock = manualClock('2026-02-01T10:00:00.000Z');

  beforeEach(() => {
    tmp = tempDir();
    journal = SqliteJournal.open(tmp.file('journal.db'), { clock });
  });
  afterEach(() => {
    journal.close();
    tmp.cleanup();
  });

  it('creates the file with mode 0600, in WAL mode with synchronous=FULL', () => {
    expect(statSync(tmp.file('journal.db')).mode & 0o777).toBe(0o600);
    expect(journal.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(journal.database.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(journal.database.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    expect(statSync(tmp.file('journal.db-wal')).mode & 0o777).toBe(0o600);
  });

  it('journals an apply: pending, intent and outcome rows chained; list shows one line per change with its final status', () => {
    const plan = planOf([
      changeOf(1, 'create', icUser(ALICE)),
      changeOf(2, 'create', membership(ADMINS, ALICE), { dependsOn: [1] }),
      changeOf(3, 'update', role(PROD, 'Admin')),
      changeOf(4, 'delete', role(PROD, 'Legacy')),
    ]);
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    journal.recordPlan('r1', plan);
    const hooks = journal.hooks('r1');
    const [c1, c2, c3, c4] = plan.changes;
    if (!c1 || !c2 || !c3 || !c4) throw new Error('fixture');
    clock.advance(1000);
    hooks.preApply?.(c1);
    hooks.postApply?.(c1, { requestIds: ['req-1'], detail: { userId: 'u-123' } });
    hooks.preApply?.(c3);
    hooks.applyFailed?.(c3, Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { requestId: 'req-3' } }));
    hooks.skipped?.(c2, 'depends on change 1');
    hooks.preApply?.(c4);
    hooks.postApply?.(c4, { requestIds: ['req-4a', 'req-4b'] });
    journal.finishRun('r1', { outcome: 'partial', finishedAt: clock().toISOString(), directory: { users: 10, groups: 2 } });

    const rows = journal.database.prepare('SELECT id, seq, status FROM change_events ORDER BY id').all();
    expect(rows).toEqual([
      { id: 1, seq: 1, status: 'pending' },
      { id: 2, seq: 2, status: 'pending' },
      { id: 3, seq: 3, status: 'pending' },
      { id: 4, seq: 4, status: 'pending' },
      { id: 5, seq: 1, status: 'intent' },
      { id: 6, seq: 1, status: 'applied' },
      { id: 7, seq: 3, status: 'intent' },
      { id: 8, seq: 3, status: 'failed' },
      { id: 9, seq: 2, status: 'skipped' },
      { id: 10, seq: 4, status: 'intent' },
      { id: 11, seq: 4, status: 'applied' },
    ]);

    const lines = listChanges(journal.database, { run: 'r1' }, clock());
    expect(lines.map((l) => [l.seq, l.status, l.requestIds, l.error])).toEqual([
      [1, 'applied', ['req-1'], null],
      [2, 'skipped', [], 'depends on change 1'],
      [3, 'failed', ['req-3'], 'ThrottlingException: Rate exceeded'],
      [4, 'applied', ['req-4a', 'req-4b'], null],
    ]);
    const first = lines[0];
    expect(first?.principalName).toBe('alice');
    expect(first?.after).toMatchObject({ attrs: { userName: ALICE.upn } });
    expect(first?.reason).toBe(`create ${ALICE.upn}`);
    expect(lines.find((l) => l.seq === 2)).toMatchObject({ groupGuid: ADMINS.guid, groupName: ADMINS.name, principalGuid: ALICE.guid });

    expect(showRun(journal.database, 'r1')?.run).toMatchObject({ outcome: 'partial', directory: { users: 10, groups: 2 }, counts: { applied: 2, failed: 1, skipped: 1 } });
    expect(verifyJournal(journal.database)).toMatchObject({ ok: true, changeRows: 11, problems: [], head: journal.chainHead() });
    expect(journal.chainHead()?.id).toBe(11);
  });

  it('journals a dry run with its changes planned', () => {
    journal.startRun(runStart('dry', '2026-02-01T10:00:00.000Z', 'dry-run'));
    journal.recordPlan('dry', planOf([changeOf(1, 'create', role(PROD, 'Admin')), changeOf(2, 'revoke', role(PROD, 'Ops'))]));
    journal.finishRun('dry', { outcome: 'planned', finishedAt: '2026-02-01T10:00:01.000Z' });
    expect(listChanges(journal.database, { run: 'dry' }, clock()).map((l) => [l.address, l.status])).toEqual([
      [`iam_role.${PROD}.Admin`, 'planned'],
      [`iam_role.${PROD}.Ops`, 'planned'],
    ]);
    expect(showRun(journal.database, 'dry')?.run.plan.summary).toEqual({ add: 1, change: 1, destroy: 0, leavers: 0 });
  });

  it('marks a dead run\'s intents interrupted and its untouched changes skipped at the next startRun, by appending rows', () => {
    const plan = planOf([changeOf(1, 'create', role(PROD, 'A')), changeOf(2, 'create', role(PROD, 'B')), changeOf(3, 'create', role(PROD, 'C'))]);
    journal.startRun(runStart('dead', '2026-02-01T10:00:00.000Z'));
    journal.recordPlan('dead', plan);
    const hooks = journal.hooks('dead');
    hooks.preApply?.(plan.changes[0]!);
    hooks.postApply?.(plan.changes[0]!, { requestIds: ['q1'] });
    hooks.preApply?.(plan.changes[1]!);
    // the process dies here: no outcome for change 2, change 3 never started, no finishRun

    clock.set('2026-02-01T11:00:00.000Z');
    journal.startRun(runStart('next', '2026-02-01T11:00:00.000Z'));
    expect(listChanges(journal.database, { run: 'dead' }, clock()).map((l) => [l.seq, l.status, l.error])).toEqual([
      [1, 'applied', null],
      [2, 'interrupted', INTERRUPTED_MESSAGE],
      [3, 'skipped', NEVER_STARTED_MESSAGE],
    ]);
    expect(showRun(journal.database, 'dead')?.run.outcome).toBe('interrupted');
    expect(verifyJournal(journal.database).ok).toBe(true);
    // Only once: the next start finds nothing left open.
    expect(journal.recoverInterrupted()).toEqual({ runs: ['next'], interrupted: 0, skipped: 0 });
  });

  it('a dry run (which holds no lock) never closes a run that may be live; an applying run closes dead applying runs only', () => {
    const plan = planOf([changeOf(1, 'create', role(PROD, 'A')), changeOf(2, 'create', role(PROD, 'B'))]);
    // The daemon's run, live, mid-apply (it holds the journal lock).
    journal.startRun(runStart('daemon', '2026-02-01T10:00:00.000Z'));
    journal.recordPlan('daemon', plan);
    const hooks = journal.hooks('daemon');
    hooks.preApply?.(plan.changes[0]!);
    // An operator's dry run meanwhile, from another process without the lock.
    journal.startRun(runStart('look', '2026-02-01T10:00:01.000Z', 'dry-run'));
    expect(showRun(journal.database, 'daemon')?.run.outcome).toBeNull();
    // The daemon's run goes on and records its outcome.
    hooks.postApply?.(plan.changes[0]!, { requestIds: ['q1'] });
    expect(listChanges(journal.database, { run: 'daemon' }, clock()).map((l) => [l.seq, l.status])).toEqual([
      [1, 'applied'],
      [2, 'pending'],
    ]);

    // Both processes die. The next applying run (under the lock) closes the applying run only: the
    // dry run may still be going in its own process, and changed nothing anyway.
    journal.startRun(runStart('next', '2026-02-01T11:00:00.000Z'));
    expect(showRun(journal.database, 'daemon')?.run.outcome).toBe('interrupted');
    expect(showRun(journal.database, 'look')?.run.outcome).toBeNull();
    expect(verifyJournal(journal.database).ok).toBe(true);
  });

  it('a failed change keeps the request ids of the calls that took effect before the failing one', () => {
    const plan = planOf([changeOf(1, 'create', role(PROD, 'Admin')), changeOf(2, 'create', icUser(ALICE))]);
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    journal.recordPlan('r1', plan);
    const hooks = journal.hooks('r1');
    // IAM: CreateRole and AttachRolePolicy succeeded, PutRolePolicy failed.
    hooks.preApply?.(plan.changes[0]!);
    hooks.applyFailed?.(plan.changes[0]!, Object.assign(new Error('MalformedPolicyDocument'), { completedRequestIds: ['req-create', 'req-attach'], requestId: 'req-put' }));
    // Identity Center: CreateUser succeeded, a later call failed without an answer from AWS.
    hooks.preApply?.(plan.changes[1]!);
    hooks.applyFailed?.(plan.changes[1]!, Object.assign(new Error('socket hang up'), { requestIds: ['req-user'] }));
    expect(listChanges(journal.database, { run: 'r1' }, clock()).map((l) => [l.seq, l.status, l.requestIds])).toEqual([
      [1, 'failed', ['req-create', 'req-attach', 'req-put']],
      [2, 'failed', ['req-user']],
    ]);
  });

  it('refuses a run id twice and hooks for an unknown run', () => {
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    expect(() => journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'))).toThrow(/run r1 was already started/);
    expect(() => journal.hooks('nope')).toThrow(/run nope is not in the journal/);
  });

  it('keeps entitlement snapshots and returns the last one as history', () => {
    expect(journal.entitlementHistory().last).toBeNull();
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    journal.recordEntitlements('r1', '2026-02-01T10:00:05.000Z', [entitlement(ALICE, PROD, 'Admin', ADMINS), entitlement(BOB, PROD, 'Reader', READERS)]);
    journal.recordEntitlements('r1', '2026-02-01T10:00:06.000Z', [entitlement(ALICE, PROD, 'Admin', ADMINS)]);
    expect([...(journal.entitlementHistory().last ?? [])]).toEqual([entitlement(ALICE, PROD, 'Admin', ADMINS)]);
    expect(verifyJournal(journal.database)).toMatchObject({ ok: true, snapshotRows: 2 });
  });

  it('the history is the snapshot written last, by row id, even when the clock stepped back between two runs', () => {
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    journal.recordEntitlements('r1', '2026-02-01T10:00:05.000Z', [entitlement(ALICE, PROD, 'Admin', ADMINS), entitlement(BOB, PROD, 'Reader', READERS)]);
    journal.finishRun('r1', { outcome: 'applied', finishedAt: '2026-02-01T10:00:06.000Z' });
    // NTP steps the clock back an hour; the next run writes a newer snapshot with an older time (Bob left).
    journal.startRun(runStart('r2', '2026-02-01T09:00:00.000Z'));
    journal.recordEntitlements('r2', '2026-02-01T09:00:05.000Z', [entitlement(ALICE, PROD, 'Admin', ADMINS)]);
    expect([...(journal.entitlementHistory().last ?? [])]).toEqual([entitlement(ALICE, PROD, 'Admin', ADMINS)]);
  });

  it('a later run closes the open dry runs of dead processes on its host, and only those', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    expect(deadPid).toBeGreaterThan(0);
    journal.startRun({ ...runStart('killed', '2026-02-01T10:00:00.000Z', 'dry-run'), pid: deadPid });
    journal.startRun({ ...runStart('live', '2026-02-01T10:00:01.000Z', 'dry-run'), pid: process.ppid });
    journal.startRun({ ...runStart('elsewhere', '2026-02-01T10:00:02.000Z', 'dry-run'), host: 'bastion-2', pid: deadPid });
    journal.startRun(runStart('next', '2026-02-01T10:01:00.000Z', 'dry-run'));
    const runs = journal.database.prepare('SELECT id, outcome, error FROM runs ORDER BY started_at').all() as { id: string; outcome: string | null; error: string | null }[];
    expect(runs.map((r) => [r.id, r.outcome])).toEqual([
      ['killed', 'interrupted'],
      ['live', null],
      ['elsewhere', null],
      ['next', null],
    ]);
    expect(runs[0]?.error).toMatch(new RegExp(`^the process \\(pid ${deadPid} on bastion-1\\) ended before the dry run finished`));
    expect(verifyJournal(journal.database).ok).toBe(true);
  });

  it('journal verify covers plan records: an edited approval is named', () => {
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    journal.finishRun('r1', { outcome: 'refused', finishedAt: '2026-02-01T10:00:01.000Z' });
    journal.recordPlanEvent({ event: 'refused', run_id: 'r1', plan_hash: `sha256:${'a'.repeat(64)}`, plan_json: '{}', refusal_code: 'deletion-threshold', changes: 3 });
    journal.recordPlanEvent({ event: 'approved', run_id: 'r1', plan_hash: `sha256:${'a'.repeat(64)}`, os_uid: 1001, os_user: 'alice', host: 'bastion-1' });
    expect(verifyJournal(journal.database)).toMatchObject({ ok: true, planRecordRows: 2 });
    journal.database.prepare("UPDATE plan_records SET os_user = 'root', os_uid = 0 WHERE event = 'approved'").run();
    expect(verifyJournal(journal.database)).toMatchObject({ ok: false, problems: [{ kind: 'altered', table: 'plan_records', row: 2, message: 'plan record 2 (approved, run r1) was altered: its hash does not match its content' }] });
    journal.database.prepare('DELETE FROM plan_records WHERE id = 1').run();
    expect(verifyJournal(journal.database).problems[0]).toMatchObject({ kind: 'deleted', table: 'plan_records', row: 1 });
  });

  it('finds a person by UPN through the aliases recorded with the entitlements, with no Identity Center user to name it', () => {
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    const revoke = changeOf(1, 'revoke', role(PROD, 'Admin'), { principal: { guid: CAROL.guid, name: CAROL.name }, leaver: { guid: CAROL.guid, name: CAROL.name, reason: 'disabled' } });
    journal.recordPlan('r1', planOf([revoke]));
    expect(listChanges(journal.database, { user: CAROL.upn }, clock())).toEqual([]);
    journal.recordEntitlements('r1', '2026-02-01T10:00:05.000Z', [entitlement(ALICE, PROD, 'Admin', ADMINS)], [{ alias: CAROL.upn, guid: CAROL.guid }]);
    expect(listChanges(journal.database, { user: CAROL.upn }, clock()).map((l) => [l.seq, l.action])).toEqual([[1, 'revoke']]);
  });

  it('is an OwnershipRegistry: record, re-record, forget, per scope; survives reopening', () => {
    journal.record('d-123', 'u-1', ALICE.guid);
    journal.record('d-123', 'u-2', BOB.guid);
    journal.record('d-123', 'u-1', ALICE.guid); // idempotent
    journal.record('d-999', 'u-1', BOB.guid);
    journal.forget('d-123', 'u-2');
    expect([...journal.owned('d-123')]).toEqual([['u-1', ALICE.guid]]);
    expect([...journal.owned('d-999')]).toEqual([['u-1', BOB.guid]]);
    journal.record('d-123', 'u-2', BOB.guid); // recreated after deletion
    journal.close();
    journal = SqliteJournal.open(tmp.file('journal.db'), { clock });
    expect(new Map(journal.owned('d-123'))).toEqual(new Map([['u-1', ALICE.guid], ['u-2', BOB.guid]]));
    expect(journal.database.prepare('SELECT count(*) AS n FROM owned_objects WHERE removed_at IS NOT NULL').get()).toEqual({ n: 1 });
  });

  it('lets a read-only query connection read while the writer is open and keeps writing', () => {
    journal.startRun(runStart('live', '2026-02-01T10:00:00.000Z'));
    const plan = planOf([changeOf(1, 'create', role(PROD, 'A')), changeOf(2, 'create', role(PROD, 'B'))]);
    journal.recordPlan('live', plan);
    const hooks = journal.hooks('live');
    hooks.preApply?.(plan.changes[0]!);

    const reader = openJournalForQuery(tmp.file('journal.db'));
    try {
      expect(reader.readonly).toBe(true);
      expect(listChanges(reader, { run: 'live' }, clock()).map((l) => l.status)).toEqual(['intent', 'pending']);
      hooks.postApply?.(plan.changes[0]!, { requestIds: ['r1'] });
      expect(listChanges(reader, { run: 'live' }, clock()).map((l) => l.status)).toEqual(['applied', 'pending']);
      expect(() => reader.prepare("DELETE FROM change_events").run()).toThrow(/readonly/);
    } finally {
      reader.close();
    }
  });

  it('takes no more rows for a finished run (verify would call them inserted)', () => {
    journal.startRun(runStart('done', '2026-02-01T10:00:00.000Z'));
    const plan = planOf([changeOf(1, 'create', role(PROD, 'A'))]);
    journal.recordPlan('done', plan);
    journal.finishRun('done', { outcome: 'applied', finishedAt: '2026-02-01T10:00:01.000Z' });
    expect(() => journal.hooks('done')).toThrow(/run done has already finished \(applied\); it takes no more rows/);
    expect(() => journal.recordPlan('done', plan)).toThrow(/has already finished/);
    expect(verifyJournal(journal.database).ok).toBe(true);
  });

  it('stores instants in one ISO form, so a snapshot is found at exactly its time', () => {
    journal.startRun(runStart('r', '2026-02-01T11:00:00+01:00'));
    journal.recordEntitlements('r', '2026-02-01T10:01:00Z', [entitlement(ALICE, PROD, 'Admin', ADMINS)]);
    expect(showRun(journal.database, 'r')?.run.startedAt).toBe('2026-02-01T10:00:00.000Z');
    expect(accessAsOf(journal.database, { asOf: '2026-02-01T10:01:00.000Z' }, clock()).snapshot?.at).toBe('2026-02-01T10:01:00.000Z');
    expect(() => journal.recordEntitlements('r', 'yesterday', [])).toThrow(/entitlement snapshot time "yesterday" is not an ISO 8601 time/);
  });

  it('turns a failed write into a typed JournalWriteError (retryable when another writer holds the lock)', () => {
    journal.close();
    journal = SqliteJournal.open(tmp.file('journal.db'), { clock, busyTimeoutMs: 50 });
    journal.startRun(runStart('r', '2026-02-01T10:00:00.000Z'));
    const hooks = journal.hooks('r');
    const other = new Database(tmp.file('journal.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      let err: unknown;
      try {
        hooks.preApply?.(changeOf(1, 'create', role(PROD, 'A')));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JournalWriteError);
      expect(err).toMatchObject({ retryable: true, what: 'the intent row of change 1' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    hooks.preApply?.(changeOf(1, 'create', role(PROD, 'A')));
    expect(verifyJournal(journal.database).ok).toBe(true);
  });
});
