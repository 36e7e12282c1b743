/**
 * Issue 16, active/standby: two `rolemap daemon` processes (dist/) on one emulator, two journals, one
 * S3 lease of 3 s. Exactly one applies; SIGKILL it and the other takes over and revokes a leaver
 * disabled after the kill (the leaver's live SAML session is then denied by the emulator's policy
 * evaluation); a paused (SIGSTOP) active that wakes up after a takeover sends nothing more, and its
 * fenced attempt is journaled with both epochs. And a standby's journal follows the active's through the
 * archived segments (ha-archive's pullSegments): the same rows, none of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../aws-emulator/probe.js';
import type { DaemonProcess } from '../support/daemon-process.js';
import { LEASE_SECONDS, ROLES, becameActive, startHaWorld } from './ha-world.js';
import type { HaWorld } from './ha-world.js';

let world: HaWorld;

beforeAll(async () => {
  world = await startHaWorld();
});
afterAll(async () => {
  await world?.close();
});

const APPLY_ROWS = "SELECT count(*) AS n FROM change_events WHERE status IN ('intent', 'applied')";
const count = (node: string, sql: string, ...params: unknown[]): number => Number(world.rows(node, sql, ...params)[0]?.['n'] ?? 0);
const finishedRuns = (d: DaemonProcess): number => d.lines.filter((l) => l['msg'] === 'run summary').length;

describe('two bastions, one active (S3 lease, fencing)', () => {
  it('one applies; SIGKILL it and the standby takes over and revokes a leaver disabled after the kill; a paused old active that wakes applies nothing', { timeout: 120_000 }, async () => {
    // Both start at once: the free lease goes to one of them (If-None-Match: *), the other stays standby.
    const a = world.start('a');
    const b = world.start('b');
    await Promise.all([a, b].map((d) => d.until(() => d.lines.some((l) => l['msg'] === 'active/standby: role loop started'), 20_000, 'the role loop')));
    const all = [a, b];
    await a.until(() => all.some((d) => becameActive(d) !== undefined && finishedRuns(d) >= 2), 30_000, 'one daemon active with two runs finished');
    const [active, standby] = becameActive(a) ? [a, b] : [b, a];
    const [activeNode, standbyNode] = active === a ? ['a', 'b'] : ['b', 'a'];
    expect(becameActive(standby)).toBeUndefined();
    expect(count(activeNode, APPLY_ROWS)).toBeGreaterThan(0);
    expect(count(standbyNode, APPLY_ROWS)).toBe(0);
    expect(count(standbyNode, 'SELECT count(*) AS n FROM runs')).toBe(0);
    // The active one's rows carry its lease: epoch 1, its node id.
    expect(world.rows(activeNode, 'SELECT DISTINCT epoch, node_id FROM change_events')).toEqual([{ epoch: 1, node_id: activeNode }]);
    const healthActive = (await (await fetch(`${active.url()}/healthz`)).json()) as { ha: { role: string; epoch: number } };
    // The standby learns who holds the lease at its next attempt (every renewal interval, a third of the lease).
    type StandbyHealth = { healthy: boolean; ha: { role: string; epoch: number; holder: string | null; leaseAgeSeconds: number } };
    let healthStandby = (await (await fetch(`${standby.url()}/healthz`)).json()) as StandbyHealth;
    for (const until = Date.now() + LEASE_SECONDS * 1000; healthStandby.ha.holder !== activeNode && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 100));
      healthStandby = (await (await fetch(`${standby.url()}/healthz`)).json()) as StandbyHealth;
    }
    expect(healthActive.ha).toMatchObject({ role: 'active', epoch: 1 });
    expect(healthStandby).toMatchObject({ healthy: true, ha: { role: 'standby', epoch: 1, holder: activeNode } });
    expect(healthStandby.ha.leaseAgeSeconds).toBeLessThanOrEqual(LEASE_SECONDS);
    const metrics = await (await fetch(`${standby.url()}/metrics`)).text();
    expect(metrics).toMatch(/^rolemap_ha_active 0$/m);
    expect(metrics).toMatch(/^rolemap_ha_epoch 1$/m);
    expect(metrics).toMatch(/^rolemap_ha_lease_age_seconds \d/m);

    // user1 signs in to R1 while they still may.
    const session = await world.login('user1', 'R1');
    expect(await probe(world.emulator.url, session.credentials)).toBe('allowed');

    // SIGKILL the active; user1 leaves after the kill.
    const before = await world.lease();
    active.child.kill('SIGKILL');
    await active.exited;
    world.setDisabled(['user1']);
    await standby.until(() => becameActive(standby) !== undefined, 30_000, 'the standby taking over');
    const after = await world.lease();
    expect(after).toMatchObject({ nodeId: standbyNode, epoch: 2 });
    // Taken only once the old lease had expired by its own timestamps.
    expect(Date.parse(after?.acquiredAt ?? '')).toBeGreaterThan(Date.parse(before?.expiresAt ?? ''));
    const revoked = "SELECT count(*) AS n FROM change_events WHERE status = 'applied' AND kind = 'iam_role_revocations' AND epoch = 2";
    await standby.until(() => count(standbyNode, revoked) > 0, 30_000, 'the new active revoking user1');
    expect(await probe(world.emulator.url, session.credentials)).toBe('denied');

    // The killed node comes back as a standby; the new active is paused in the middle of an apply.
    const back = world.start(activeNode);
    await back.until(() => back.lines.some((l) => l['msg'] === 'active/standby: role loop started'), 20_000, 'the restarted node');
    // Each revocation write takes 3 s: the paused run has four in flight and two waiting.
    world.emulator.injectFault({ kind: 'latency', service: 'iam', operation: 'PutRolePolicy', latencyMs: 3_000 });
    const paused = standby;
    const pausedNode = standbyNode;
    const intentsBefore = count(pausedNode, "SELECT count(*) AS n FROM change_events WHERE status = 'intent'");
    world.setDisabled(['user1', 'user2']);
    await paused.until(() => count(pausedNode, "SELECT count(*) AS n FROM change_events WHERE status = 'intent'") >= intentsBefore + 4, 30_000, 'the active sending four revocations');
    paused.child.kill('SIGSTOP');
    const sentBeforePause = count(pausedNode, "SELECT count(*) AS n FROM change_events WHERE status = 'intent'") - intentsBefore;
    expect(sentBeforePause).toBeLessThan(ROLES.length);
    await back.until(() => becameActive(back) !== undefined, 30_000, 'the restarted node taking over from the paused one');
    expect(await world.lease()).toMatchObject({ nodeId: activeNode, epoch: 3 });
    await back.until(() => count(activeNode, "SELECT count(*) AS n FROM change_events WHERE status = 'applied' AND kind = 'iam_role_revocations' AND epoch = 3") >= 1, 40_000, 'the new active revoking user2');
    world.emulator.clearFaults();

    // Wake the old active: its in-flight calls were already sent; nothing more goes out.
    paused.child.kill('SIGCONT');
    await paused.until(() => paused.lines.some((l) => typeof l['msg'] === 'string' && l['msg'].includes('no longer active')), 20_000, 'the woken node seeing it lost the lease');
    await paused.until(() => count(pausedNode, "SELECT count(*) AS n FROM change_events WHERE error LIKE 'fenced:%'") > 0, 20_000, 'the fenced attempt journaled');
    await paused.until(() => world.rows(pausedNode, "SELECT outcome FROM runs WHERE outcome = 'interrupted' AND error LIKE 'fenced:%'").length > 0, 20_000, 'the fenced run closed as interrupted');
    const sentAfterWake = count(pausedNode, "SELECT count(*) AS n FROM change_events WHERE status = 'intent'") - intentsBefore - sentBeforePause;
    expect(sentAfterWake).toBe(0);
    const fenced = world.rows(pausedNode, "SELECT status, error, epoch, node_id FROM change_events WHERE error LIKE '%fenced:%' ORDER BY id");
    expect(fenced.length, JSON.stringify(world.rows(pausedNode, 'SELECT id, run_id, seq, status, error FROM change_events WHERE id > (SELECT max(id) - 14 FROM change_events)'))).toBe(ROLES.length - sentBeforePause);
    expect(fenced[0]).toMatchObject({ status: 'skipped', epoch: 2, node_id: pausedNode });
    expect(String(fenced[0]?.['error'])).toMatch(/^fenced: epoch 2 mine \(.+\) vs 3 seen \(.+\)/);
    // It stays standby: no run of its own after that.
    const runsThen = count(pausedNode, 'SELECT count(*) AS n FROM runs');
    await new Promise((r) => setTimeout(r, LEASE_SECONDS * 1000));
    expect(count(pausedNode, 'SELECT count(*) AS n FROM runs')).toBe(runsThen);
  });
});

describe('the standby follows the journal through the archive', () => {
  let w: HaWorld;
  beforeAll(async () => {
    w = await startHaWorld({ archive: true });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('pulls the segments the active daemon shipped by itself into its own journal: the same rows, ids and hashes, and no run of its own', { timeout: 90_000 }, async () => {
    const a = w.start('a');
    await a.until(() => becameActive(a) !== undefined && finishedRuns(a) >= 1, 30_000, 'a active with a run finished');
    const b = w.start('b');
    await b.until(() => b.lines.some((l) => l['msg'] === 'active/standby: role loop started'), 20_000, 'the standby');
    // The active ships its new journal rows after each run (journal.archive, in the background); the
    // standby pulls each segment into its own journal every renewal interval.
    const changeRows = (node: string): number => Number(w.rows(node, 'SELECT count(*) AS n FROM change_events')[0]?.['n'] ?? 0);
    await b.until(() => changeRows('b') > 0, 30_000, 'the standby pulling a segment the active shipped');
    const head = w.rows('b', 'SELECT max(id) AS n FROM change_events')[0]?.['n'];
    const rowsOf = (node: string): Record<string, unknown>[] => w.rows(node, 'SELECT id, hash, epoch, node_id FROM change_events WHERE id <= ? ORDER BY id', head);
    expect(rowsOf('b')).toEqual(rowsOf('a'));
    expect(rowsOf('b')[0]).toMatchObject({ epoch: 1, node_id: 'a' });
    // Every run in b's journal is a's: the standby wrote none of its own.
    const runsOf = (node: string): unknown[] => w.rows(node, 'SELECT id, node_id FROM runs ORDER BY id').map((r) => r['node_id']);
    expect(runsOf('b').length).toBeGreaterThan(0);
    expect(new Set(runsOf('b'))).toEqual(new Set(['a']));
  });
});
