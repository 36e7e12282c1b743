/**
 * `iam-user` rows (pure core): who gets one, their context and routing; and what a standing revoke on one
 * plans (reviewPolicy). The AWS side is test/shell/review/review-aws.test.ts, against the emulator.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LdifDirectorySource } from '../../../src/adapters/directory/ldif/ldif-source.js';
import { computeDesired } from '../../../src/core/desired/desired.js';
import type { ResourceOf } from '../../../src/core/model/resources.js';
import { aliasOf } from '../../../src/core/model/role-map.js';
import type { RoleMap } from '../../../src/core/model/role-map.js';
import { protectedMatcher } from '../../../src/core/plan/plan.js';
import { ResourceIndex } from '../../../src/core/plan/resource-index.js';
import { applyReviewRevocations, reviewPolicy, standingRevocations } from '../../../src/core/review/effect.js';
import { ReviewerRouter, snapshotPopulation } from '../../../src/core/review/index.js';
import type { LinkedIamUserInput } from '../../../src/core/review/population.js';
import type { Campaign, Decision } from '../../../src/core/review/types.js';
import { groupSelection } from '../../../src/shell/reconcile/run-once.js';
import { DEV, PROD, roleMap, spec } from '../../adapters/aws/iam-roles/fixtures.js';

const LDIF = fileURLToPath(new URL('../../fixtures/review/managers.ldif', import.meta.url));
const NOW = new Date('2027-01-05T09:00:00.000Z');
const MAP = roleMap([spec(DEV, 'Developer', { group: { by: 'sAMAccountName', value: 'AWS-Dev-Developer' } })]);
const SETTINGS = { reviewers: {}, fallbackReviewer: 'auditor@corp.example' };
const CAMPAIGN: Campaign = { id: 'Q1-2027', name: 'Q1-2027', scope: { accounts: [], groups: [] }, createdAt: NOW.toISOString(), due: '2027-01-19T09:00:00.000Z', population: { people: 0, rows: 0, reviewers: 0 } };

const USERS: LinkedIamUserInput[] = [
  { account: DEV, userName: 'jdoe-ci', adAccount: 'JDOE', accessKeys: [{ accessKeyId: 'AKIAONE', status: 'Active', lastUsedAt: '2026-12-01T00:00:00.000Z' }, { accessKeyId: 'AKIATWO', status: 'Active', lastUsedAt: '2026-12-20T00:00:00.000Z' }] },
  { account: PROD, userName: 'asmith-legacy', adAccount: 'asmith@corp.example', accessKeys: [{ accessKeyId: 'AKIATHREE', status: 'Inactive' }] },
  { account: DEV, userName: 'lleaver-ci', adAccount: 'lleaver', accessKeys: [] }, // disabled in AD: the leaver pass's
  { account: DEV, userName: 'ghost-ci', adAccount: 'ghost', accessKeys: [] }, // not in AD
];

async function population(scope = CAMPAIGN.scope, map: RoleMap = MAP) {
  const snapshot = await new LdifDirectorySource({ path: LDIF }).read(groupSelection(map));
  const desired = computeDesired(snapshot, map, NOW, { last: null });
  const pop = snapshotPopulation({ campaignId: CAMPAIGN.id, scope, snapshot, entitlements: desired.entitlements, resources: desired.resources, router: new ReviewerRouter(snapshot.users, SETTINGS, NOW), aliasOf: aliasOf(map), iamUsers: USERS, now: NOW });
  return { ...pop, snapshot, desired };
}

describe('iam-user rows', () => {
  it('one per linked active person (by sAMAccountName or UPN, any case), routed by the person, with keys and their latest use', async () => {
    const { rows } = await population();
    const users = rows.filter((r) => r.entitlement.kind === 'iam-user');
    expect(users.map((r) => `${r.person.sAMAccountName} ${r.entitlement.accountAlias}/${r.entitlement.name} ${r.reviewer.userPrincipalName} ${r.routedBy}`)).toEqual([
      'asmith prod/asmith-legacy mmeyer@corp.example manager',
      'jdoe dev/jdoe-ci mmeyer@corp.example manager',
    ]);
    const jdoe = users.find((r) => r.entitlement.name === 'jdoe-ci');
    expect(jdoe?.entitlement.group).toBeUndefined();
    expect(jdoe?.context.lastUsed).toEqual({ perRoleNotPerPerson: true, accessKeyLastUsedAt: '2026-12-20T00:00:00.000Z' });
    expect(users.find((r) => r.entitlement.name === 'asmith-legacy')?.context.lastUsed.accessKeyLastUsedAt).toBeUndefined();
  });

  it('scoped to accounts: only theirs; scoped to groups: none (no group grants an IAM user)', async () => {
    expect((await population({ accounts: [PROD], groups: [] })).rows.filter((r) => r.entitlement.kind === 'iam-user').map((r) => r.entitlement.name)).toEqual(['asmith-legacy']);
    expect((await population({ accounts: [], groups: ['AWS-Dev-Developer'] })).rows.filter((r) => r.entitlement.kind === 'iam-user')).toEqual([]);
  });

  it('a standing revoke plans a disable with the review reason; nothing once all is off; a protected person is left alone; an unread IAM user is a warning', async () => {
    const { rows, desired } = await population();
    const row = rows.find((r) => r.entitlement.name === 'jdoe-ci')!;
    const decision: Decision = { campaignId: CAMPAIGN.id, rowId: row.rowId, verdict: 'revoke', justification: 'gone to OIDC', reviewer: 'mmeyer@corp.example', decidedAt: '2027-01-12T10:00:00.000Z', packetSha256: 'x' };
    const revoked = applyReviewRevocations(desired, standingRevocations([{ campaign: CAMPAIGN, ifNoDecision: 'keep', rows, decisions: [decision] }], NOW));
    expect(revoked.entitlements).toEqual(desired.entitlements); // the IAM user is no AD grant
    const creds = (attrs: Partial<ResourceOf<'iam_user_credentials'>['attrs']>): ResourceOf<'iam_user_credentials'> => ({
      kind: 'iam_user_credentials', id: `${DEV}/jdoe-ci`, account: DEV, name: 'jdoe-ci', owned: false, principal: { guid: '', name: 'jdoe' },
      attrs: { accessKeys: { AKIAONE: 'Active', AKIATWO: 'Inactive' }, loginProfile: true, sessionsRevokedBefore: null, ...attrs },
    });
    const plan = (actual: ResourceOf<'iam_user_credentials'>[], map: RoleMap = MAP) =>
      reviewPolicy({ changes: [], warnings: [], refusal: null }, { desired: revoked, actual, actualByKey: new ResourceIndex(actual), roleMap: map, address: (r) => r.id, isProtected: protectedMatcher(map), now: NOW });

    const p = plan([creds({})]);
    expect(p.changes).toHaveLength(1);
    expect(p.changes[0]).toMatchObject({ action: 'disable', key: `iam_user_credentials:${DEV}/jdoe-ci`, principal: { name: 'jdoe' } });
    expect(p.changes[0]?.reason).toBe('jdoe: revoked in review Q1-2027 by M. Meyer on 2027-01-12: IAM user jdoe-ci (dev): deactivate access keys, remove console password, deny its temporary credentials issued before 2027-01-05 09:00 UTC');
    expect((p.changes[0]?.after as ResourceOf<'iam_user_credentials'>).attrs).toMatchObject({ accessKeys: { AKIAONE: 'Inactive', AKIATWO: 'Inactive' }, loginProfile: false, sessionsRevokedBefore: NOW.toISOString() });

    expect(plan([creds({ accessKeys: { AKIAONE: 'Inactive', AKIATWO: 'Inactive' }, loginProfile: false, sessionsRevokedBefore: NOW.toISOString() })]).changes).toEqual([]);
    const guarded = { ...MAP, safety: { ...MAP.safety, protectedPrincipals: ['jdoe'] } };
    expect(plan([creds({})], guarded).changes).toEqual([]);
    expect(plan([]).warnings.join('\n')).toContain('jdoe: IAM user jdoe-ci (dev) revoked in review Q1-2027 by M. Meyer on 2027-01-12, but it was not read');
  });
});
