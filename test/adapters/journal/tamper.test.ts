import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteJournal, changeEventHash, openJournalForVerify, verifyJournal, type ChangeEventRow, type VerifyResult } from '../../../src/adapters/journal/index.js';
import { ADMINS, ALICE, BOB, PROD, READERS, changeOf, entitlement, icUser, manualClock, planOf, role, runStart, tempDir } from './fixtures.js';

/**
 * A journal of two applied runs (rows 1-12), then tampering through a raw SQLite connection, as
 * someone with write access to the file would do it. verify must catch each and name the row.
 */
describe('journal tamper evidence', () => {
  let tmp: ReturnType<typeof tempDir>;
  let file: string;

  beforeEach(() => {
    tmp = tempDir();
    file = tmp.file('journal.db');
    const clock = manualClock('2026-03-01T09:00:00.000Z');
    const j = SqliteJournal.open(file, { clock });
    for (const [runId, at] of [
      ['run-a', '2026-03-01T09:00:00.000Z'],
      ['run-b', '2026-03-02T09:00:00.000Z'],
    ] as const) {
      clock.set(at);
      j.startRun(runStart(runId, at));
      const plan = planOf([changeOf(1, 'create', role(PROD, `Admin-${runId}`)), changeOf(2, 'create', icUser(runId === 'run-a' ? ALICE : BOB))]);
      j.recordPlan(runId, plan);
      const hooks = j.hooks(runId);
      for (const c of plan.changes) {
        hooks.preApply?.(c);
        hooks.postApply?.(c, { requestIds: [`${runId}-${c.seq}`] });
      }
      j.recordEntitlements(runId, at, [entitlement(ALICE, PROD, 'Admin', ADMINS), entitlement(BOB, PROD, 'Reader', READERS)]);
      j.finishRun(runId, { outcome: 'applied', finishedAt: at });
    }
    j.close();
  });
  afterEach(() => tmp.cleanup());

  function raw(sql: string, ...params: unknown[]): void {
    const db = new Database(file);
    db.pragma('foreign_keys = OFF'); // a tamperer would not be stopped by a foreign key
    db.prepare(sql).run(...params);
    db.close();
  }
  function verify(): VerifyResult {
    const db = openJournalForVerify(file);
    try {
      return verifyJournal(db);
    } finally {
      db.close();
    }
  }
  function row(id: number): ChangeEventRow {
    const db = new Database(file, { readonly: true });
    const r = db.prepare('SELECT * FROM change_events WHERE id = ?').get(id) as ChangeEventRow;
    db.close();
    return r;
  }

  it('passes when untouched', () => {
    expect(verify()).toMatchObject({ ok: true, changeRows: 12, snapshotRows: 2, integrity: ['ok'], head: { id: 12 } });
  });

  it('names a row whose content was edited', () => {
    raw("UPDATE change_events SET status = 'failed', error = 'never happened' WHERE id = 6");
    const r = verify();
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatchObject({ kind: 'altered', row: 6, runId: 'run-a', seq: 2 });
    expect(r.problems[0]?.message).toBe('row 6 (run run-a seq 2) was altered: its hash does not match its content');
  });

  it('names the row after one that was edited and given a fresh hash', () => {
    const r6 = row(6);
    const forged = { ...r6, principal_name: 'mallory' };
    raw('UPDATE change_events SET principal_name = ?, hash = ? WHERE id = 6', 'mallory', changeEventHash(r6.prev_hash, forged));
    const r = verify();
    expect(r.problems[0]).toMatchObject({ kind: 'broken-link', row: 7, runId: 'run-b' });
    expect(r.problems[0]?.message).toMatch(/^row 7 \(run run-b seq 1\) does not link to row 6: row 6 was rewritten/);
  });

  it('names a deleted row as a hole before the next row', () => {
    raw('DELETE FROM change_events WHERE id = 3');
    const r = verify();
    expect(r.problems[0]).toMatchObject({ kind: 'deleted', row: 3 });
    expect(r.problems[0]?.message).toBe('row 3 of the change log was deleted: row 4 (run run-a seq 1) is the next row and its link does not match');
  });

  it('names rows cut off the end, from the chain head each finished run recorded', () => {
    raw('DELETE FROM change_events WHERE id > 9');
    const r = verify();
    expect(r.problems[0]).toMatchObject({ kind: 'deleted', table: 'runs', row: 12, runId: 'run-b' });
    expect(r.problems[0]?.message).toMatch(/row 12, the chain head recorded when run run-b finished, is missing/);
  });

  it('names an inserted row, even one forged with a correct hash', () => {
    const head = row(12);
    const forged = { ...head, id: 13, seq: 3, status: 'applied', address: `iam_role.${PROD}.Backdoor`, resource_key: `iam_role:${PROD}/Backdoor` };
    const hash = changeEventHash(head.hash, forged);
    const cols = Object.keys(forged).filter((k) => k !== 'prev_hash' && k !== 'hash');
    raw(`INSERT INTO change_events (${cols.join(', ')}, prev_hash, hash) VALUES (${cols.map((c) => `@${c}`).join(', ')}, @prev_hash, @hash)`, {
      ...forged,
      prev_hash: head.hash,
      hash,
    });
    const r = verify();
    expect(r.problems[0]).toMatchObject({ kind: 'inserted', row: 13, runId: 'run-b', seq: 3 });
    expect(r.problems[0]?.message).toBe('row 13 (run run-b seq 3) was inserted: it comes after row 12, the last row when run run-b finished');
  });

  it('names a row inserted for a run that does not exist', () => {
    const head = row(12);
    raw(
      `INSERT INTO change_events (id, run_id, seq, at, status, action, kind, resource_key, address, account, prev_hash, hash)
       VALUES (13, 'ghost', 1, '2026-03-03T00:00:00.000Z', 'applied', 'create', 'iam_role', 'k', 'a', ?, ?, ?)`,
      PROD,
      head.hash,
      'f'.repeat(64),
    );
    expect(verify().problems[0]?.message).toBe('row 13 (run ghost seq 1) was inserted: run ghost does not exist');
  });

  it('names an entitlement snapshot whose rows were edited, deleted or inserted', () => {
    raw("UPDATE entitlements SET target = 'Admin' WHERE user_name = 'bob' AND snapshot_id = 2");
    expect(verify().problems[0]).toMatchObject({ kind: 'altered', table: 'entitlements', row: 2, runId: 'run-b' });
    raw("DELETE FROM entitlements WHERE user_name = 'alice' AND snapshot_id = 1");
    expect(verify().problems[0]?.message).toMatch(/^the entitlements of entitlement snapshot 1 \(run run-a, 2026-03-01T09:00:00.000Z\) were altered, inserted or deleted/);
  });
});
