/**
 * The IAM targets with the core's own desired computation, plan and apply, against the emulator.
 */
import { CreateAccessKeyCommand, CreateLoginProfileCommand, CreateRoleCommand, CreateUserCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IamRolesTarget } from '../../../../src/adapters/aws/iam-roles/iam-roles-target.js';
import { samlTrustPolicy } from '../../../../src/adapters/aws/iam-roles/trust-policy.js';
import { IamUsersTarget } from '../../../../src/adapters/aws/iam-users/iam-users-target.js';
import { applyPlan } from '../../../../src/core/apply/engine.js';
import { computeDesired } from '../../../../src/core/desired/desired.js';
import type { DirectorySnapshot, DirectoryUser } from '../../../../src/core/model/directory.js';
import { REVOCATION_POLICY_NAME } from '../../../../src/core/model/ownership.js';
import type { ResourceKind } from '../../../../src/core/model/resources.js';
import type { RoleMap } from '../../../../src/core/model/role-map.js';
import type { Entitlement } from '../../../../src/core/model/state.js';
import type { Plan } from '../../../../src/core/plan/change.js';
import { calculatePlan } from '../../../../src/core/plan/plan.js';
import type { Target } from '../../../../src/core/ports.js';
import type { IamState } from '../../../aws-emulator/services/iam.js';
import { DEV, PROD, roleMap, spec, startWorld } from './fixtures.js';
import type { World } from './fixtures.js';


const user = (guid: string, sam: string, disabled = false): DirectoryUser => ({
  guid,
  dn: `CN=${sam},OU=Staff,DC=corp,DC=example`,
  sAMAccountName: sam,
  userPrincipalName: `${sam}@corp.example`,
  disabled,
});
const JDOE = '0f8a1c2e-0000-4000-8000-000000000001';
const ASMITH = '0f8a1c2e-0000-4000-8000-000000000002';
const ADMINS = '0f8a1c2e-0000-4000-8000-0000000000a1';
const DEVS = '0f8a1c2e-0000-4000-8000-0000000000a2';

function snapshot(jdoeDisabled: boolean): DirectorySnapshot {
  return {
    source: 'test',
    users: [user(JDOE, 'jdoe', jdoeDisabled), user(ASMITH, 'asmith')],
    groups: [
      { guid: ADMINS, dn: 'CN=AWS-Prod-Admin,OU=Groups,DC=corp,DC=example', sAMAccountName: 'AWS-Prod-Admin', name: 'AWS-Prod-Admin', members: [JDOE] },
      { guid: DEVS, dn: 'CN=AWS-Dev-Developer,OU=Groups,DC=corp,DC=example', sAMAccountName: 'AWS-Dev-Developer', name: 'AWS-Dev-Developer', members: [JDOE, ASMITH] },
    ],
  };
}

let world: World;
let roles: IamRolesTarget;
let users: IamUsersTarget;
let map: RoleMap;

beforeEach(async () => {
  world = await startWorld();
  roles = new IamRolesTarget(world.clients);
  users = new IamUsersTarget(world.clients);
  map = roleMap([
    spec(PROD, 'Admin', { group: { by: 'sAMAccountName', value: 'AWS-Prod-Admin' }, maxSessionDuration: 3600 }),
    spec(DEV, 'Developer', { group: { by: 'sAMAccountName', value: 'AWS-Dev-Developer' }, allowTagSession: true }),
  ]);
});
afterEach(async () => {
  await world.stop();
});

async function plan(disabled: boolean, now: Date, history: readonly Entitlement[] | null): Promise<{ plan: Plan; entitlements: readonly Entitlement[] }> {
  const [r, u] = await Promise.all([roles.readActual(map), users.readActual(map)]);
  const desired = computeDesired(snapshot(disabled), map, now, { last: history });
  const actual = { resources: [...r.resources, ...u.resources], warnings: [...r.warnings, ...u.warnings] };
  return { plan: calculatePlan({ desired, actual, roleMap: map, now }), entitlements: [...desired.entitlements] };
}

function targetFor(kind: ResourceKind): Target {
  return kind === 'iam_user_credentials' ? users : roles;
}

describe('plan and apply with the core', () => {
  it('creates the roles, then a second plan is empty', async () => {
    const now = new Date('2026-11-28T10:00:00.000Z');
    const first = await plan(false, now, null);
    expect(first.plan.summary.add).toBe(2);
    const report = await applyPlan(first.plan, { targetFor });
    expect(report.failed).toBe(0);
    expect(report.results.every((r) => r.requestIds.length > 0)).toBe(true);
    const second = await plan(false, now, first.entitlements);
    expect(second.plan.changes).toEqual([]);
  });

  it('repairs drift, refuses adoption without opt-in, and revokes a leaver everywhere', async () => {
    // An unowned role of a wanted name: reported, left alone.
    await world.console(PROD).send(new CreateRoleCommand({ RoleName: 'Admin', AssumeRolePolicyDocument: JSON.stringify(samlTrustPolicy(PROD, 'ADFS', false)) }));
    const before = JSON.stringify(world.emulator.state<IamState>('iam').accounts[PROD]?.roles['admin']);
    // jdoe's legacy IAM user.
    await world.console(DEV).send(new CreateUserCommand({ UserName: 'jdoe-legacy' }));
    await world.console(DEV).send(new CreateAccessKeyCommand({ UserName: 'jdoe-legacy' }));
    await world.console(DEV).send(new CreateLoginProfileCommand({ UserName: 'jdoe-legacy', Password: 'Correct-Horse-9' }));

    const t0 = new Date('2026-11-28T10:00:00.000Z');
    const first = await plan(false, t0, null);
    expect(first.plan.changes.some((c) => c.key === `iam_role:${PROD}/Admin`)).toBe(false);
    expect(first.plan.warnings.join('\n')).toContain('Admin');
    await applyPlan(first.plan, { targetFor });
    expect(JSON.stringify(world.emulator.state<IamState>('iam').accounts[PROD]?.roles['admin'])).toBe(before);

    // jdoe is disabled in AD.
    const t1 = new Date('2026-11-28T11:00:00.000Z');
    const leaver = await plan(true, t1, first.entitlements);
    const revoke = leaver.plan.changes.find((c) => c.kind === 'iam_role_revocations' && c.account === DEV);
    const disable = leaver.plan.changes.find((c) => c.kind === 'iam_user_credentials');
    expect(revoke?.reason).toContain('jdoe');
    expect(disable?.action).toBe('disable');
    const report = await applyPlan(leaver.plan, { targetFor });
    expect(report.failed).toBe(0);
    const doc = await world.console(DEV).send(new GetRolePolicyCommand({ RoleName: 'Developer', PolicyName: REVOCATION_POLICY_NAME }));
    expect(decodeURIComponent(doc.PolicyDocument ?? '')).toContain('jdoe');
    const jdoe = world.emulator.state<IamState>('iam').accounts[DEV]?.users['jdoe-legacy'];
    expect(jdoe?.accessKeys.every((k) => k.status === 'Inactive')).toBe(true);
    expect(jdoe?.loginProfile).toBeUndefined();
    expect((await plan(true, t1, leaver.entitlements)).plan.changes).toEqual([]);

    // After the role's max session duration the entry is pruned.
    const t2 = new Date(t1.getTime() + 13 * 3600_000);
    const pruned = await plan(true, t2, leaver.entitlements);
    expect(pruned.plan.changes.filter((c) => c.kind === 'iam_role_revocations').length).toBeGreaterThan(0);
    await applyPlan(pruned.plan, { targetFor });
    expect((await plan(true, t2, pruned.entitlements)).plan.changes).toEqual([]);
  });
});
