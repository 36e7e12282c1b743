/**
 * The IAM roles target against the emulator, with the real SDK, three workload accounts reached
 * through STS AssumeRole. Each test reads actual state, builds the change the way the core would,
 * applies it, and reads again.
 */
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  DeleteSAMLProviderCommand,
  GetRolePolicyCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsCallError } from '../../../../src/adapters/aws/call-error.js';
import { IamChangeRefusedError, SamlProviderMissingError } from '../../../../src/adapters/aws/iam-roles/errors.js';
import { IamRolesTarget } from '../../../../src/adapters/aws/iam-roles/iam-roles-target.js';
import { parseRevocationPolicy } from '../../../../src/adapters/aws/iam-roles/revocation-policy.js';
import { samlTrustPolicy } from '../../../../src/adapters/aws/iam-roles/trust-policy.js';
import { OWNER_TAG, REVOCATION_POLICY_NAME } from '../../../../src/core/model/ownership.js';
import type { ResourceOf } from '../../../../src/core/model/resources.js';
import type { IamState } from '../../../aws-emulator/services/iam.js';
import {
  BOUNDARY,
  DEV,
  OWNER,
  PROD,
  READ_ONLY,
  SANDBOX,
  SECURITY,
  VIEW_ONLY,
  WORKLOADS,
  attrDiffs,
  change,
  desiredRole,
  find,
  localPlan,
  revocations,
  roleMap,
  spec,
  startWorld,
} from './fixtures.js';
import type { World } from './fixtures.js';

let world: World;
let target: IamRolesTarget;

beforeEach(async () => {
  world = await startWorld();
  target = new IamRolesTarget(world.clients);
});
afterEach(async () => {
  await world.stop();
});

async function applyAll(changes: ReturnType<typeof localPlan>): Promise<string[]> {
  const ids: string[] = [];
  for (const c of changes) ids.push(...(await target.apply(c)).requestIds);
  return ids;
}

async function roleIn(account: string, name: string): Promise<ResourceOf<'iam_role'>> {
  const r = find((await target.readActual(roleMap())).resources, 'iam_role', `${account}/${name}`);
  if (!r) throw new Error(`no role ${account}/${name}`);
  return r;
}

const S3_READ = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }] };

describe('creating roles in three accounts through assumed roles', () => {
  it('creates each role in its own account, owned, equal to the desired state, with one STS call per account', async () => {
    const specs = WORKLOADS.map((a) => spec(a, 'Admin', { inlinePolicies: { 's3-read': S3_READ }, permissionsBoundary: BOUNDARY, maxSessionDuration: 7200 }));
    const desired = specs.map(desiredRole);
    const plan = localPlan(desired, (await target.readActual(roleMap(specs))).resources);
    expect(plan.map((c) => `${c.action} ${c.address}`)).toEqual(['create iam_role.prod.Admin', 'create iam_role.dev.Admin', 'create iam_role.sandbox.Admin']);

    const ids = await applyAll(plan);
    // CreateRole + AttachRolePolicy + PutRolePolicy per account, each with its request id.
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(9);

    const actual = await target.readActual(roleMap(specs));
    for (const d of desired) {
      const a = find(actual.resources, 'iam_role', d.id);
      expect(a?.owned).toBe(true);
      expect(a?.awsId).toMatch(/^AROA/);
      expect(attrDiffs(a!, d)).toEqual([]);
    }
    expect(localPlan(desired, actual.resources)).toEqual([]);
    // The roles live in the workload accounts, not in the account of the base credentials.
    const iam = world.emulator.state<IamState>('iam');
    expect(Object.keys(iam.accounts[SECURITY]?.roles ?? {})).toEqual([]);
    for (const a of WORKLOADS) expect(iam.accounts[a]?.roles['admin']?.tags).toContainEqual({ Key: OWNER_TAG, Value: OWNER });
    // One STS call per account, made once when the clients were first used, then cached.
    expect(world.setupCalls['sts:AssumeRole']).toBe(3);
    expect(world.emulator.calls()['sts:AssumeRole']).toBeUndefined();
  });
});

describe('updating a role in place, one attribute at a time', () => {
  const base = spec(PROD, 'Dev', { managedPolicyArns: [READ_ONLY], inlinePolicies: { 's3-read': S3_READ }, tags: { team: 'platform', cost: 'cc-1' } });

  beforeEach(async () => {
    await applyAll(localPlan([desiredRole(base)], (await target.readActual(roleMap([base]))).resources));
    world.emulator.resetCalls();
  });

  const cases: { name: string; to: Partial<Parameters<typeof spec>[2]>; calls: Record<string, number> }[] = [
    { name: 'trust policy (session tags allowed)', to: { allowTagSession: true }, calls: { 'iam:UpdateAssumeRolePolicy': 1 } },
    { name: 'description', to: { description: 'Developers of the payments team' }, calls: { 'iam:UpdateRole': 1 } },
    { name: 'max session duration', to: { maxSessionDuration: 43200 }, calls: { 'iam:UpdateRole': 1 } },
    { name: 'boundary added', to: { permissionsBoundary: BOUNDARY }, calls: { 'iam:PutRolePermissionsBoundary': 1 } },
    { name: 'tag changed and tag added', to: { tags: { team: 'payments', cost: 'cc-1', env: 'prod' } }, calls: { 'iam:TagRole': 1 } },
    { name: 'tag removed', to: { tags: { team: 'platform' } }, calls: { 'iam:UntagRole': 1 } },
    { name: 'managed policy swapped', to: { managedPolicyArns: [VIEW_ONLY] }, calls: { 'iam:AttachRolePolicy': 1, 'iam:DetachRolePolicy': 1 } },
    { name: 'inline policy changed', to: { inlinePolicies: { 's3-read': { ...S3_READ, Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }] } } }, calls: { 'iam:PutRolePolicy': 1 } },
    { name: 'inline policy removed', to: { inlinePolicies: {} }, calls: { 'iam:DeleteRolePolicy': 1 } },
  ];

  for (const c of cases) {
    it(`changes only the ${c.name}`, async () => {
      const want = desiredRole(spec(PROD, 'Dev', { ...base, ...c.to }));
      const plan = localPlan([want], (await target.readActual(roleMap([base]))).resources);
      expect(plan).toHaveLength(1);
      expect(plan[0]?.action).toBe('update');
      world.emulator.resetCalls();
      const { requestIds } = await target.apply(plan[0]!);
      const mutating = Object.fromEntries(Object.entries(world.emulator.calls()).filter(([k]) => !k.startsWith('sts:')));
      expect(mutating).toEqual(c.calls);
      expect(requestIds).toHaveLength(Object.values(c.calls).reduce((a, b) => a + b, 0));
      const after = await roleIn(PROD, 'Dev');
      expect(attrDiffs(after, want)).toEqual([]);
    });
  }

  it('removes a boundary it set', async () => {
    const withBoundary = desiredRole(spec(PROD, 'Dev', { ...base, permissionsBoundary: BOUNDARY }));
    await applyAll(localPlan([withBoundary], (await target.readActual(roleMap([base]))).resources));
    const without = desiredRole(base);
    const plan = localPlan([without], (await target.readActual(roleMap([base]))).resources);
    expect(plan[0]?.diffs.map((d) => d.name)).toEqual(['permissionsBoundary']);
    await applyAll(plan);
    expect((await roleIn(PROD, 'Dev')).attrs.permissionsBoundary).toBeNull();
  });

  it('refuses a path change, which IAM cannot do in place, before calling AWS', async () => {
    const moved = desiredRole(spec(PROD, 'Dev', { ...base, path: '/elsewhere/' }));
    const plan = localPlan([moved], (await target.readActual(roleMap([base]))).resources);
    world.emulator.resetCalls();
    await expect(target.apply(plan[0]!)).rejects.toBeInstanceOf(IamChangeRefusedError);
    expect(Object.keys(world.emulator.calls()).filter((k) => k.startsWith('iam:'))).toEqual([]);
  });
});

describe('UpdateRole sends both settings (issue 17 item 12)', () => {
  // API_UpdateRole, MaxSessionDuration: "If you do not specify a value for this setting, the default value of one hour is applied."
  it('a description change keeps a 12-hour max session duration', async () => {
    const long = spec(PROD, 'Long', { maxSessionDuration: 43200, description: 'old' });
    await applyAll(localPlan([desiredRole(long)], (await target.readActual(roleMap([long]))).resources));
    const renamed = spec(PROD, 'Long', { maxSessionDuration: 43200, description: 'Payments on call' });
    const plan = localPlan([desiredRole(renamed)], (await target.readActual(roleMap([renamed]))).resources);
    expect(plan[0]?.diffs.map((d) => d.name)).toEqual(['description']);
    await applyAll(plan);
    const after = await roleIn(PROD, 'Long');
    expect([after.attrs.description, after.attrs.maxSessionDuration]).toEqual(['Payments on call', 43200]);
    // Converged: the next plan is empty.
    expect(localPlan([desiredRole(renamed)], (await target.readActual(roleMap([renamed]))).resources)).toEqual([]);
  });

  it('a max session duration change keeps the description', async () => {
    const s = spec(PROD, 'Desc', { description: 'Auditors', maxSessionDuration: 3600 });
    await applyAll(localPlan([desiredRole(s)], (await target.readActual(roleMap([s]))).resources));
    const longer = spec(PROD, 'Desc', { description: 'Auditors', maxSessionDuration: 28800 });
    await applyAll(localPlan([desiredRole(longer)], (await target.readActual(roleMap([longer]))).resources));
    const after = await roleIn(PROD, 'Desc');
    expect([after.attrs.description, after.attrs.maxSessionDuration]).toEqual(['Auditors', 28800]);
  });
});

describe('deleting a role', () => {
  it('detaches managed policies, deletes inline and revocation policies, then the role', async () => {
    const s = spec(DEV, 'Old', { managedPolicyArns: [READ_ONLY, VIEW_ONLY], inlinePolicies: { 's3-read': S3_READ } });
    await applyAll(localPlan([desiredRole(s)], []));
    await target.apply(change('revoke', null, revocations(DEV, 'Old', { 'jdoe@corp.example': '2026-11-28T09:00:00.000Z' })));
    const plan = localPlan([], (await target.readActual(roleMap())).resources);
    expect(plan.map((c) => `${c.action} ${c.key}`).sort()).toEqual([`delete iam_role:${DEV}/Old`, `delete iam_role_revocations:${DEV}/Old`]);
    const roleDelete = plan.find((c) => c.kind === 'iam_role')!;
    const { requestIds } = await target.apply(roleDelete);
    // 2 detach + 2 inline deletes + DeleteRole
    expect(requestIds).toHaveLength(5);
    expect(find((await target.readActual(roleMap())).resources, 'iam_role', `${DEV}/Old`)).toBeUndefined();
    // The revocation change that follows finds the policy gone with its role and succeeds.
    await expect(target.apply(plan.find((c) => c.kind === 'iam_role_revocations')!)).resolves.toEqual({ requestIds: [] });
  });

  it('removes an adopted role from the instance profiles it sits in before deleting it, keeping every request id', async () => {
    const c = world.console(PROD);
    await c.send(new CreateRoleCommand({ RoleName: 'Legacy', AssumeRolePolicyDocument: JSON.stringify(samlTrustPolicy(PROD, 'ADFS', false)) }));
    await c.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'legacy-web' }));
    await c.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'legacy-batch' }));
    // AWS allows one role per profile, so the role sits in two profiles, one role each.
    await c.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'legacy-web', RoleName: 'Legacy' }));
    await c.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'legacy-batch', RoleName: 'Legacy' }));
    const adopting = spec(PROD, 'Legacy', { path: '/', adopt: true });
    await target.apply(change('update', await roleIn(PROD, 'Legacy'), desiredRole(adopting)));
    const owned = await roleIn(PROD, 'Legacy');
    expect(owned.owned).toBe(true);

    // A DeleteRole that fails after the removals: the error keeps the request ids of the calls that took effect.
    world.emulator.injectFault({ kind: 'error', operation: 'DeleteRole', code: 'DeleteConflict', status: 409, message: 'injected', times: 1 });
    const failed = await target.apply(change('delete', owned, null)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AwsCallError);
    expect((failed as AwsCallError).completedRequestIds).toHaveLength(3);
    world.emulator.clearFaults();
    await c.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'legacy-web', RoleName: 'Legacy' }));
    await c.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'legacy-batch', RoleName: 'Legacy' }));
    await c.send(new AttachRolePolicyCommand({ RoleName: 'Legacy', PolicyArn: READ_ONLY }));

    world.emulator.resetCalls();
    const { requestIds } = await target.apply(change('delete', owned, null));
    // DetachRolePolicy (the spec's managed policy), two RemoveRoleFromInstanceProfile, DeleteRole: each with its request id.
    expect(world.emulator.calls()).toMatchObject({ 'iam:DetachRolePolicy': 1, 'iam:RemoveRoleFromInstanceProfile': 2, 'iam:DeleteRole': 1 });
    expect(requestIds).toHaveLength(4);
    expect(new Set(requestIds).size).toBe(4);
    expect(find((await target.readActual(roleMap())).resources, 'iam_role', `${PROD}/Legacy`)).toBeUndefined();
    // The profiles themselves are not rolemap's: they stay, empty.
    expect((await c.send(new GetInstanceProfileCommand({ InstanceProfileName: 'legacy-web' }))).InstanceProfile?.Roles).toEqual([]);
  });

  it('refuses to delete a role it does not own', async () => {
    await world.console(PROD).send(new CreateRoleCommand({ RoleName: 'BreakGlass', AssumeRolePolicyDocument: JSON.stringify(samlTrustPolicy(PROD, 'ADFS', false)) }));
    const r = await roleIn(PROD, 'BreakGlass');
    expect(r.owned).toBe(false);
    await expect(target.apply(change('delete', r, null))).rejects.toBeInstanceOf(IamChangeRefusedError);
    expect(await roleIn(PROD, 'BreakGlass')).toBeDefined();
  });
});

describe('drift', () => {
  it('repairs a hand-edited trust policy and an extra attached policy', async () => {
    const s = spec(SANDBOX, 'Ops');
    const want = desiredRole(s);
    await applyAll(localPlan([want], []));
    const open = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' }] };
    await world.console(SANDBOX).send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Ops', PolicyDocument: JSON.stringify(open) }));
    await world.console(SANDBOX).send(new AttachRolePolicyCommand({ RoleName: 'Ops', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));

    const plan = localPlan([want], (await target.readActual(roleMap([s]))).resources);
    expect(plan).toHaveLength(1);
    expect(plan[0]?.diffs.map((d) => d.name).sort()).toEqual(['managedPolicyArns', 'trustPolicy']);
    await applyAll(plan);
    const after = await roleIn(SANDBOX, 'Ops');
    expect(attrDiffs(after, want)).toEqual([]);
    expect(after.attrs.managedPolicyArns).toEqual([READ_ONLY]);
  });

  it('sees no drift in URL-encoded, reordered, AWS-spelled documents', async () => {
    // Created by hand in AWS's own spelling: other key order, whitespace, one-element lists.
    const handTrust = `{
      "Statement": [ { "Condition": {"StringEquals": {"SAML:aud": ["https://signin.aws.amazon.com/saml"]}},
        "Action": ["sts:AssumeRoleWithSAML"], "Principal": {"Federated": ["arn:aws:iam::${PROD}:saml-provider/ADFS"]}, "Effect": "Allow" } ],
      "Version": "2012-10-17" }`;
    const handInline = '{"Version":"2012-10-17","Statement":{"Resource":["*"],"Action":["s3:ListBucket","s3:GetObject"],"Effect":"Allow"}}';
    const c = world.console(PROD);
    await c.send(new CreateRoleCommand({ RoleName: 'Reader', Path: '/federated/', AssumeRolePolicyDocument: handTrust, Description: 'Reader for AD group AWS-222222222222-Reader', Tags: [{ Key: 'team', Value: 'platform' }, { Key: OWNER_TAG, Value: OWNER }] }));
    await c.send(new AttachRolePolicyCommand({ RoleName: 'Reader', PolicyArn: READ_ONLY }));
    await c.send(new PutRolePolicyCommand({ RoleName: 'Reader', PolicyName: 's3-read', PolicyDocument: handInline }));
    // On the wire the documents are URL-encoded, as AWS sends them.
    const raw = await c.send(new GetRolePolicyCommand({ RoleName: 'Reader', PolicyName: 's3-read' }));
    expect(raw.PolicyDocument).toMatch(/^%7B%22Version%22/);

    const s = spec(PROD, 'Reader', { inlinePolicies: { 's3-read': S3_READ }, description: 'Reader for AD group AWS-222222222222-Reader' });
    const actual = await target.readActual(roleMap([s]));
    expect(localPlan([desiredRole(s)], actual.resources)).toEqual([]);
  });
});

describe('ownership', () => {
  it('reports an unowned role with a wanted name and leaves it alone unless adoption is asked for', async () => {
    const c = world.console(DEV);
    await c.send(new CreateRoleCommand({ RoleName: 'Admin', AssumeRolePolicyDocument: JSON.stringify(samlTrustPolicy(DEV, 'ADFS', false)), Tags: [{ Key: 'owner', Value: 'someone-else' }] }));
    const s = spec(DEV, 'Admin', { path: '/' });
    const read = await target.readActual(roleMap([s]));
    const r = find(read.resources, 'iam_role', `${DEV}/Admin`)!;
    expect(r.owned).toBe(false);
    expect(read.warnings).toEqual([expect.stringContaining('iam_role.dev.Admin: exists without rolemap:owner=corp-prod; left alone')]);
    // An update that does not adopt it is refused by the target as well as by the core's filter.
    const notAdopting = { ...desiredRole(s), attrs: { ...desiredRole(s).attrs, tags: { team: 'platform' } } };
    await expect(target.apply(change('update', r, notAdopting))).rejects.toBeInstanceOf(IamChangeRefusedError);

    // With adopt: true no warning, and the update that adds the owner tag takes it over.
    const adopting = spec(DEV, 'Admin', { path: '/', adopt: true });
    const read2 = await target.readActual(roleMap([adopting]));
    expect(read2.warnings).toEqual([]);
    await target.apply(change('update', r, desiredRole(adopting)));
    const after = await roleIn(DEV, 'Admin');
    expect(after.owned).toBe(true);
    expect(attrDiffs(after, desiredRole(adopting))).toEqual([]);
  });

  it('warns when the role map spells an existing role name in another case', async () => {
    const s = spec(PROD, 'Admin');
    await applyAll(localPlan([desiredRole(s)], []));
    const { warnings } = await target.readActual(roleMap([spec(PROD, 'ADMIN')]));
    expect(warnings).toEqual([expect.stringContaining('iam_role.prod.Admin: the role map spells it "ADMIN"')]);
  });

  it('leaves an unowned role of the same name in another account untouched', async () => {
    await world.console(SANDBOX).send(
      new CreateRoleCommand({ RoleName: 'Admin', Path: '/legacy/', AssumeRolePolicyDocument: JSON.stringify(samlTrustPolicy(SANDBOX, 'ADFS', false)), Description: 'made by hand' }),
    );
    await world.console(SANDBOX).send(new AttachRolePolicyCommand({ RoleName: 'Admin', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    const before = JSON.stringify(world.emulator.state<IamState>('iam').accounts[SANDBOX]?.roles['admin']);

    const specs = [spec(PROD, 'Admin'), spec(DEV, 'Admin')];
    await applyAll(localPlan(specs.map(desiredRole), (await target.readActual(roleMap(specs))).resources));
    const second = localPlan(specs.map(desiredRole), (await target.readActual(roleMap(specs))).resources);
    expect(second).toEqual([]);
    expect(JSON.stringify(world.emulator.state<IamState>('iam').accounts[SANDBOX]?.roles['admin'])).toBe(before);
  });
});

describe('SAML providers', () => {
  it('reports a missing provider naming the account and provider; that account is unreadable, the others are read', async () => {
    await world.console(DEV).send(new DeleteSAMLProviderCommand({ SAMLProviderArn: `arn:aws:iam::${DEV}:saml-provider/ADFS` }));
    const specs = [spec(PROD, 'Admin'), spec(DEV, 'Admin'), spec(DEV, 'Ops', { samlProvider: 'Okta' })];
    const state = await target.readActual(roleMap(specs));
    expect(state.unreadable?.map((u) => u.account)).toEqual([DEV]);
    expect(state.unreadable?.[0]?.reason).toContain('"ADFS" in account dev (333333333333)');
    expect(state.resources.every((r) => r.account !== DEV)).toBe(true);
    // Only when no account can be read does the read throw.
    const devOnly = roleMap(specs.filter((x) => x.account === DEV));
    const err = await target.readActual({ ...devOnly, accounts: devOnly.accounts.filter((a) => a.id === DEV) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SamlProviderMissingError);
    expect((err as SamlProviderMissingError).missing).toEqual([
      { account: DEV, alias: 'dev', provider: 'ADFS' },
      { account: DEV, alias: 'dev', provider: 'Okta' },
    ]);
    expect((err as SamlProviderMissingError).retryable).toBe(false);
    expect((err as Error).message).toContain('"ADFS" in account dev (333333333333)');
  });
});

describe("leavers' live sessions", () => {
  const s = spec(PROD, 'Admin');
  beforeEach(async () => {
    await applyAll(localPlan([desiredRole(s)], []));
  });

  it('writes one deny per leaver, reads the entries back exactly, and keeps them out of the inline policies', async () => {
    const entries = { 'jdoe@corp.example': '2026-11-28T09:15:00.000Z', 'asmith@corp.example': '2026-11-28T10:00:00.000Z' };
    const { requestIds } = await target.apply(change('revoke', null, revocations(PROD, 'Admin', entries), 'jdoe disabled in AD'));
    expect(requestIds).toHaveLength(1);

    const actual = await target.readActual(roleMap([s]));
    expect(find(actual.resources, 'iam_role_revocations', `${PROD}/Admin`)?.attrs.entries).toEqual(entries);
    expect(find(actual.resources, 'iam_role', `${PROD}/Admin`)?.attrs.inlinePolicies).toEqual({});
    expect(localPlan([desiredRole(s), revocations(PROD, 'Admin', entries)], actual.resources)).toEqual([]);

    const doc = await world.console(PROD).send(new GetRolePolicyCommand({ RoleName: 'Admin', PolicyName: REVOCATION_POLICY_NAME }));
    const policy = JSON.parse(decodeURIComponent(doc.PolicyDocument!)) as { Statement: unknown[] };
    expect(policy.Statement).toContainEqual({
      Sid: 'RolemapRevoked1',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringLike: { 'aws:userid': '*:jdoe@corp.example' }, DateLessThan: { 'aws:TokenIssueTime': '2026-11-28T09:15:00.000Z' } },
    });
    expect(parseRevocationPolicy(policy as never).foreignStatements).toBe(0);
  });

  it('prunes entries, and removes the policy when none are left', async () => {
    const both = revocations(PROD, 'Admin', { jdoe: '2026-11-28T09:15:00.000Z', asmith: '2026-11-28T10:00:00.000Z' });
    await target.apply(change('revoke', null, both));
    const pruned = revocations(PROD, 'Admin', { asmith: '2026-11-28T10:00:00.000Z' });
    const plan = localPlan([desiredRole(s), pruned], (await target.readActual(roleMap([s]))).resources);
    expect(plan.map((c) => `${c.action} ${c.kind}`)).toEqual(['update iam_role_revocations']);
    await applyAll(plan);
    expect(find((await target.readActual(roleMap([s]))).resources, 'iam_role_revocations', `${PROD}/Admin`)?.attrs.entries).toEqual(pruned.attrs.entries);

    const current = find((await target.readActual(roleMap([s]))).resources, 'iam_role_revocations', `${PROD}/Admin`)!;
    await target.apply(change('delete', current, null));
    const after = await target.readActual(roleMap([s]));
    expect(find(after.resources, 'iam_role_revocations', `${PROD}/Admin`)).toBeUndefined();
    expect(world.emulator.state<IamState>('iam').accounts[PROD]?.roles['admin']?.inlinePolicies).toEqual({});
  });

  it('refuses entries that could never match a session, before calling AWS', async () => {
    world.emulator.resetCalls();
    await expect(target.apply(change('revoke', null, revocations(PROD, 'Admin', { 'j doe': '2026-11-28T09:15:00.000Z' })))).rejects.toBeInstanceOf(IamChangeRefusedError);
    await expect(target.apply(change('revoke', null, revocations(PROD, 'Admin', { jdoe: 'yesterday' })))).rejects.toBeInstanceOf(IamChangeRefusedError);
    expect(world.emulator.calls()).toEqual({});
  });

  it('warns about statements in the revocation policy that rolemap did not write', async () => {
    await world.console(PROD).send(
      new PutRolePolicyCommand({ RoleName: 'Admin', PolicyName: REVOCATION_POLICY_NAME, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: '*' }] }) }),
    );
    const actual = await target.readActual(roleMap([s]));
    expect(find(actual.resources, 'iam_role_revocations', `${PROD}/Admin`)?.attrs.entries).toEqual({});
    expect(actual.warnings).toEqual([expect.stringContaining('1 statement(s) in rolemap-revoked-sessions are not rolemap revocations')]);
  });
});

describe('failures and recovery', () => {
  it('recovers from injected throttling with the SDK adaptive retry', async () => {
    const specs = WORKLOADS.map((a) => spec(a, 'Team'));
    const plan = localPlan(specs.map(desiredRole), (await target.readActual(roleMap(specs))).resources);
    // IAM's token bucket answering Throttling: twice on CreateRole, once on each page read.
    world.emulator.injectFault({ kind: 'throttle', operation: 'CreateRole', times: 2 });
    world.emulator.injectFault({ kind: 'throttle', operation: 'GetAccountAuthorizationDetails', times: 3 });
    await Promise.all(plan.map((c) => target.apply(c)));
    expect(localPlan(specs.map(desiredRole), (await target.readActual(roleMap(specs))).resources)).toEqual([]);
    expect(world.emulator.throttledCount()).toBe(5);
    expect(world.emulator.calls()['iam:CreateRole']).toBe(5);
  });

  it('recovers from 500s and a dropped connection', async () => {
    world.emulator.injectFault({ kind: 'http500', operation: 'CreateRole', times: 2 });
    world.emulator.injectFault({ kind: 'drop', operation: 'GetAccountAuthorizationDetails', times: 1 });
    const s = spec(PROD, 'Admin');
    const plan = localPlan([desiredRole(s)], (await target.readActual(roleMap([s]))).resources);
    await applyAll(plan);
    expect(world.emulator.calls()['iam:CreateRole']).toBe(3);
    expect(localPlan([desiredRole(s)], (await target.readActual(roleMap([s]))).resources)).toEqual([]);
  });

  it('fails with a typed error carrying the AWS code, the request id and the calls already made', async () => {
    // (Not LimitExceeded: the SDK counts any *LimitExceeded* name as throttling and retries it.)
    world.emulator.injectFault({ kind: 'error', operation: 'AttachRolePolicy', code: 'NoSuchEntity', status: 404, message: 'Policy arn:aws:iam::aws:policy/ReadOnlyAccess does not exist or is not attachable.', times: 1 });
    const err = await target.apply(change('create', null, desiredRole(spec(PROD, 'Admin')))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    const e = err as AwsCallError;
    expect(e.code).toBe('NoSuchEntityException');
    expect(e.operation).toBe('AttachRolePolicy');
    expect(e.account).toBe(PROD);
    expect(e.resource).toBe('iam_role.prod.Admin');
    expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.completedRequestIds).toHaveLength(1);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('iam:AttachRolePolicy for iam_role.prod.Admin in account 222222222222 answered HTTP 404 NoSuchEntityException: ');
  });

  it('names the account when its role cannot be assumed', async () => {
    const { clientsFor } = await import('./fixtures.js');
    delete world.emulator.state<IamState>('iam').accounts[SANDBOX]!.roles['rolemap-reconciler'];
    const fresh = clientsFor(world.emulator, 2);
    const state = await new IamRolesTarget(fresh).readActual(roleMap());
    expect(state.unreadable?.map((u) => u.account)).toEqual([SANDBOX]);
    expect(state.unreadable?.[0]?.reason).toMatch(/^sts:AssumeRole for arn:aws:iam::\d{12}:role\/rolemap-reconciler in account \d{12} answered HTTP 403 AccessDenied: .*not authorized to perform: sts:AssumeRole/);
    // Alone, the account's error is thrown as it is.
    const err = await new IamRolesTarget(fresh).readActual({ ...roleMap(), accounts: roleMap().accounts.filter((a) => a.id === SANDBOX) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).account).toBe(SANDBOX);
    expect((err as AwsCallError).code).toBe('AccessDenied');
    expect((err as AwsCallError).retryable).toBe(false);
    expect((err as Error).message).toContain('not authorized to perform: sts:AssumeRole');
    fresh.destroy();
  });

  it('marks an error retryable when throttling outlasts the SDK retries', async () => {
    world.clients.destroy();
    const { clientsFor } = await import('./fixtures.js');
    const impatient = new IamRolesTarget(clientsFor(world.emulator, 2));
    await impatient.readActual(roleMap()); // credentials first
    world.emulator.injectFault({ kind: 'throttle', operation: 'CreateRole' });
    const err = await impatient.apply(change('create', null, desiredRole(spec(PROD, 'Admin')))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).retryable).toBe(true);
    expect((err as AwsCallError).code).toBe('Throttling');
  });
});
