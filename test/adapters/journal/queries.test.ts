import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/core/errors.js';
import {
  accessAsOf,
  listChanges,
  listRuns,
  openJournalForQuery,
  parseTime,
  render,
  showRun,
  type ChangeFilter,
  type SqliteDatabase,
} from '../../../src/adapters/journal/index.js';
import { tempDir } from './fixtures.js';
import { ADMINS, ALICE, BOB, DEV, PROD, READERS, STORY, writeStory } from './journal-story.js';

describe('journal queries over several runs', () => {
  const tmp = tempDir();
  let db: SqliteDatabase;
  beforeAll(() => {
    writeStory(tmp.file('journal.db'));
    db = openJournalForQuery(tmp.file('journal.db'));
  });
  afterAll(() => {
    db.close();
    tmp.cleanup();
  });

  const list = (f: ChangeFilter): string[] => listChanges(db, f, STORY.now).map((l) => `${l.runId}#${l.seq} ${l.status} ${l.action} ${l.address}`);

  it('lists every change once, with its final status, in the order recorded', () => {
    expect(list({})).toEqual([
      'run-1#1 applied create identitystore_user.alice.smith@corp.example.com',
      'run-1#2 applied create identitystore_user.bob.jones@corp.example.com',
      'run-1#3 applied create identitystore_membership.AWS-Prod-Admins/alice',
      'run-1#4 applied create identitystore_membership.AWS-Prod-Readers/bob',
      'run-1#5 applied create sso_account_assignment.ReadOnly/prod/AWS-Prod-Readers',
      `run-1#6 applied create iam_role.${PROD}.Admin`,
      `run-2#1 planned update iam_role.${PROD}.Admin`,
      `run-3#1 applied revoke iam_role_revocations.${PROD}.Reader`,
      'run-3#2 applied delete identitystore_membership.AWS-Prod-Readers/bob',
      'run-3#3 failed delete identitystore_user.bob.jones@corp.example.com',
    ]);
  });

  it('finds a user by sAMAccountName (any case), by UPN and by objectGUID', () => {
    const bob = ['run-1#2', 'run-1#4', 'run-3#1', 'run-3#2', 'run-3#3'];
    const ids = (f: ChangeFilter): string[] => list(f).map((l) => l.split(' ')[0] ?? '');
    expect(ids({ user: 'bob' })).toEqual(bob);
    expect(ids({ user: 'BOB' })).toEqual(bob);
    expect(ids({ user: BOB.upn })).toEqual(bob);
    expect(ids({ user: BOB.guid.toUpperCase() })).toEqual(bob);
    expect(ids({ user: 'nobody' })).toEqual([]);
  });

  it('filters by group, account, action, status and run, and combines filters', () => {
    expect(list({ group: READERS.name }).map((l) => l.split(' ')[0])).toEqual(['run-1#4', 'run-1#5', 'run-3#2']);
    expect(list({ group: ADMINS.guid })).toEqual(['run-1#3 applied create identitystore_membership.AWS-Prod-Admins/alice']);
    expect(list({ account: PROD }).map((l) => l.split(' ')[0])).toEqual(['run-1#6', 'run-2#1', 'run-3#1']);
    expect(list({ action: 'delete' }).map((l) => l.split(' ')[0])).toEqual(['run-3#2', 'run-3#3']);
    expect(list({ status: 'failed' })).toEqual(['run-3#3 failed delete identitystore_user.bob.jones@corp.example.com']);
    expect(list({ run: 'run-2' })).toEqual([`run-2#1 planned update iam_role.${PROD}.Admin`]);
    expect(list({ user: 'bob', action: 'delete', status: 'applied' })).toEqual(['run-3#2 applied delete identitystore_membership.AWS-Prod-Readers/bob']);
    expect(list({ limit: 2 })).toHaveLength(2);
  });

  it('filters by time, ISO or relative to now', () => {
    expect(list({ since: '3d' }).map((l) => l.split(' ')[0])).toEqual(['run-3#1', 'run-3#2', 'run-3#3']);
    expect(list({ since: '7d' }).map((l) => l.split(' ')[0])).toEqual(['run-2#1', 'run-3#1', 'run-3#2', 'run-3#3']);
    expect(list({ until: '2026-01-11' })).toHaveLength(6);
    expect(list({ since: '2026-01-14T00:00:00Z', until: '2026-01-16T00:00:00Z' })).toEqual([`run-2#1 planned update iam_role.${PROD}.Admin`]);
  });

  it('keeps the leaver\'s reason, the failure and its request id', () => {
    const failed = listChanges(db, { status: 'failed' }, STORY.now)[0];
    expect(failed).toMatchObject({ leaverReason: 'disabled', error: 'ConflictException: User is still referenced', requestIds: ['run-3-3-err'], reason: 'bob is disabled in AD', principalGuid: BOB.guid });
  });

  it('lists runs newest first with counts by final status', () => {
    expect(listRuns(db, {}, STORY.now).map((r) => [r.id, r.mode, r.outcome, r.changes, r.counts])).toEqual([
      ['run-3', 'apply', 'partial', 3, { applied: 2, failed: 1 }],
      ['run-2', 'dry-run', 'planned', 1, { planned: 1 }],
      ['run-1', 'apply', 'applied', 6, { applied: 6 }],
    ]);
    expect(listRuns(db, { since: '7d', limit: 1 }, STORY.now).map((r) => r.id)).toEqual(['run-3']);
  });

  it('shows one run with its changes and every row written for them', () => {
    const shown = showRun(db, 'run-3');
    expect(shown?.run).toMatchObject({ id: 'run-3', outcome: 'partial', error: '1 change failed', plan: { summary: { add: 0, change: 1, destroy: 2, leavers: 1 } } });
    expect(shown?.changes.map((c) => c.status)).toEqual(['applied', 'applied', 'failed']);
    expect(shown?.events.map((e) => `${e.seq}:${e.status}`)).toEqual(['1:pending', '2:pending', '3:pending', '1:intent', '1:applied', '2:intent', '2:applied', '3:intent', '3:failed']);
    expect(showRun(db, 'no-such-run')).toBeNull();
  });

  it('answers who had what before and after the leaver was disabled', () => {
    const who = (asOf: string, q: { user?: string; account?: string } = {}): string[] =>
      accessAsOf(db, { asOf, ...q }, STORY.now).entitlements.map((e) => `${e.userName} ${e.account} ${e.kind} ${e.target} via ${e.viaGroupName}`);
    const before = [`alice ${PROD} iam_role Admin via ${ADMINS.name}`, `bob ${PROD} iam_role Reader via ${READERS.name}`, `bob ${DEV} permission_set ReadOnly via ${READERS.name}`];
    expect(who('2026-01-12T00:00:00Z')).toEqual(before);
    // Run 3 started at 09:00 but its snapshot describes 09:01: until then bob still held access.
    expect(who('2026-01-20T09:00:30Z')).toEqual(before);
    expect(who('2026-01-20T09:01:00Z')).toEqual([`alice ${PROD} iam_role Admin via ${ADMINS.name}`]);
    expect(who('12h', { user: 'bob' })).toEqual([]);
    expect(who('1d', { user: 'bob' })).toHaveLength(2); // Jan 20 09:00, a minute before the snapshot without him
    expect(who('2026-01-12', { user: BOB.upn })).toEqual(before.slice(1));
    expect(who('2026-01-12', { user: ALICE.guid, account: PROD })).toEqual(before.slice(0, 1));
    expect(who('2026-01-12', { account: DEV })).toEqual([before[2]]);
    const none = accessAsOf(db, { asOf: '2026-01-01' }, STORY.now);
    expect(none).toEqual({ asOf: '2026-01-01T00:00:00.000Z', snapshot: null, entitlements: [] });
    expect(accessAsOf(db, { asOf: '2026-01-12' }, STORY.now).snapshot).toEqual({ id: 1, runId: 'run-1', at: STORY.run1.snapshotAt });
  });

  it('renders csv with quoting, jsonl one object a line, and an aligned table', () => {
    const rows = [{ a: 'x,y', b: 'say "hi"' }, { a: 'plain', b: null }];
    const cols = [{ header: 'a', value: (r: (typeof rows)[number]) => r.a }, { header: 'b', value: (r: (typeof rows)[number]) => r.b }];
    expect(render(rows, cols, 'csv')).toBe('a,b\r\n"x,y","say ""hi"""\r\nplain,\r\n');
    expect(render(rows, cols, 'jsonl').trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(rows);
    expect(render(rows, cols, 'table')).toBe('A      B\nx,y    say "hi"\nplain\n');
  });
});

describe('parseTime', () => {
  const now = new Date('2026-01-21T09:00:00.000Z');
  it('reads ISO times and relative ones', () => {
    expect(parseTime('2026-01-01', now).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(parseTime('2026-01-01T12:30:00+02:00', now).toISOString()).toBe('2026-01-01T10:30:00.000Z');
    expect(parseTime('7d', now).toISOString()).toBe('2026-01-14T09:00:00.000Z');
    expect(parseTime('12h', now).toISOString()).toBe('2026-01-20T21:00:00.000Z');
    expect(parseTime('30m', now).toISOString()).toBe('2026-01-21T08:30:00.000Z');
    expect(parseTime('2w', now).toISOString()).toBe('2026-01-07T09:00:00.000Z');
    expect(parseTime('now', now)).toEqual(now);
  });
  it('refuses anything else with a typed error', () => {
    expect(() => parseTime('yesterday', now)).toThrow(InvalidInputError);
    expect(() => parseTime('7 days', now)).toThrow(/cannot read the time "7 days"/);
    expect(() => parseTime('2026-13-45', now)).toThrow(InvalidInputError);
  });
});
