/**
 * Live sessions cut the way rolemap cuts them, judged by the emulator's policy evaluator:
 * - a federated role's leaver deny (`aws:userid` + `aws:TokenIssueTime`), written by rolemap's real IAM
 *   roles target from a real plan, stops exactly that person's SAML session;
 * - a permission set's leaver deny (`identitystore:UserId`), as rolemap's Identity Center target writes it,
 *   stops that person's portal session only once the set is provisioned again, and no one else's.
 * "May this session still act?" is asked with `probe` (`s3:GetObject` on the emulator's probe object).
 */
import { UpdateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { DescribePermissionSetProvisioningStatusCommand, ProvisionPermissionSetCommand, PutInlinePolicyToPermissionSetCommand } from '@aws-sdk/client-sso-admin';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IamRolesTarget } from '../../src/adapters/aws/iam-roles/iam-roles-target.js';
import { samlProviderArn } from '../../src/adapters/aws/iam-roles/trust-policy.js';
import { IdentityCenterTarget, InMemoryOwnershipRegistry } from '../../src/adapters/aws/identity-center/index.js';
import { renderInlinePolicy } from '../../src/adapters/aws/identity-center/revocation-statements.js';
import { applyPlan } from '../../src/core/apply/engine.js';
import { computeDesired } from '../../src/core/desired/desired.js';
import type { DirectorySnapshot, DirectoryUser } from '../../src/core/model/directory.js';
import type { PolicyDocument } from '../../src/core/model/policy.js';
import type { RoleMap } from '../../src/core/model/role-map.js';
import type { Entitlement } from '../../src/core/model/state.js';
import type { Plan } from '../../src/core/plan/change.js';
import { calculatePlan } from '../../src/core/plan/plan.js';
import { DEV, PROD, roleMap as iamRoleMap, spec, startWorld } from '../adapters/aws/iam-roles/fixtures.js';
import type { World } from '../adapters/aws/iam-roles/fixtures.js';
import { GUID, permissionSetSpec, roleMap as icRoleMap } from '../adapters/aws/identity-center/fixtures.js';
import { startIdentityCenterEmulator } from '../support/identity-center-emulator.js';
import type { IcHarness } from '../support/identity-center-emulator.js';
import { portalCredentials } from '../support/portal.js';
import { createSamlIdp } from '../support/saml-idp.js';
import type { SamlIdp } from '../support/saml-idp.js';
import { samlLogin } from '../support/saml-login.js';
import type { SessionCredentials } from '../support/saml-login.js';
import type { Emulator } from './index.js';
import { probe } from './probe.js';
import type { IdentitystoreState } from './services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from './services/sso-admin.js';

/** Whether these credentials may still act: emu-judge's probe (`s3:GetObject` on the probe object). */
async function mayAct(emulator: Emulator, credentials: SessionCredentials): Promise<boolean> {
  return (await probe(emulator.url, credentials)) === 'allowed';
}

function person(guid: string, sam: string, disabled = false): DirectoryUser {
  return { guid, dn: `CN=${sam},OU=Staff,DC=corp,DC=example`, sAMAccountName: sam, userPrincipalName: `${sam}@corp.example`, mail: `${sam}@corp.example`, givenName: sam, surname: 'Test', displayName: sam, disabled };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('a leaver deny written by the IAM roles target', () => {
  const JDOE = '0f8a1c2e-0000-4000-8000-000000000001';
  const ASMITH = '0f8a1c2e-0000-4000-8000-000000000002';
  const DEVS = '0f8a1c2e-0000-4000-8000-0000000000a2';
  const ADMINS = '0f8a1c2e-0000-4000-8000-0000000000a1';
  let idp: SamlIdp;
  let world: World;
  let roles: IamRolesTarget;
  let map: RoleMap;

  function snapshot(jdoeDisabled: boolean): DirectorySnapshot {
    return {
      source: 'test',
      users: [person(JDOE, 'jdoe', jdoeDisabled), person(ASMITH, 'asmith')],
      groups: [
        { guid: DEVS, dn: 'CN=AWS-Dev-Developer,OU=Groups,DC=corp,DC=example', sAMAccountName: 'AWS-Dev-Developer', name: 'AWS-Dev-Developer', members: [JDOE, ASMITH] },
        { guid: ADMINS, dn: 'CN=AWS-Prod-Admin,OU=Groups,DC=corp,DC=example', sAMAccountName: 'AWS-Prod-Admin', name: 'AWS-Prod-Admin', members: [JDOE, ASMITH] },
      ],
    };
  }

  async function reconcile(jdoeDisabled: boolean, now: Date, history: readonly Entitlement[] | null): Promise<readonly Entitlement[]> {
    const desired = computeDesired(snapshot(jdoeDisabled), map, now, { last: history });
    const actual = await roles.readActual(map);
    const plan: Plan = calculatePlan({ desired, actual, roleMap: map, now });
    const report = await applyPlan(plan, { targetFor: () => roles });
    expect(report.failed).toBe(0);
    return [...desired.entitlements];
  }

  beforeAll(async () => {
    idp = await createSamlIdp();
  });
  beforeEach(async () => {
    world = await startWorld();
    for (const account of [PROD, DEV]) {
      await world.console(account).send(new UpdateSAMLProviderCommand({ SAMLProviderArn: samlProviderArn(account, 'ADFS'), SAMLMetadataDocument: idp.metadataXml() }));
    }
    roles = new IamRolesTarget(world.clients);
    map = iamRoleMap([
      spec(DEV, 'Developer', { group: { by: 'sAMAccountName', value: 'AWS-Dev-Developer' } }),
      spec(PROD, 'Admin', { group: { by: 'sAMAccountName', value: 'AWS-Prod-Admin' }, managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }),
    ]);
  });
  afterEach(async () => world.stop());

  it('cuts exactly that user SAML sessions, on every role, and no one else', async () => {
    const history = await reconcile(false, new Date(), null);
    const devRole = `arn:aws:iam::${DEV}:role/federated/Developer`;
    const prodRole = `arn:aws:iam::${PROD}:role/federated/Admin`;
    const login = (user: string, roleArn: string, account: string) => samlLogin(world.emulator, { idp, user, roleArn, providerArn: samlProviderArn(account, 'ADFS') });
    const jdoeDev = await login('jdoe@corp.example', devRole, DEV);
    const jdoeProd = await login('jdoe@corp.example', prodRole, PROD);
    const asmithDev = await login('asmith@corp.example', devRole, DEV);
    // A session whose name only ends like the leaver's is someone else.
    const notJdoe = await login('xjdoe@corp.example', devRole, DEV);
    for (const s of [jdoeDev, jdoeProd, asmithDev, notJdoe]) expect(await mayAct(world.emulator, s.credentials), s.arn).toBe(true);

    // jdoe is disabled in AD; the next run revokes (deny issued before now on aws:userid *:jdoe@corp.example).
    await tick();
    await reconcile(true, new Date(), history);

    expect(await mayAct(world.emulator, jdoeDev.credentials)).toBe(false);
    expect(await mayAct(world.emulator, jdoeProd.credentials)).toBe(false);
    expect(await mayAct(world.emulator, asmithDev.credentials)).toBe(true);
    expect(await mayAct(world.emulator, notJdoe.credentials)).toBe(true);

    // The deny is bounded by aws:TokenIssueTime, as AWS's own "revoke sessions": a session issued
    // after the revocation instant is not caught (a leaver can no longer get one from ADFS).
    await tick();
    const later = await login('jdoe@corp.example', devRole, DEV);
    expect(await mayAct(world.emulator, later.credentials)).toBe(true);
  });
});

describe('a permission set leaver deny on identitystore:UserId', () => {
  const InstanceArn = DEFAULT_INSTANCE_ARN;
  const READ: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
  let h: IcHarness;
  let target: IdentityCenterTarget;
  let rm: RoleMap;

  function snapshot(jdoeDisabled: boolean): DirectorySnapshot {
    return {
      source: 'test',
      users: [person(GUID.jdoe, 'jdoe', jdoeDisabled), person(GUID.asmith, 'asmith')],
      groups: [{ guid: GUID.devs, dn: 'CN=Developers,OU=Groups,DC=corp,DC=example', sAMAccountName: 'Developers', name: 'Developers', members: [GUID.asmith, GUID.jdoe] }],
    };
  }

  async function reconcile(jdoeDisabled: boolean, history: readonly Entitlement[] | null): Promise<readonly Entitlement[]> {
    const now = new Date();
    const desired = computeDesired(snapshot(jdoeDisabled), rm, now, { last: history });
    const actual = await target.readActual(rm);
    const report = await applyPlan(calculatePlan({ desired, actual, roleMap: rm, now }), { targetFor: () => target });
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
    rm = {
      ...base,
      identityCenter: { ...ic, permissionSets: [{ ...permissionSetSpec('ReadOnly'), inlinePolicy: READ }], assignments: [{ group: { by: 'guid', value: GUID.devs }, permissionSet: 'ReadOnly', accounts: [DEV] }] },
    };
    target = new IdentityCenterTarget({ identityStore: h.identityStore, ssoAdmin: h.ssoAdmin, registry: new InMemoryOwnershipRegistry(), rateLimit: { rps: 1000 }, poll: { initialMs: 2, maxMs: 20, timeoutMs: 10_000 } });
  });
  afterEach(async () => h.stop());

  async function psArn(): Promise<string> {
    const found = Object.values(h.emulator.state<{ permissionSets: Record<string, { Name: string; PermissionSetArn: string }> }>('sso').permissionSets).find((p) => p.Name === 'ReadOnly');
    if (!found) throw new Error('no ReadOnly permission set');
    return found.PermissionSetArn;
  }

  it('bites only once the set is provisioned again, and only for that user', async () => {
    await reconcile(false, null);
    const jdoe = userId('jdoe@corp.example');
    const asmith = userId('asmith@corp.example');
    const jdoeSession = await portalCredentials(h.emulator, { userId: jdoe, permissionSetName: 'ReadOnly', accountId: DEV });
    const asmithSession = await portalCredentials(h.emulator, { userId: asmith, permissionSetName: 'ReadOnly', accountId: DEV });
    expect(await mayAct(h.emulator, jdoeSession.credentials)).toBe(true);
    expect(await mayAct(h.emulator, asmithSession.credentials)).toBe(true);

    // The deny rolemap writes, put into the set by hand: the provisioned role does not have it yet.
    const arn = await psArn();
    const withDeny = renderInlinePolicy(READ, { [jdoe]: new Date().toISOString() });
    await h.ssoAdmin.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, InlinePolicy: JSON.stringify(withDeny) }));
    expect(await mayAct(h.emulator, jdoeSession.credentials)).toBe(true);

    const r = await h.ssoAdmin.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, TargetType: 'AWS_ACCOUNT', TargetId: DEV }));
    let status = r.PermissionSetProvisioningStatus?.Status;
    while (status === 'IN_PROGRESS') {
      status = (await h.ssoAdmin.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn, ProvisionPermissionSetRequestId: r.PermissionSetProvisioningStatus?.RequestId }))).PermissionSetProvisioningStatus?.Status;
    }
    expect(status).toBe('SUCCEEDED');
    expect(await mayAct(h.emulator, jdoeSession.credentials)).toBe(false);
    expect(await mayAct(h.emulator, asmithSession.credentials)).toBe(true);
  });

  it('rolemap leaver run cuts the leaver portal session and leaves the others working', async () => {
    const history = await reconcile(false, null);
    const jdoe = userId('jdoe@corp.example');
    const asmith = userId('asmith@corp.example');
    const jdoeSession = await portalCredentials(h.emulator, { userId: jdoe, permissionSetName: 'ReadOnly', accountId: DEV });
    const asmithSession = await portalCredentials(h.emulator, { userId: asmith, permissionSetName: 'ReadOnly', accountId: DEV });

    await reconcile(true, history);

    // Deny, then re-provision, then the access removed: the live session is cut and no new one is given.
    expect(await mayAct(h.emulator, jdoeSession.credentials)).toBe(false);
    await expect(portalCredentials(h.emulator, { userId: jdoe, permissionSetName: 'ReadOnly', accountId: DEV })).rejects.toMatchObject({ name: 'ForbiddenException' });
    expect(await mayAct(h.emulator, asmithSession.credentials)).toBe(true);
    const fresh = await portalCredentials(h.emulator, { userId: asmith, permissionSetName: 'ReadOnly', accountId: DEV });
    expect(await mayAct(h.emulator, fresh.credentials)).toBe(true);
  });
});
