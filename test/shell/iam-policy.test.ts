/**
 * config/iam-policy.json grants exactly the AWS actions the source calls: not one missing (rolemap
 * would fail in production with AccessDenied), not one unused (least privilege).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPolicy, scanActions, scanSource } from '../../scripts/write-iam-policy.js';
import type { PolicyDocument } from '../../scripts/write-iam-policy.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('config/iam-policy.json', () => {
  it('grants exactly the actions src/ calls (regenerate with: npm run iam-policy)', () => {
    const policy = JSON.parse(readFileSync(join(ROOT, 'config', 'iam-policy.json'), 'utf8')) as PolicyDocument;
    const granted = new Set(policy.Statement.flatMap((s) => s.Action));
    const used = scanActions(ROOT);
    const missing = [...used.keys()].filter((a) => !granted.has(a)).map((a) => `${a} (called in ${used.get(a)?.join(', ')})`);
    const unused = [...granted].filter((a) => !used.has(a));
    expect(missing, 'actions the code calls that the policy does not grant').toEqual([]);
    expect(unused, 'actions the policy grants that no code calls').toEqual([]);
    expect(policy).toEqual(buildPolicy(used.keys()));
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      expect(s.Action.every((a) => !a.includes('*')), 'no wildcard actions').toBe(true);
    }
  });
});

describe('the scan', () => {
  const source = `
    import { IAMClient, GetRoleCommand, paginateGetAccountAuthorizationDetails, CreateRoleCommand as CreateRole, DeleteRoleCommand, DeleteRolePolicyCommand } from '@aws-sdk/client-iam';
    import type { Role } from '@aws-sdk/client-iam';
    import {
      CreateGroupMembershipCommand,
      paginateListUsers,
    } from '@aws-sdk/client-identitystore';
    import { ProvisionPermissionSetCommand } from '@aws-sdk/client-sso-admin';
    import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
    function paginateLocal() {}
    declare function sendWith(...a: unknown[]): Promise<void>;
    export async function f(c: IAMClient) {
      await c.send(new GetRoleCommand({ RoleName: 'x' }));
      await c.send(new CreateRole({ RoleName: 'x', AssumeRolePolicyDocument: '{}' }));
      for await (const p of paginateGetAccountAuthorizationDetails({ client: c }, { Filter: ['Role'] })) void p;
      for await (const p of paginateListUsers({ client: c as never }, { IdentityStoreId: 'd-1' })) void p;
      await c.send(new CreateGroupMembershipCommand({} as never));
      await c.send(new ProvisionPermissionSetCommand({} as never));
      await c.send(new GetCallerIdentityCommand({}));
      paginateLocal();
      await sendWith(c, DeleteRoleCommand, { RoleName: 'x' }); // handed to a helper: counted; DeleteRolePolicyCommand is imported only: not counted
    }`;

  it('maps commands, aliased imports and paginators to service:Action by the client they come from', () => {
    expect(scanSource(source).map((h) => h.action).sort()).toEqual([
      'iam:CreateRole',
      'iam:DeleteRole',
      'iam:GetAccountAuthorizationDetails',
      'iam:GetRole',
      'identitystore:CreateGroupMembership',
      'identitystore:ListUsers',
      'sso:ProvisionPermissionSet',
      'sts:GetCallerIdentity',
    ]);
  });

  it('puts per-account actions and Identity Center actions into their own statements', () => {
    const policy = buildPolicy(scanSource(source).map((h) => h.action));
    expect(policy.Statement.map((s) => [s.Sid, s.Action])).toEqual([
      ['RolemapFederatedRolesInEachAccount', ['iam:CreateRole', 'iam:DeleteRole', 'iam:GetAccountAuthorizationDetails', 'iam:GetRole', 'sts:GetCallerIdentity']],
      ['RolemapIdentityCenter', ['identitystore:CreateGroupMembership', 'identitystore:ListUsers', 'sso:ProvisionPermissionSet']],
    ]);
  });

  it('adds s3:PutObjectRetention to a PutObject that passes Object Lock retention, and only then', () => {
    const put = (extra: string): string => `
      import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
      export const f = (c: S3Client) => c.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x'${extra} }));`;
    expect(scanSource(put(", ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date()")).map((h) => h.action)).toEqual(['s3:PutObject', 's3:PutObjectRetention']);
    expect(scanSource(put('')).map((h) => h.action)).toEqual(['s3:PutObject']);
  });

  it('refuses a command whose client it cannot tell', () => {
    expect(() => scanSource(`import { XCommand } from './local.js'; new XCommand();`, 'a.ts')).toThrow(/a\.ts: XCommand is not imported from an @aws-sdk\/client-\* package/);
  });
});
