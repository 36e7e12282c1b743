/**
 * Issue 12: `journal list --user NAME` must show the revocation that cut that person's sessions, also when
 * the revocation is shared (a layoff: one deny statement per role for several leavers, a mover among them).
 * Such a change carries no single principal or leaver (`Change.concerns` names everyone it cuts), so before
 * the change-concerns lookup it was filed under nobody: the auditor asking about one leaver saw their
 * membership and user deleted, but not their sessions denied.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listChanges, openJournalForQuery, SqliteJournal } from '../../../src/adapters/journal/index.js';
import { ALICE, BOB, CAROL, PROD, READERS, changeOf, entitlement, manualClock, membership, planOf, runStart, tempDir } from './fixtures.js';

const AT = '2026-03-02T09:14:00.000Z';

describe('journal list --user finds a shared revocation under each person it cut', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    const j = SqliteJournal.open(tmp.file('journal.db'), { clock: manualClock(AT) });
    j.startRun(runStart('run-1', AT));
    // Everyone's names are known from the entitlement history (as after any full run).
    j.recordEntitlements('run-1', AT, [entitlement(ALICE, PROD, 'Reader', READERS), entitlement(BOB, PROD, 'Reader', READERS), entitlement(CAROL, PROD, 'Reader', READERS)]);
    j.finishRun('run-1', { outcome: 'applied', finishedAt: AT, directory: { users: 3, groups: 1 } });

    j.startRun(runStart('run-2', AT));
    const revocations = { kind: 'iam_role_revocations' as const, id: `${PROD}/Reader`, account: PROD, name: 'Reader', owned: true, attrs: { entries: { [ALICE.upn]: AT, [BOB.upn]: AT } } };
    const plan = planOf([
      // alice and bob leave in the same run: one revocation concerns both, and carries neither as its leaver.
      changeOf(1, 'revoke', revocations, { principal: undefined, concerns: [ALICE.guid, BOB.guid], reason: 'alice disabled in AD; bob removed from all mapped groups' }),
      changeOf(2, 'delete', membership(READERS, BOB), { leaver: { guid: BOB.guid, name: BOB.name, reason: 'removed-from-groups' } }),
    ]);
    j.recordPlan('run-2', plan);
    const hooks = j.hooks('run-2');
    for (const c of plan.changes) {
      hooks.preApply?.(c);
      hooks.postApply?.(c, { requestIds: [`req-${c.seq}`] });
    }
    j.finishRun('run-2', { outcome: 'applied', finishedAt: AT, directory: { users: 3, groups: 1 } });
    j.close();
  });
  afterEach(() => tmp.cleanup());

  const listFor = (user: string): string[] => {
    const db = openJournalForQuery(tmp.file('journal.db'));
    try {
      return listChanges(db, { user }, new Date(AT)).map((l) => `${l.runId}#${l.seq} ${l.status} ${l.action} ${l.address} ${l.requestIds.join(',')}`);
    } finally {
      db.close();
    }
  };

  it('by sAMAccountName, by UPN and by objectGUID, for each person concerned; not for someone it did not cut', () => {
    const revoke = `run-2#1 applied revoke iam_role_revocations.${PROD}.Reader req-1`;
    expect(listFor(ALICE.name)).toEqual([revoke]);
    expect(listFor(ALICE.guid.toUpperCase())).toEqual([revoke]);
    expect(listFor(BOB.name)).toEqual([revoke, `run-2#2 applied delete identitystore_membership.AWS-Prod-Readers/bob req-2`]);
    expect(listFor(CAROL.name)).toEqual([]);
  });
});
