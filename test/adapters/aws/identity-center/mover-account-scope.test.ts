/**
 * A permission set's deny lives in the set, which is provisioned into every account it is assigned on. A
 * mover who loses the set on one account (removed from the group that assigns it there) but keeps it on
 * another (through a second group) must lose only the first: the deny is scoped with aws:PrincipalAccount,
 * so the emulator's policy evaluation denies their session in that account and not the one they keep. A
 * leaver's deny still covers every account. Real SDK, real Identity Center target, the core's plan.
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
import type { Plan } from '../../../../src/core/plan/change.js';
import { calculatePlan } from '../../../../src/core/plan/plan.js';
import { DEFAULT_POLICIES } from '../../../../src/core/plan/policies.js';
import { applyReviewRevocations, reviewPolicy, standingRevocations } from '../../../../src/core/review/effect.js';
import type { CampaignRecord } from '../../../../src/core/review/effect.js';
import { rowIdOf } from '../../../../src/core/review/population.js';
import type { Campaign, ReviewRow } from '../../../../src/core/review/types.js';
import { probe } from '../../../aws-emulator/probe.js';
import type { IdentitystoreState } from '../../../aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../../../aws-emulator/services/sso-admin.js';
import { startIdentityCenterEmulator, type IcHarness } from '../../../support/identity-center-emulator.js';
import { portalCredentials } from '../../../support/portal.js';
import { DEV, GUID, PROD, permissionSetSpec, roleMap as icRoleMap } from './fixtures.js';

const PROD_READERS = '0a000000-0000-4000-8000-000000000009';
const READ: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
const person = (guid: string, sam: string): DirectoryUser => ({ guid, dn: `CN=${sam},OU=Staff,DC=corp,DC=example`, sAMAccountName: sam, userPrincipalName: `${sam}@corp.example`, mail: `${sam}@corp.example`, givenName: sam, surname: 'Test', displayName: sam, disabled: false });

let h: IcHarness;
let target: IdentityCenterTarget;
let rm: RoleMap;

/** Developers get ReadOnly on dev, ProdReaders get it on prod; `prodReaders` and `devs` say who is in each. */
function snapshot(devs: readonly string[], prodReaders: readonly string[]): DirectorySnapshot {
  return {
    source: 'test',
    users: [person(GUID.jdoe, 'jdoe'), person(GUID.asmith, 'asmith')],
    groups: [
      { guid: GUID.devs, dn: 'CN=Developers,OU=Groups,DC=corp,DC=example', sAMAccountName: 'Developers', name: 'Developers', members: [...devs] },
      { guid: PROD_READERS, dn: 'CN=ProdReaders,OU=Groups,DC=corp,DC=example', sAMAccountName: 'ProdReaders', name: 'ProdReaders', members: [...prodReaders] },
    ],
  };
}

async function reconcile(snap: DirectorySnapshot, history: readonly Entitlement[] | null, campaigns: readonly CampaignRecord[] = []): Promise<{ entitlements: readonly Entitlement[]; plan: Plan }> {
  await new Promise((r) => setTimeout(r, 5));
  const now = new Date();
  // As run-once does: review verdicts filter the desired state, and the review policy writes their denies.
  const desired = applyReviewRevocations(computeDesired(snap, rm, now, { last: history, at: now.toISOString() }), standingRevocations(campaigns, now));
  const plan = calculatePlan({ desired, actual: await target.readActual(rm), roleMap: rm, now, policies: [reviewPolicy, ...DEFAULT_POLICIES] });
  const report = await applyPlan(plan, { targetFor: () => target });
  expect(report.failed).toBe(0);
  return { entitlements: [...desired.entitlements], plan };
}

function userId(userName: string): string {
  const store = Object.values(h.emulator.state<IdentitystoreState>('identitystore').stores)[0];
  const u = Object.values(store?.users ?? {}).find((x) => x.UserName === userName);
  if (!u) throw new Error(`no Identity Store user ${userName}`);
  return u.UserId;
}

async function denies(): Promise<{ Sid?: string; Condition?: unknown }[]> {
  const arn = Object.values(h.emulator.state<{ permissionSets: Record<string, { Name: string; PermissionSetArn: string }> }>('sso').permissionSets).find((p) => p.Name === 'ReadOnly')?.PermissionSetArn;
  const inline = JSON.parse((await h.ssoAdmin.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, PermissionSetArn: arn }))).InlinePolicy ?? '{}') as { Statement: { Sid?: string; Condition?: unknown }[] };
  return inline.Statement.filter((s) => s.Sid?.startsWith('RolemapRevoked'));
}

beforeEach(async () => {
  h = await startIdentityCenterEmulator();
  h.emulator.asyncDelayMs = 0;
  const base = icRoleMap({ identityCenter: 'remove-access' });
  const ic = base.identityCenter;
  if (!ic) throw new Error('fixture role map has no identityCenter');
  rm = {
    ...base,
    identityCenter: {
      ...ic,
      permissionSets: [{ ...permissionSetSpec('ReadOnly'), inlinePolicy: READ }],
      assignments: [
        { group: { by: 'guid', value: GUID.devs }, permissionSet: 'ReadOnly', accounts: [DEV] },
        { group: { by: 'guid', value: PROD_READERS }, permissionSet: 'ReadOnly', accounts: [PROD] },
      ],
    },
  };
  target = new IdentityCenterTarget({ identityStore: h.identityStore, ssoAdmin: h.ssoAdmin, registry: new InMemoryOwnershipRegistry(), rateLimit: { rps: 1000 }, poll: { initialMs: 2, maxMs: 20, timeoutMs: 10_000 } });
});
afterEach(async () => h.stop());

describe('a permission set lost on one account and kept on another', () => {
  it('denies the mover on the account they lost it on only; a leaver afterwards is denied on every account', async () => {
    const both = [GUID.jdoe, GUID.asmith];
    const first = await reconcile(snapshot(both, both), null);
    const session = (user: string, accountId: string) => portalCredentials(h.emulator, { userId: userId(`${user}@corp.example`), permissionSetName: 'ReadOnly', accountId });
    const jdoeDev = await session('jdoe', DEV);
    const jdoeProd = await session('jdoe', PROD);
    const asmithProd = await session('asmith', PROD);
    const may = async (s: Awaited<ReturnType<typeof session>>): Promise<boolean> => (await probe(h.emulator.url, s.credentials)) === 'allowed';
    expect([await may(jdoeDev), await may(jdoeProd), await may(asmithProd)]).toEqual([true, true, true]);

    // jdoe leaves ProdReaders and stays a developer: a mover who lost ReadOnly on prod only.
    const moved = await reconcile(snapshot(both, [GUID.asmith]), first.entitlements);
    const revoke = moved.plan.changes.find((c) => c.kind === 'sso_permission_set_revocations');
    expect(revoke?.reason).toContain(`(UserId ${userId('jdoe@corp.example')}): live sessions on permission set ReadOnly in prod (kept elsewhere) denied from`);
    expect(await denies()).toEqual([
      expect.objectContaining({ Condition: { StringEquals: { 'identitystore:UserId': userId('jdoe@corp.example'), 'aws:PrincipalAccount': PROD } } }),
    ]);
    expect(await may(jdoeProd)).toBe(false);
    expect(await may(jdoeDev)).toBe(true);
    expect(await may(await session('jdoe', DEV))).toBe(true);
    expect(await may(asmithProd)).toBe(true);
    await expect(session('jdoe', PROD)).rejects.toMatchObject({ name: 'ForbiddenException' });

    // A second run changes nothing.
    const again = await reconcile(snapshot(both, [GUID.asmith]), moved.entitlements);
    expect(again.plan.changes).toEqual([]);

    // Then he leaves Developers too: he holds nothing, and the deny covers every account.
    await reconcile(snapshot([GUID.asmith], [GUID.asmith]), again.entitlements);
    expect(await may(jdoeDev)).toBe(false);
    expect(await may(asmithProd)).toBe(true);
    expect((await denies()).some((s) => JSON.stringify(s.Condition) === JSON.stringify({ StringEquals: { 'identitystore:UserId': userId('jdoe@corp.example') } }))).toBe(true);
  });

  it('a review that revokes the set on prod only denies it there, not on dev where the same person keeps it', async () => {
    const both = [GUID.jdoe, GUID.asmith];
    const first = await reconcile(snapshot(both, both), null);
    const session = (user: string, accountId: string) => portalCredentials(h.emulator, { userId: userId(`${user}@corp.example`), permissionSetName: 'ReadOnly', accountId });
    const may = async (s: Awaited<ReturnType<typeof session>>): Promise<boolean> => (await probe(h.emulator.url, s.credentials)) === 'allowed';
    const jdoeDev = await session('jdoe', DEV);
    const jdoeProd = await session('jdoe', PROD);

    const campaign: Campaign = { id: 'Q1-2027', name: 'Q1-2027', scope: { accounts: [], groups: [] }, createdAt: new Date(Date.now() - 60_000).toISOString(), due: new Date(Date.now() + 86_400_000).toISOString(), population: { people: 1, rows: 1, reviewers: 1 } };
    const rowId = rowIdOf(GUID.jdoe, 'permission-set', PROD, 'ReadOnly');
    const row: ReviewRow = {
      campaignId: campaign.id,
      rowId,
      person: { objectGUID: GUID.jdoe, sAMAccountName: 'jdoe', userPrincipalName: 'jdoe@corp.example' },
      entitlement: { kind: 'permission-set', accountId: PROD, accountAlias: 'prod', name: 'ReadOnly' },
      context: { policies: [], lastUsed: { perRoleNotPerPerson: true } },
      reviewer: { userPrincipalName: 'mmeyer@corp.example', displayName: 'M. Meyer' },
      routedBy: 'manager',
    };
    const record: CampaignRecord = { campaign, ifNoDecision: 'keep', rows: [row], decisions: [{ campaignId: campaign.id, rowId, verdict: 'revoke', justification: 'no longer on the prod rota', reviewer: 'mmeyer@corp.example', decidedAt: new Date().toISOString(), packetSha256: 'x' }] };

    const revoked = await reconcile(snapshot(both, both), first.entitlements, [record]);
    const change = revoked.plan.changes.find((c) => c.kind === 'sso_permission_set_revocations');
    expect(change?.reason).toContain('jdoe: revoked in review Q1-2027 by M. Meyer on');
    expect(change?.reason).toContain('sessions on permission set ReadOnly in prod denied until a later review re-approves it');
    expect(await denies()).toEqual([expect.objectContaining({ Condition: { StringEquals: { 'identitystore:UserId': userId('jdoe@corp.example'), 'aws:PrincipalAccount': PROD } } })]);
    expect(await may(jdoeProd)).toBe(false);
    expect(await may(await session('jdoe', PROD))).toBe(false); // a session opened after the review too
    expect(await may(jdoeDev)).toBe(true);
    expect(await may(await session('jdoe', DEV))).toBe(true);
    expect(await may(await session('asmith', PROD))).toBe(true);
    expect((await reconcile(snapshot(both, both), revoked.entitlements, [record])).plan.changes).toEqual([]);
  });
});
