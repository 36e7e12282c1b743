/**
 * The emulator records use as AWS does, immediately (AWS may lag up to four hours):
 * `RoleLastUsed` on AssumeRole / AssumeRoleWithSAML (https://docs.aws.amazon.com/IAM/latest/APIReference/API_RoleLastUsed.html)
 * and `AccessKeyLastUsed` on every request a user's key authenticates
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html). Real SDK clients.
 */
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, GetAccessKeyLastUsedCommand, GetRoleCommand, paginateGetAccountAuthorizationDetails } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROD, RECONCILER, startWorld, type World } from '../adapters/aws/iam-roles/fixtures.js';

let world: World;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.stop();
});

describe('last use', () => {
  it('AssumeRole sets the role\'s RoleLastUsed (date, Region) in GetRole and GetAccountAuthorizationDetails; a role never assumed has none', async () => {
    const before = Date.now();
    const iam = world.clients.iam(PROD); // assumes rolemap-reconciler in prod
    const role = (await iam.send(new GetRoleCommand({ RoleName: RECONCILER }))).Role;
    expect(role?.RoleLastUsed?.LastUsedDate?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(role?.RoleLastUsed?.Region).toBe('us-east-1');
    const details = [];
    for await (const page of paginateGetAccountAuthorizationDetails({ client: iam }, { Filter: ['Role'] })) details.push(...(page.RoleDetailList ?? []));
    expect(details.find((d) => d.RoleName === RECONCILER)?.RoleLastUsed?.LastUsedDate?.toISOString()).toBe(role?.RoleLastUsed?.LastUsedDate?.toISOString());
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PROD}:root` }, Action: 'sts:AssumeRole' }] });
    await iam.send(new CreateRoleCommand({ RoleName: 'never-used', AssumeRolePolicyDocument: trust }));
    expect((await iam.send(new GetRoleCommand({ RoleName: 'never-used' }))).Role?.RoleLastUsed?.LastUsedDate).toBeUndefined();
  });

  it('a request signed with a user\'s access key sets its AccessKeyLastUsed (date, service, Region); the other key stays N/A', async () => {
    const iam = world.clients.iam(PROD);
    await iam.send(new CreateUserCommand({ UserName: 'ci' }));
    const k1 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ci' }))).AccessKey!;
    const k2 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'ci' }))).AccessKey!;
    const sts = new STSClient({ endpoint: world.emulator.url, region: 'eu-west-1', credentials: { accessKeyId: k1.AccessKeyId!, secretAccessKey: k1.SecretAccessKey! } });
    try {
      await sts.send(new GetCallerIdentityCommand({}));
    } finally {
      sts.destroy();
    }
    const used = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k1.AccessKeyId }))).AccessKeyLastUsed;
    expect(used).toMatchObject({ ServiceName: 'sts', Region: 'eu-west-1' });
    expect(used?.LastUsedDate).toBeInstanceOf(Date);
    expect((await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k2.AccessKeyId }))).AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });
  });
});
