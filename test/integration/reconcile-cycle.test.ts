/**
 * The whole product, through its command line, against the AWS emulator (the real SDK over HTTP)
 * and the demo directory: dry run, apply, saved plans, the safety checks, secrets and the journal's
 * evidence. Each test starts from a fresh emulator and a fresh copy of config/demo/.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteRoleCommand, GetRoleCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, isReadOnly, mutatingCalls, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

let world: World;
let restoreEnv: () => void;

beforeEach(async () => {
  world = await startWorld();
  restoreEnv = useProcessEnv(awsEnv(world));
});

afterEach(async () => {
  restoreEnv();
  await world.stop();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** AWS as the emulator holds it: every service's state but STS's temporary sessions (credentials, not resources). */
function awsState(): unknown {
  const { sts, ...services } = (world.emulator.dump() as { services: Record<string, unknown> }).services;
  expect(sts).toBeDefined();
  return services;
}

/** The demo LDIF's entries, split at blank lines. */
function ldifEntries(text: string): string[] {
  return text.split(/\n\n+/).filter((e) => /^dn::? /m.test(e));
}

function disableLeaver(): void {
  const ldif = readFileSync(world.ldif, 'utf8');
  const disabled = ldif.replace(/(sAMAccountName: juergen\.mueller\n(?:[^\n]+\n)*?)userAccountControl: 512/, '$1userAccountControl: 514');
  expect(disabled).not.toBe(ldif);
  writeFileSync(world.ldif, disabled);
}

/** Keeps the groups and only the users `keep` accepts. */
function shrinkDirectory(keep: (sAMAccountName: string) => boolean): void {
  const entries = ldifEntries(readFileSync(world.ldif, 'utf8'));
  const kept = entries.filter((e) => /^objectClass: group$/m.test(e) || keep(/^sAMAccountName: (.+)$/m.exec(e)?.[1] ?? ''));
  writeFileSync(world.ldif, `${kept.join('\n\n')}\n`);
}

async function applyAll(): Promise<void> {
  const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toMatch(/Apply complete! Resources: \d+ added/);
}

describe('rolemap reconcile against the AWS emulator and the demo directory', () => {
  it('--dry-run never mutates anything, anywhere (joiners and a leaver alike); the journal records the run as planned only', async () => {
    for (const scenario of ['joiners', 'leaver'] as const) {
      if (scenario === 'leaver') {
        await applyAll();
        disableLeaver();
      }
      const before = awsState();
      world.emulator.resetCalls();
      const r = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toMatch(scenario === 'joiners' ? /Plan: 33 to add, 0 to change, 0 to destroy/ : /1 leaver to disable\./);
      expect(r.stdout).not.toContain('Apply complete');

      const calls = world.emulator.calls();
      expect(Object.keys(calls).length, 'the dry run read AWS').toBeGreaterThan(3);
      expect(mutatingCalls(calls), `${scenario}: only List/Get/Describe (and STS AssumeRole) calls`).toEqual({});
      expect(awsState()).toEqual(before);

      const { runs, events } = readJournal(world.journal);
      const run = runs.at(-1);
      expect(run).toMatchObject({ mode: 'dry-run', outcome: 'planned', error: null });
      const rows = events.filter((e) => e.run_id === run?.id);
      expect(rows.length).toBe(scenario === 'joiners' ? 33 : 5);
      expect(new Set(rows.map((e) => e.status))).toEqual(new Set(['planned']));
      expect(rows.every((e) => e.request_ids === null)).toBe(true);
    }
  });

  it('applies, then plans nothing (exit 0); every applied change carries the request ids AWS answered, after its intent row', async () => {
    // Exit 2 when there are changes (dry run), and after an apply that changed something.
    const dry = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(dry.code).toBe(2);
    const apply = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(apply.code, apply.stderr).toBe(2);
    expect(apply.stdout).toContain('Apply complete! Resources: 33 added, 0 changed, 0 destroyed, 0 leaver changes.');
    // AWS really holds what was applied.
    const prod = await world.iam('222222222222');
    const role = await prod.send(new GetRoleCommand({ RoleName: 'PlatformAdmin' }));
    expect(role.Role?.Path).toBe('/federated/');
    expect(role.Role?.Tags).toContainEqual({ Key: 'rolemap:owner', Value: 'rolemap-demo' });

    for (const args of [['--dry-run'], ['--auto-approve']]) {
      world.emulator.resetCalls();
      const again = await rolemap(['reconcile', ...args, '--config', world.config]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('No changes.');
      expect(mutatingCalls(world.emulator.calls())).toEqual({});
    }

    const { runs, events } = readJournal(world.journal);
    expect(runs.map((r) => `${r.mode}:${r.outcome}`)).toEqual(['dry-run:planned', 'apply:applied', 'dry-run:no-changes', 'apply:no-changes']);
    const applyRun = runs[1]?.id;
    const rows = events.filter((e) => e.run_id === applyRun);
    const applied = rows.filter((e) => e.status === 'applied');
    expect(applied).toHaveLength(33);

    // The request ids the emulator issued, as the proxy between rolemap and the emulator saw them.
    const answered = new Map(world.exchanges.map((x) => [x.requestId, x]));
    for (const row of applied) {
      const ids = JSON.parse(row.request_ids ?? 'null') as unknown;
      expect(Array.isArray(ids) && ids.length > 0, `${row.address} has request ids`).toBe(true);
      for (const id of ids as string[]) {
        expect(id).toMatch(UUID);
        expect(answered.get(id), `${row.address}: request id ${id} was issued by AWS`).toBeDefined();
      }
      const mutations = (ids as string[]).map((id) => answered.get(id)).filter((x) => x !== undefined && !isReadOnly(x.operation) && x.status === 200);
      expect(mutations.length, `${row.address}: at least one of its ids is of a successful mutating call`).toBeGreaterThan(0);
    }
    // No request id is claimed by two changes.
    const all = applied.flatMap((r) => JSON.parse(r.request_ids ?? '[]') as string[]);
    expect(new Set(all).size).toBe(all.length);

    // pending (the plan) -> intent (before the AWS call) -> applied (after it), for every change.
    for (const row of applied) {
      const chain = rows.filter((e) => e.seq === row.seq).map((e) => e.status);
      expect(chain, row.address).toEqual(['pending', 'intent', 'applied']);
      const intent = rows.find((e) => e.seq === row.seq && e.status === 'intent');
      expect(intent?.id).toBeLessThan(row.id);
    }
  });

  it('--json prints a versioned plan; --plan FILE applies exactly that plan, and refuses (exit 4, nothing applied) when AWS changed since', async () => {
    const planFile = join(world.dir, 'plan.json');
    const json = await rolemap(['reconcile', '--dry-run', '--json', '--plan-out', planFile, '--config', world.config]);
    expect(json.code, json.stderr).toBe(2);
    const printed = JSON.parse(json.stdout) as { formatVersion: unknown; changes: { address: string }[] };
    expect(printed.formatVersion).toBeDefined();
    expect(printed.changes).toHaveLength(33);
    expect(JSON.parse(readFileSync(planFile, 'utf8'))).toEqual(printed);
    expect(json.stderr).toContain(`Saved the plan to ${planFile}`);
    expect(json.stderr).not.toContain('will be created'); // the human rendering is not mixed into the JSON run

    const saved = await rolemap(['reconcile', '--plan', planFile, '--auto-approve', '--config', world.config]);
    expect(saved.code, saved.stderr).toBe(2);
    const { runs, events } = readJournal(world.journal);
    expect(runs.at(-1)).toMatchObject({ mode: 'saved-plan', outcome: 'applied' });
    const appliedAddresses = events.filter((e) => e.run_id === runs.at(-1)?.id && e.status === 'applied').map((e) => e.address);
    expect(appliedAddresses.sort()).toEqual(printed.changes.map((c) => c.address).sort());

    // A leaver's plan is saved for review; meanwhile someone deletes a role by hand.
    disableLeaver();
    const leaverPlan = join(world.dir, 'leaver.json');
    const review = await rolemap(['reconcile', '--dry-run', '--plan-out', leaverPlan, '--config', world.config]);
    expect(review.code, review.stderr).toBe(2);
    await (await world.iam('111111111111')).send(new DeleteRoleCommand({ RoleName: 'ReadOnly' }));
    const before = awsState();
    world.emulator.resetCalls();
    const stale = await rolemap(['reconcile', '--plan', leaverPlan, '--auto-approve', '--config', world.config]);
    expect(stale.code, stale.stderr).toBe(4);
    expect(stale.stderr).toMatch(/Error: .*(stale|changed)/i);
    expect(stale.stdout).not.toContain('Apply complete');
    expect(mutatingCalls(world.emulator.calls())).toEqual({});
    expect(awsState()).toEqual(before);
    const after = readJournal(world.journal);
    const refused = after.runs.at(-1);
    expect(refused).toMatchObject({ mode: 'saved-plan', outcome: 'refused' });
    expect(after.events.filter((e) => e.run_id === refused?.id && ['intent', 'applied'].includes(e.status))).toEqual([]);
  });

  it('a shrunken directory: past the deletion threshold the plan is refused (exit 3, nothing applied) until --allow-deletes N', async () => {
    await applyAll();
    // Every Identity Center user leaves the snapshot at once (seven other users remain).
    const identityCenterUsers = new Set(['zoe.angstrom', 'juergen.mueller', 'nuno.pena', 'yamada.taro', 'anna.ivanova', 'giorgos.papadopoulos', 'ngoc.nguyen', 'bjork.gudmundsdottir', 'ayse.yilmaz']);
    shrinkDirectory((name) => !identityCenterUsers.has(name));

    const before = awsState();
    world.emulator.resetCalls();
    const refused = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/Plan refused: The plan deletes or disables (\d+) of the \d+ objects rolemap manages/);
    expect(refused.stdout).not.toContain('Apply complete');
    expect(mutatingCalls(world.emulator.calls())).toEqual({});
    expect(awsState()).toEqual(before);
    const n = Number(/--allow-deletes (\d+)/.exec(refused.stderr)?.[1]);
    expect(n).toBeGreaterThan(0);

    // Allowing fewer deletions than the plan makes is not enough.
    const tooFew = await rolemap(['reconcile', '--auto-approve', '--allow-deletes', String(n - 1), '--config', world.config]);
    expect(tooFew.code).toBe(3);
    expect(awsState()).toEqual(before);

    const allowed = await rolemap(['reconcile', '--auto-approve', '--allow-deletes', String(n), '--config', world.config]);
    expect(allowed.code, allowed.stderr).toBe(2);
    expect(allowed.stdout).toMatch(/Apply complete! Resources: 0 added, 0 changed, \d+ destroyed/);
    const { runs } = readJournal(world.journal);
    expect(runs.slice(-3).map((r) => r.outcome)).toEqual(['refused', 'refused', 'applied']);
    const clean = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(clean.code, clean.stdout).toBe(0);
  });

  it('a directory that returns too few users is refused (exit 3) whatever --allow-deletes says', async () => {
    await applyAll();
    const few = new Set(['zoe.angstrom', 'ada.lovelace', 'ayse.yilmaz']);
    shrinkDirectory((name) => few.has(name));
    const before = awsState();
    world.emulator.resetCalls();
    for (const extra of [[], ['--allow-deletes', '1000']]) {
      const r = await rolemap(['reconcile', '--auto-approve', ...extra, '--config', world.config]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('fewer than safety.minDirectoryUsers (5)');
    }
    expect(mutatingCalls(world.emulator.calls())).toEqual({});
    expect(awsState()).toEqual(before);
  });
});
