/**
 * Issue 12, defect 1: the entitlement history keeps every name a session can carry (UPN, mail; the
 * sAMAccountName was always there) per objectGUID, and when a kept grant was last seen, in a real
 * SQLite journal; snapshots written before the session-names migration still verify after it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS, SqliteJournal, loadMigrations, migrate, openForWrite, verifyJournal } from '../../../src/adapters/journal/index.js';
import { entitlementsDigest, snapshotHash } from '../../../src/adapters/journal/chain.js';
import type { Entitlement } from '../../../src/core/model/state.js';
import { ADMINS, ALICE, BOB, PROD, READERS, entitlement, manualClock, runStart, tempDir } from './fixtures.js';

const shipped = loadMigrations();

describe('the entitlement history keeps the names a session can carry', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('returns UPN, mail and a kept grant’s seenAt as they were recorded, with the snapshot’s time', () => {
    const journal = SqliteJournal.open(tmp.file('journal.db'), { clock: manualClock('2026-02-01T10:00:00.000Z') });
    journal.startRun(runStart('r1', '2026-02-01T10:00:00.000Z'));
    const alice: Entitlement = { ...entitlement(ALICE, PROD, 'Admin', ADMINS), userPrincipalName: ALICE.upn, mail: 'a.smith@mail.corp.example.com' };
    const bobKept: Entitlement = { ...entitlement(BOB, PROD, 'Reader', READERS), userPrincipalName: BOB.upn, seenAt: '2026-02-01T09:00:00.000Z' };
    journal.recordEntitlements('r1', '2026-02-01T10:00:05.000Z', [alice, bobKept]);
    journal.close();

    const again = SqliteJournal.open(tmp.file('journal.db'));
    const { names, ...history } = again.entitlementHistory(new Date('2026-02-01T10:30:00.000Z'));
    expect({ ...history, last: [...(history.last ?? [])] }).toEqual({ at: '2026-02-01T10:00:05.000Z', last: [alice, bobKept] });
    expect(names?.get(ALICE.guid)).toEqual([{ sAMAccountName: ALICE.name, userPrincipalName: ALICE.upn, mail: 'a.smith@mail.corp.example.com' }]);
    expect(verifyJournal(again.database)).toMatchObject({ ok: true, snapshotRows: 1 });
    // A name edited afterwards breaks the snapshot's digest.
    again.database.prepare("UPDATE entitlements SET user_principal_name = 'someone.else@corp.example.com' WHERE user_guid = ?").run(ALICE.guid);
    expect(verifyJournal(again.database).ok).toBe(false);
    again.close();
  });

  it('a snapshot written before the session-names migration still verifies after it, and reads back without names', () => {
    const file = tmp.file('old.db');
    // The migrations a rolemap before this one had: every one before session_names (later ones, too, come after it).
    const at = shipped.findIndex((m) => m.name.slice(4) === 'session_names');
    const before = shipped.slice(0, at);
    const db = openForWrite(file);
    migrate(db, file, before);
    // What a rolemap before the migration wrote: a run, a snapshot header chained from genesis, its rows (seven columns).
    db.prepare("INSERT INTO runs (id, trigger, mode, host, version, config_hash, started_at) VALUES ('old', 'cli', 'apply', 'h', '0.0.9', 'x', '2026-01-01T00:00:00.000Z')").run();
    const row = { user_guid: ALICE.guid, user_name: ALICE.name, account: PROD, kind: 'iam_role', target: 'Admin', via_group_guid: ADMINS.guid, via_group_name: ADMINS.name };
    const content = { id: 1, run_id: 'old', at: '2026-01-01T00:00:05.000Z', entitlements: 1, digest: entitlementsDigest([row]) };
    db.prepare('INSERT INTO entitlement_snapshots (id, run_id, at, entitlements, digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      content.id, content.run_id, content.at, content.entitlements, content.digest, GENESIS, snapshotHash(GENESIS, content),
    );
    db.prepare('INSERT INTO entitlements (snapshot_id, user_guid, user_name, account, kind, target, via_group_guid, via_group_name) VALUES (1, @user_guid, @user_name, @account, @kind, @target, @via_group_guid, @via_group_name)').run(row);
    db.close();

    const upgraded = SqliteJournal.open(file);
    expect(upgraded.migrated.map((m) => m.slice(4))).toEqual(shipped.slice(at).map((m) => m.name.slice(4)));
    expect(upgraded.migrated[0]?.slice(4)).toBe('session_names');
    expect(verifyJournal(upgraded.database)).toMatchObject({ ok: true, snapshotRows: 1 });
    const { names, ...history } = upgraded.entitlementHistory(new Date('2026-01-01T01:00:00.000Z'));
    expect({ ...history, last: [...(history.last ?? [])] }).toEqual({ at: '2026-01-01T00:00:05.000Z', last: [entitlement(ALICE, PROD, 'Admin', ADMINS)] });
    expect(names?.get(ALICE.guid)).toEqual([{ sAMAccountName: ALICE.name }]);
    upgraded.close();
  });
});

describe('the entitlement history gives every name a live session can still carry (a rename in AD)', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  const RENAMED = { name: 'alice.jones', upn: 'alice.jones@corp.example.com' };
  const aliceAs = (name: string, upn: string): Entitlement => ({ ...entitlement(ALICE, PROD, 'Admin', ADMINS), userName: name, userPrincipalName: upn, mail: upn });
  const bob: Entitlement = { ...entitlement(BOB, PROD, 'Reader', READERS), userPrincipalName: BOB.upn };

  /** Snapshots at 00:00 (alice's old names), 02:00 (renamed), and optionally 20:00 (unchanged), each in a run of its own. */
  function journalWithRename(third: boolean): string {
    const file = tmp.file('journal.db');
    const clock = manualClock('2026-02-01T00:00:00.000Z');
    const journal = SqliteJournal.open(file, { clock });
    const snapshots: [string, Entitlement[]][] = [
      ['2026-02-01T00:00:00.000Z', [aliceAs(ALICE.name, ALICE.upn), bob]],
      ['2026-02-01T02:00:00.000Z', [aliceAs(RENAMED.name, RENAMED.upn), bob]],
      ...(third ? ([['2026-02-01T20:00:00.000Z', [aliceAs(RENAMED.name, RENAMED.upn), bob]]] as [string, Entitlement[]][]) : []),
    ];
    snapshots.forEach(([at, rows], i) => {
      clock.set(at);
      journal.startRun(runStart(`r${i}`, at));
      journal.recordEntitlements(`r${i}`, at, rows);
      journal.finishRun(`r${i}`, { outcome: 'applied', finishedAt: at });
    });
    journal.close();
    return file;
  }

  it('an hour after the rename: the new names (carried now) and the old ones, until the snapshot that replaced them', () => {
    const journal = SqliteJournal.open(journalWithRename(false));
    const history = journal.entitlementHistory(new Date('2026-02-01T03:00:00.000Z'));
    // `last` is the latest snapshot, as before: the new names only.
    expect([...(history.last ?? [])].filter((e) => e.userGuid === ALICE.guid).map((e) => e.userPrincipalName)).toEqual([RENAMED.upn]);
    expect(history.names?.get(ALICE.guid)).toEqual([
      { sAMAccountName: RENAMED.name, userPrincipalName: RENAMED.upn, mail: RENAMED.upn },
      { sAMAccountName: ALICE.name, userPrincipalName: ALICE.upn, mail: ALICE.upn, until: '2026-02-01T02:00:00.000Z' },
    ]);
    expect(history.names?.get(BOB.guid)).toEqual([{ sAMAccountName: BOB.name, userPrincipalName: BOB.upn }]);
    journal.close();
  });

  it('the journal’s own clock is the default: the same answer from a journal opened at that time', () => {
    const journal = SqliteJournal.open(journalWithRename(false), { clock: manualClock('2026-02-01T03:00:00.000Z') });
    expect(journal.entitlementHistory().names?.get(ALICE.guid)?.map((n) => n.userPrincipalName)).toEqual([RENAMED.upn, ALICE.upn]);
    journal.close();
  });

  it('just under 12 hours (the longest session) after the snapshot that replaced it the old name is still there; just over, it is gone', () => {
    const journal = SqliteJournal.open(journalWithRename(false));
    expect(journal.entitlementHistory(new Date('2026-02-01T13:59:59.000Z')).names?.get(ALICE.guid)?.map((n) => n.userPrincipalName)).toEqual([RENAMED.upn, ALICE.upn]);
    expect(journal.entitlementHistory(new Date('2026-02-01T14:00:01.000Z')).names?.get(ALICE.guid)?.map((n) => n.userPrincipalName)).toEqual([RENAMED.upn]);
    journal.close();
  });

  it('later snapshots do not bring an old name back: only snapshots that can matter are read', () => {
    const journal = SqliteJournal.open(journalWithRename(true));
    // 20:30: the window starts 08:30; the 02:00 snapshot (the last before it) is read, the 00:00 one is not.
    const names = journal.entitlementHistory(new Date('2026-02-01T20:30:00.000Z')).names;
    expect(names?.get(ALICE.guid)).toEqual([{ sAMAccountName: RENAMED.name, userPrincipalName: RENAMED.upn, mail: RENAMED.upn }]);
    journal.close();
  });

  it('someone who left (no longer in the latest snapshot) keeps the names of their last snapshot, until the one after it', () => {
    const file = journalWithRename(false);
    const clock = manualClock('2026-02-01T04:00:00.000Z');
    const journal = SqliteJournal.open(file, { clock });
    journal.startRun(runStart('r-left', '2026-02-01T04:00:00.000Z'));
    journal.recordEntitlements('r-left', '2026-02-01T04:00:00.000Z', [bob]);
    const names = journal.entitlementHistory(new Date('2026-02-01T05:00:00.000Z')).names;
    expect(names?.get(ALICE.guid)).toEqual([
      { sAMAccountName: RENAMED.name, userPrincipalName: RENAMED.upn, mail: RENAMED.upn, until: '2026-02-01T04:00:00.000Z' },
      { sAMAccountName: ALICE.name, userPrincipalName: ALICE.upn, mail: ALICE.upn, until: '2026-02-01T02:00:00.000Z' },
    ]);
    journal.close();
  });

  it('is read per person when asked, from the snapshots there were when the history was read: one written afterwards (this run’s) is not', () => {
    const file = journalWithRename(false);
    const clock = manualClock('2026-02-01T04:00:00.000Z');
    const journal = SqliteJournal.open(file, { clock });
    const names = journal.entitlementHistory(new Date('2026-02-01T04:00:00.000Z')).names;
    // This run renames alice again and writes its snapshot before the plan asks for her names.
    journal.startRun(runStart('r-now', '2026-02-01T04:00:00.000Z'));
    journal.recordEntitlements('r-now', '2026-02-01T04:00:00.000Z', [aliceAs('alice.brown', 'alice.brown@corp.example.com'), bob]);
    const alice = names?.get(ALICE.guid);
    expect(alice?.map((n) => [n.userPrincipalName, n.until])).toEqual([
      [RENAMED.upn, undefined],
      [ALICE.upn, '2026-02-01T02:00:00.000Z'],
    ]);
    // Asked again: the same answer (read once); someone the journal never saw: nothing.
    expect(names?.get(ALICE.guid)).toBe(alice);
    expect(names?.get('00000000-0000-4000-8000-00000000dead')).toBeUndefined();
    // A history read now sees the new snapshot.
    expect(journal.entitlementHistory(new Date('2026-02-01T04:30:00.000Z')).names?.get(ALICE.guid)?.map((n) => n.userPrincipalName)).toEqual([
      'alice.brown@corp.example.com',
      RENAMED.upn,
      ALICE.upn,
    ]);
    journal.close();
  });
});
