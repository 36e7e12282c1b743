/** computeDesired: what the directory and role map want. */
import { describe, expect, it } from 'vitest';
import type { Resource } from '../../src/core/index.js';
import { computeDesired, groupDescription, OWNER_TAG, samlTrustPolicy } from '../../src/core/index.js';
import { acmeMap, acmeSnapshot, ADFS_PATTERN, bob, dave } from '../support/acme.js';
import { group, NO_HISTORY, NOW, PROD, roleMap, snapshot, SSO, user } from '../support/builders.js';

const find = (rs: readonly Resource[], kind: Resource['kind'], id: string): Resource | undefined => rs.find((r) => r.kind === kind && r.id === id);

describe('federated roles', () => {
  it('trusts the SAML provider of the role account, for the AWS sign-in audience', () => {
    expect(samlTrustPolicy(PROD, 'ADFS', true)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${PROD}:saml-provider/ADFS` },
          Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
          Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
        },
      ],
    });
    expect(samlTrustPolicy(PROD, 'ADFS', false)['Statement']).toMatchObject([{ Action: 'sts:AssumeRoleWithSAML' }]);
  });

  it('carries the spec tags plus the owner tag, and exists with no active member', () => {
    const snap = acmeSnapshot({ groups: { admins: [] } });
    const admin = find(computeDesired(snap, acmeMap(), NOW, NO_HISTORY).resources, 'iam_role', `${PROD}/Admin`);
    expect(admin?.attrs).toMatchObject({ tags: { team: 'platform', [OWNER_TAG]: 'test-owner' }, managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] });
  });

  it('is kept, with a warning and no entitlements, when its AD group cannot be found (a missing group never becomes a deletion)', () => {
    const snap = { ...acmeSnapshot(), groups: acmeSnapshot().groups.filter((g) => g.name !== 'AWS-Admins') };
    const desired = computeDesired(snap, acmeMap(), NOW, NO_HISTORY);
    expect(find(desired.resources, 'iam_role', `${PROD}/Admin`)?.principal).toBeUndefined();
    expect([...desired.entitlements].filter((e) => e.kind === 'iam_role' && e.target === 'Admin')).toEqual([]);
    expect(desired.warnings).toEqual([expect.stringMatching(/^AD group .*AWS-Admins.* is not in the directory: its current state is held/)]);
  });

  it('the ADFS pattern makes one role per matching group of a configured account, and skips unknown accounts', () => {
    const map = roleMap({ federatedRolePatterns: acmeMap().federatedRolePatterns });
    const snap = snapshot([bob], [group(`AWS-${PROD}-Ops`, [bob]), group('AWS-333333333333-Ops', [bob]), group('Not-AWS', [bob])]);
    const desired = computeDesired(snap, map, NOW, NO_HISTORY);
    expect(desired.resources.map((r) => `${r.kind}:${r.id}`)).toEqual([`iam_role:${PROD}/Ops`]);
    expect(desired.resources[0]?.attrs).toMatchObject({ path: '/federated/' });
    expect(new RegExp(ADFS_PATTERN).test('AWS-123-Admin')).toBe(false);
  });
});

describe('Identity Center', () => {
  const desired = computeDesired(acmeSnapshot(), acmeMap(), NOW, NO_HISTORY);

  it('groups carry the ownership marker with the AD guid; users their mapped attributes', () => {
    const developers = acmeSnapshot().groups.find((g) => g.name === 'Developers');
    expect(find(desired.resources, 'identitystore_group', developers?.guid ?? '')?.attrs).toEqual({
      displayName: 'Developers',
      description: groupDescription('test-owner', developers?.guid ?? '', 'Developers'),
    });
    expect(find(desired.resources, 'identitystore_user', bob.guid)).toMatchObject({
      account: SSO,
      name: 'bob@example.com',
      attrs: { userName: 'bob@example.com', displayName: 'Bob Example', givenName: 'Bob', familyName: 'Example', email: 'bob@example.com' },
    });
  });

  it('a member listed twice in a group gets one membership', () => {
    const svc = user('svc-backup');
    const auditors = group('Auditors', [svc]);
    const snap = snapshot([svc], [{ ...auditors, members: [svc.guid, svc.guid] }]);
    const memberships = computeDesired(snap, acmeMap(), NOW, NO_HISTORY).resources.filter((r) => r.kind === 'identitystore_membership');
    expect(memberships.map((r) => r.id)).toEqual([`${auditors.guid}/${svc.guid}`]);
  });

  it('falls back sensibly when AD leaves attributes empty', () => {
    const svc = user('svc-backup', { userPrincipalName: undefined, mail: undefined, givenName: undefined, surname: undefined, displayName: undefined });
    const map = acmeMap();
    const snap = snapshot([svc], [group('Auditors', [svc])]);
    const r = find(computeDesired(snap, map, NOW, NO_HISTORY).resources, 'identitystore_user', svc.guid);
    expect(r?.attrs).toEqual({ userName: 'svc-backup', displayName: 'svc-backup', givenName: 'svc-backup', familyName: 'svc-backup', email: null });
  });

  it('permission sets carry owner tag, customer-managed references and boundary forms', () => {
    const base = acmeMap();
    const ic = base.identityCenter;
    if (ic === null) throw new Error('fixture');
    const map = {
      ...base,
      identityCenter: {
        ...ic,
        permissionSets: [
          { ...ic.permissionSets[0]!, customerManagedPolicies: [{ name: 'ReadS3', path: '/team/' }, { name: 'Root', path: '/' }], permissionsBoundary: { customerManaged: { name: 'Boundary', path: '/b/' } } },
        ],
      },
    };
    const ps = find(computeDesired(acmeSnapshot(), map, NOW, NO_HISTORY).resources, 'sso_permission_set', 'ReadOnly');
    expect(ps?.attrs).toMatchObject({ customerManagedPolicies: ['/team/ReadS3', '/Root'], permissionsBoundary: 'customer:/b/Boundary', tags: { [OWNER_TAG]: 'test-owner' } });
  });

  it('assignments are keyed by permission set, account and group guid, and named with the account alias', () => {
    const auditors = acmeSnapshot().groups.find((g) => g.name === 'Auditors');
    const ids = desired.resources.filter((r) => r.kind === 'sso_account_assignment').map((r) => `${r.id} ${r.name}`);
    expect(ids).toContain(`ReadOnly/${PROD}/GROUP:${auditors?.guid} ReadOnly/prod/Auditors`);
  });

  it('entitlements say who holds what through which group; directory counts are kept', () => {
    expect([...desired.entitlements].filter((e) => e.userGuid === dave.guid).map((e) => `${e.kind} ${e.target} ${e.account} via ${e.viaGroupName}`)).toEqual([
      `permission_set ReadOnly ${PROD} via Auditors`,
      'permission_set ReadOnly 222222222222 via Auditors',
    ]);
    expect(desired.directory).toEqual({ users: 6, activeUsers: 6, groups: 4 });
  });
});
