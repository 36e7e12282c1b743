/**
 * Issue 12, defect 6, with live portal sessions: two leavers of one run share one compact deny statement
 * (a list of UserIds under one instant) in the permission set; the emulator denies both their sessions and
 * not a third person's. The real Identity Center target applies the core's plan.
 */
import { GetInlinePolicyForPermissionSetCommand } from '@aws-sdk/client-sso-admin';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityCenterTarget, InMemoryOwnershipRegistry } from '../../../../src/adapters/aws/identity-center/index.js';
import { applyPlan } from '../../../../src/core/apply/engine.js';
import { computeDesired } from '../../../../src/core/desired/desired.js';
import type { DirectorySnapshot, DirectoryUser } from '../../../../src/core/model/directory.js';
import type { PolicyDocument } from '../../../../src/core/model/policy.js';
import type { RoleMap } from '../../../../src/core/model/role-map.js';
import type { Entitlement } from '../../../../src/core/model/state.js';
import { calculatePlan } from '../../../../src/core/plan/plan.js';
import { probe } from '../../../aws-emulator/probe.js';
import type { IdentitystoreState } from '../../../aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../../../aws-emulator/services/sso-admin.js';
import { startIdentityCenterEmulator, type IcHarness } from '../../../support/identity-center-emulator.js';
import { portalCredentials } from '../../../support/portal.js';
import { DEV, GUID, permissionSetSpec, roleMap as icRoleMap } from './fixtures.js';

const BWHITE = '0b000000-0000-4000-8000-000000000003';
const READ: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
const person = (guid: string, sam: string, disabled = false): DirectoryUser => ({ guid, dn: `CN=${sam},OU=Staff,DC=corp,DC=example`, sAMAccountName: sam, userPrincipalName: `${sam}@corp.example`, mail: `${sam}@corp.example`, givenName: sam, surname: 'Test', displayName: sam, disabled });

let h: IcHarness;
let target: IdentityCenterTarget;
let rm: RoleMap;

function snapshot(leaving: boolean): DirectorySnapshot {
  return {
    source: 'test',
    users: [person(GUID.jdoe, 'jdoe', leaving), person(GUID.asmith, 'asmith', leaving), person(BWHITE, 'bwhite')],
    groups: [{ guid: GUID.devs, dn: 'CN=Developers,OU=Groups,DC=corp,DC=example', sAMAccountName: 'Developers', name: 'Developers', members: [GUID.jdoe, GUID.asmith, BWHITE] }],
  };
}

async function reconcile(leaving: boolean, history: readonly Entitlement[] | null): Promise<readonly Entitlement[]> {
  await new Promise((r) => setTimeout(r, 5));
  const now = new Date();
  const desired = computeDesired(snapshot(leaving), rm, now, { last: history, at: now.toISOString() });
  const report = await applyPlan(calculatePlan({ desired, actual: await target.readActual(rm), roleMap: rm, now }), { targetFor: () => target });
  expect(report.failed).toBe(0);
  return [...desired.entitlements];
}

function userId(userName: string): string {
  const store = Object.values(h.emulator.state<IdentitystoreState>('identitystore').stores)[0];
  const u = Object.values(store?.users ?? {}).find((x) => x.UserName === userName);
  if (!u) throw new Error(`no Identity Store user ${userName}`);
  return u.UserId;
}

beforeEach(async () => {
  h = await startIdentityCenterEmulator();
  h.emulator.asyncDelayMs = 0;
  const base = icRoleMap({ identityCenter: 'remove-access' });
  const ic = base.identityCenter;
  if (!ic) throw new Error('fixture role map has no identityCenter');
  rm = { ...base, identityCenter: { ...ic, permissionSets: [{ ...permissionSetSpec('ReadOnly'), inlinePolicy: READ }], assignments: [{ group: { by: 'guid', value: GUID.devs }, permissionSet: 'ReadOnly', accounts: [DEV] }] } };
  target = new IdentityCenterTarget({ identityStore: h.identityStore, ssoAdmin: h.ssoAdmin, registry: new InMemoryOwnershipRegistry(), rateLimit: { rps: 1000 }, poll: { initialMs: 2, maxMs: 20, timeoutMs: 10_000 } });
});
afterEach(async () => h.stop());

describe('permission-set revocations, one compact statement per run', () => {
  it('two leavers of one run share one statement; both their portal sessions are denied, a third person’s is not', async () => {
    const history = await reconcile(false, null);
    const sessions = await Promise.all(['jdoe', 'asmith', 'bwhite'].map((u) => portalCredentials(h.emulator, { userId: userId(`${u}@corp.example`), permissionSetName: 'ReadOnly', accountId: DEV })));
    const mayAct = async (i: number): Promise<boolean> => (await probe(h.emulator.url, (sessions[i] as (typeof sessions)[number]).credentials)) === 'allowed';
    expect([await mayAct(0), await mayAct(1), await mayAct(2)]).toEqual([true, true, true]);

    await reconcile(true, history);

    const arn = Object.values(h.emulator.state<{ permissionSets: Record<string, { Name: string; PermissionSetArn: string }> }>('sso').permissionSets).find((p) => p.Name === 'ReadOnly')?.PermissionSetArn;
    const inline = JSON.parse((await h.ssoAdmin.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, PermissionSetArn: arn }))).InlinePolicy ?? '{}') as { Statement: { Sid?: string; Condition?: unknown }[] };
    const denies = inline.Statement.filter((s) => s.Sid?.startsWith('RolemapRevoked'));
    expect(denies).toHaveLength(1);
    expect(denies[0]?.Condition).toEqual({ StringEquals: { 'identitystore:UserId': [userId('asmith@corp.example'), userId('jdoe@corp.example')].sort() } });
    expect([await mayAct(0), await mayAct(1), await mayAct(2)]).toEqual([false, false, true]);
  });
});
