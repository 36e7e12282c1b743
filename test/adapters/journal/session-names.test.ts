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
    expect(again.entitlementHistory()).toEqual({ at: '2026-02-01T10:00:05.000Z', last: [alice, bobKept] });
    expect(verifyJournal(again.database)).toMatchObject({ ok: true, snapshotRows: 1 });
    // A name edited afterwards breaks the snapshot's digest.
    again.database.prepare("UPDATE entitlements SET user_principal_name = 'someone.else@corp.example.com' WHERE user_guid = ?").run(ALICE.guid);
    expect(verifyJournal(again.database).ok).toBe(false);
    again.close();
  });

  it('a snapshot written before the session-names migration still verifies after it, and reads back without names', () => {
    const file = tmp.file('old.db');
    // The migrations up to it (later ones, such as change_concerns, are applied by the upgrade too).
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
    expect(upgraded.entitlementHistory()).toEqual({ at: '2026-01-01T00:00:05.000Z', last: [entitlement(ALICE, PROD, 'Admin', ADMINS)] });
    upgraded.close();
  });
});
