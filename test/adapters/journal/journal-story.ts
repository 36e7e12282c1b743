/**
 * A journal of three runs in January 2026, shared by the query and CLI tests:
 *  - run-1 (Jan 10, apply): alice joins AWS-Prod-Admins, bob joins AWS-Prod-Readers; all applied.
 *    Snapshot: alice Admin on prod via Admins; bob Reader on prod and ReadOnly on dev via Readers.
 *  - run-2 (Jan 15, dry run): an update of the Admin role, planned only.
 *  - run-3 (Jan 20, apply): bob's AD account was disabled. His sessions on Reader are revoked, his
 *    membership removed (applied) and his Identity Center user deletion fails. Snapshot: alice only.
 */
import { SqliteJournal } from '../../../src/adapters/journal/index.js';
import type { Change } from '../../../src/core/plan/change.js';
import { ADMINS, ALICE, BOB, DEV, IC, PROD, READERS, assignment, changeOf, entitlement, icUser, manualClock, membership, planOf, role, runStart } from './fixtures.js';

export const STORY = {
  run1: { id: 'run-1', at: '2026-01-10T09:00:00.000Z', snapshotAt: '2026-01-10T09:00:30.000Z' },
  run2: { id: 'run-2', at: '2026-01-15T09:00:00.000Z' },
  run3: { id: 'run-3', at: '2026-01-20T09:00:00.000Z', snapshotAt: '2026-01-20T09:01:00.000Z' },
  /** "now" for relative times in the tests. */
  now: new Date('2026-01-21T09:00:00.000Z'),
} as const;

function applyAll(j: SqliteJournal, runId: string, changes: readonly Change[], fail: (c: Change) => boolean = () => false): void {
  const hooks = j.hooks(runId);
  for (const c of changes) {
    hooks.preApply?.(c);
    if (fail(c)) hooks.applyFailed?.(c, Object.assign(new Error('User is still referenced'), { name: 'ConflictException', $metadata: { requestId: `${runId}-${c.seq}-err` } }));
    else hooks.postApply?.(c, { requestIds: [`${runId}-${c.seq}`] });
  }
}

export function writeStory(file: string): void {
  const clock = manualClock(STORY.run1.at);
  const j = SqliteJournal.open(file, { clock });
  try {
    // run-1
    j.startRun(runStart(STORY.run1.id, STORY.run1.at));
    const p1 = planOf([
      changeOf(1, 'create', icUser(ALICE)),
      changeOf(2, 'create', icUser(BOB)),
      changeOf(3, 'create', membership(ADMINS, ALICE), { dependsOn: [1] }),
      changeOf(4, 'create', membership(READERS, BOB), { dependsOn: [2] }),
      changeOf(5, 'create', assignment('ReadOnly', DEV, READERS)),
      changeOf(6, 'create', role(PROD, 'Admin')),
    ]);
    j.recordPlan(STORY.run1.id, p1);
    clock.advance(10_000);
    applyAll(j, STORY.run1.id, p1.changes);
    j.recordEntitlements(STORY.run1.id, STORY.run1.snapshotAt, [
      entitlement(ALICE, PROD, 'Admin', ADMINS),
      entitlement(BOB, PROD, 'Reader', READERS),
      entitlement(BOB, DEV, 'ReadOnly', READERS, 'permission_set'),
    ]);
    j.finishRun(STORY.run1.id, { outcome: 'applied', finishedAt: STORY.run1.snapshotAt, directory: { users: 3, groups: 2 } });

    // run-2
    clock.set(STORY.run2.at);
    j.startRun(runStart(STORY.run2.id, STORY.run2.at, 'dry-run'));
    j.recordPlan(STORY.run2.id, planOf([changeOf(1, 'update', role(PROD, 'Admin', 'federated, "admins", v2'))]));
    j.finishRun(STORY.run2.id, { outcome: 'planned', finishedAt: STORY.run2.at, directory: { users: 3, groups: 2 } });

    // run-3: bob is a leaver
    clock.set(STORY.run3.at);
    j.startRun(runStart(STORY.run3.id, STORY.run3.at));
    const leaver = { guid: BOB.guid, name: BOB.name, reason: 'disabled' as const };
    const revocations = { kind: 'iam_role_revocations' as const, id: `${PROD}/Reader`, account: PROD, name: 'Reader', owned: true, attrs: { entries: { [BOB.upn]: STORY.run3.at } } };
    const p3 = planOf([
      changeOf(1, 'revoke', revocations, { leaver, principal: undefined, reason: 'bob is disabled in AD: revoke live sessions' }),
      changeOf(2, 'delete', membership(READERS, BOB), { leaver, reason: 'bob is disabled in AD' }),
      changeOf(3, 'delete', icUser(BOB), { leaver, dependsOn: [2], reason: 'bob is disabled in AD' }),
    ]);
    j.recordPlan(STORY.run3.id, p3);
    clock.advance(5_000);
    applyAll(j, STORY.run3.id, p3.changes, (c) => c.seq === 3);
    j.recordEntitlements(STORY.run3.id, STORY.run3.snapshotAt, [entitlement(ALICE, PROD, 'Admin', ADMINS)]);
    j.finishRun(STORY.run3.id, { outcome: 'partial', finishedAt: STORY.run3.snapshotAt, error: '1 change failed', directory: { users: 3, groups: 2 } });
  } finally {
    j.close();
  }
}

export { ADMINS, ALICE, BOB, DEV, IC, PROD, READERS };
