/**
 * A role's path cannot change in place (UpdateRole has no Path): through the real command line
 * against the emulator, a path change is planned as a replacement (`-/+`, destroyed and created
 * again), counted by the deletion threshold, and applied; the next plan has no changes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { GetRoleCommand, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

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

describe('a role path change', () => {
  it('is planned as a replacement, counted by the threshold, applied, and then converged', async () => {
    const first = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(first.code, first.stderr).toBe(2);
    writeFileSync(world.config, readFileSync(world.config, 'utf8').replace('path: /federated/', 'path: /moved/'));

    const dry = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(dry.code, dry.stderr).toBe(2);
    expect(dry.stdout).toMatch(/#\d+ -\/\+ iam_role\.prod\.PlatformAdmin will be destroyed and then created again \(replaced\)/);
    expect(dry.stdout).toContain('# replace: IAM cannot change path in place (path "/federated/" -> "/moved/")');
    expect(dry.stdout).toContain('Plan: 1 to add, 0 to change, 1 to destroy');

    // The replacement's deletion counts: with no deletions allowed, the plan is refused.
    const strict = readFileSync(world.config, 'utf8').replace('maxDeletes: 20', 'maxDeletes: 0');
    writeFileSync(world.config, strict);
    const refused = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain('The plan deletes 1 of the');

    const applied = await rolemap(['reconcile', '--auto-approve', '--allow-deletes', '1', '--config', world.config]);
    expect(applied.code, applied.stderr).toBe(2);
    expect(applied.stdout).toContain('Apply complete!');
    const prod = await world.iam('222222222222');
    const role = await prod.send(new GetRoleCommand({ RoleName: 'PlatformAdmin' }));
    expect(role.Role?.Path).toBe('/moved/');
    expect(role.Role?.Tags).toContainEqual({ Key: 'rolemap:owner', Value: 'rolemap-demo' });
    const attached = await prod.send(new ListAttachedRolePoliciesCommand({ RoleName: 'PlatformAdmin' }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual(['arn:aws:iam::aws:policy/PowerUserAccess']);

    const again = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(again.code, again.stdout).toBe(0);
    const { runs } = readJournal(world.journal);
    expect(runs.map((r) => r.outcome)).toEqual(['applied', 'planned', 'refused', 'applied', 'no-changes']);
  });
});
