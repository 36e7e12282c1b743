/**
 * The questions a new auditor asks first, answered right: a group by its name, a person by the
 * membership changes that concern them, filters that cannot match refused, a refused apply's changes
 * closed as refused, a run by a prefix of its id, and a finished run's row sealed against edits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteJournal, listChanges, openForWrite, resolveRunId, showRun, verifyJournal } from '../../../src/adapters/journal/index.js';
import type { Resource } from '../../../src/core/model/resources.js';
import { ADMINS, ALICE, IC, PROD, changeOf, manualClock, planOf, role, runStart, tempDir } from './fixtures.js';

const NOW = new Date('2026-01-21T09:00:00.000Z');

/** A federated role as computeDesired makes it: its principal is the AD group mapped to it. */
function federatedRole(): Resource {
  return { ...role(PROD, 'Admin'), principal: { guid: ADMINS.guid, name: ADMINS.name } };
}

/** The Identity Center group of ADMINS, as desired. */
function icGroup(): Resource {
  return { kind: 'identitystore_group', id: ADMINS.guid, account: IC, name: ADMINS.name, owned: true, principal: { guid: ADMINS.guid, name: ADMINS.name }, attrs: { displayName: ADMINS.name, description: 'x' } } as Resource;
}

/** A membership as the Identity Center target reads it from AWS: no principal on it, only its id and name. */
function actualMembership(): Resource {
  return { kind: 'identitystore_membership', id: `${ADMINS.guid}/${ALICE.guid}`, account: IC, name: `${ADMINS.name}/${ALICE.upn}`, owned: true, attrs: {} };
}

describe('journal: the first questions a new user asks', () => {
  let tmp: ReturnType<typeof tempDir>;
  let journal: SqliteJournal;
  beforeEach(() => {
    tmp = tempDir();
    journal = SqliteJournal.open(tmp.file('journal.db'), { clock: manualClock('2026-01-10T09:00:00.000Z') });
    journal.startRun(runStart('a4e95acc-1111-4000-8000-000000000001', '2026-01-10T09:00:00.000Z'));
    const plan = planOf([changeOf(1, 'create', federatedRole()), changeOf(2, 'create', icGroup()), changeOf(3, 'delete', actualMembership(), { principal: undefined })]);
    journal.recordPlan('a4e95acc-1111-4000-8000-000000000001', plan);
    const hooks = journal.hooks('a4e95acc-1111-4000-8000-000000000001');
    for (const c of plan.changes) {
      hooks.preApply?.(c);
      hooks.postApply?.(c, { requestIds: [`req-${c.seq}`] });
    }
    journal.finishRun('a4e95acc-1111-4000-8000-000000000001', { outcome: 'applied', finishedAt: '2026-01-10T09:01:00.000Z' });
  });
  afterEach(() => {
    journal.close();
    tmp.cleanup();
  });

  const addresses = (f: Parameters<typeof listChanges>[1]): string[] => listChanges(journal.database, f, NOW).map((l) => l.address);

  it('--group NAME finds the federated role mapped to the group, its Identity Center group and its memberships; --user NAME of a group finds nothing', () => {
    const all = [`iam_role.${PROD}.Admin`, `identitystore_group.${ADMINS.name}`, `identitystore_membership.${ADMINS.name}/${ALICE.upn}`];
    expect(addresses({ group: ADMINS.name })).toEqual(all);
    expect(addresses({ group: ADMINS.name.toLowerCase() })).toEqual(all);
    expect(addresses({ group: ADMINS.guid })).toEqual(all);
    expect(addresses({ user: ADMINS.name })).toEqual([]);
  });

  it('a membership change read from AWS (no principal on it) records the person from its id: --user finds it', () => {
    expect(addresses({ user: ALICE.guid })).toEqual([`identitystore_membership.${ADMINS.name}/${ALICE.upn}`]);
    expect(addresses({ user: ALICE.upn })).toEqual([`identitystore_membership.${ADMINS.name}/${ALICE.upn}`]);
  });

  it('refuses filter values that can never match, naming the valid ones', () => {
    expect(() => addresses({ status: 'bogus' })).toThrow(/--status "bogus" matches nothing the journal records: use one of planned, pending, intent, applied, failed, skipped, interrupted, refused/);
    expect(() => addresses({ action: 'destroy' })).toThrow(/--action "destroy" matches nothing the journal records \(the journal calls it "delete"\): use one of create, update, delete, revoke, disable/);
    expect(() => addresses({ account: 'prod' })).toThrow(/--account "prod" is not a 12-digit AWS account id; give the id, or --config FILE/);
    expect(addresses({ action: 'delete', status: 'applied', account: IC })).toHaveLength(1);
  });

  it('takes a unique prefix of a run id, as git takes commits, and says when a prefix is ambiguous', () => {
    expect(showRun(journal.database, 'a4e95acc')?.run.id).toBe('a4e95acc-1111-4000-8000-000000000001');
    expect(addresses({ run: 'a4e9' })).toHaveLength(3);
    journal.startRun(runStart('a4e95acc-2222-4000-8000-000000000002', '2026-01-11T09:00:00.000Z', 'dry-run'));
    expect(() => resolveRunId(journal.database, 'a4e95acc')).toThrow(/run a4e95acc is ambiguous: it begins 2 runs \(a4e95acc-2222-.*, a4e95acc-1111-.*\); give more of the id/);
    expect(() => resolveRunId(journal.database, 'ffff')).toThrow(/no run ffff in the journal/);
    expect(showRun(journal.database, 'ffff')).toBeNull();
  });

  it('the changes of a refused apply end as refused, as the run does, not pending for ever', () => {
    journal.startRun(runStart('refused-run', '2026-01-12T09:00:00.000Z'));
    journal.recordPlan('refused-run', planOf([changeOf(1, 'delete', role(PROD, 'Old')), changeOf(2, 'delete', role(PROD, 'Older'))]));
    journal.finishRun('refused-run', { outcome: 'refused', finishedAt: '2026-01-12T09:00:01.000Z', error: 'the plan deletes 2 objects' });
    const lines = listChanges(journal.database, { run: 'refused-run' }, NOW);
    expect(lines.map((l) => [l.status, l.error])).toEqual([
      ['refused', 'not applied: the safety checks refused the plan'],
      ['refused', 'not applied: the safety checks refused the plan'],
    ]);
    expect(listChanges(journal.database, { status: 'pending' }, NOW)).toEqual([]);
    expect(verifyJournal(journal.database)).toMatchObject({ ok: true });
  });

  it('verify names a finished run whose row was edited (its outcome from failed to applied)', () => {
    journal.startRun(runStart('failing-run', '2026-01-13T09:00:00.000Z'));
    journal.recordPlan('failing-run', planOf([]));
    journal.finishRun('failing-run', { outcome: 'failed', finishedAt: '2026-01-13T09:00:01.000Z', error: 'AWS unreachable' });
    expect(verifyJournal(journal.database)).toMatchObject({ ok: true, sealedRuns: 2, unsealedRuns: 0 });
    const db = openForWrite(journal.file);
    db.prepare("UPDATE runs SET outcome = 'applied', error = NULL WHERE id = 'failing-run'").run();
    db.close();
    const result = verifyJournal(journal.database);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({ kind: 'altered', table: 'runs', runId: 'failing-run' });
    expect(result.problems[0]?.message).toMatch(/run failing-run was edited after it finished/);
  });

  it('verify names a finished run whose seal was deleted', () => {
    const db = openForWrite(journal.file);
    db.prepare('DELETE FROM run_seals').run();
    db.close();
    const result = verifyJournal(journal.database);
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.message).toMatch(/run a4e95acc-1111-4000-8000-000000000001 finished \(applied\) but has no seal/);
  });
});
