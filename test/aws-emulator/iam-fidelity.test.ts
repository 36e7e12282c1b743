/**
 * Answers the emulator's IAM gives where AWS's documentation says what it answers: tag rules,
 * the description character set, policy grammar, instance profiles and `UpdateRole`'s default.
 * Each test names the page it follows; docs/emulator.md has the table.
 */
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  CreateSAMLProviderCommand,
  DeleteConflictException,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  GetAccountAuthorizationDetailsCommand,
  GetRoleCommand,
  IAMClient,
  ListInstanceProfilesForRoleCommand,
  ListRoleTagsCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  TagUserCommand,
  CreateUserCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  UpdateRoleDescriptionCommand,
} from '@aws-sdk/client-iam';
import type { Tag } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from './index.js';
import type { Emulator } from './index.js';

const HOME = '111111111111';
const CREDS = { accessKeyId: 'AKIAHOMEBASE00000001', secretAccessKey: 'not-a-secret' };
const METADATA = `<EntityDescriptor entityID="http://adfs.example/adfs/services/trust">${'x'.repeat(1000)}</EntityDescriptor>`;
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${HOME}:saml-provider/ADFS` }, Action: 'sts:AssumeRoleWithSAML' }],
});
const doc = (statement: Record<string, unknown>, extra: Record<string, unknown> = { Version: '2012-10-17' }): string => JSON.stringify({ ...extra, Statement: [statement] });

let emulator: Emulator;
let iam: IAMClient;
/** One attempt: the SDK counts `LimitExceeded` as throttling and would retry it. */
let once: IAMClient;

beforeEach(async () => {
  emulator = await startEmulator({ homeAccount: HOME, baseCredentials: [CREDS] });
  iam = new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDS });
  once = new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDS, maxAttempts: 1 });
  await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: METADATA }));
});
afterEach(async () => {
  iam.destroy();
  once.destroy();
  await emulator.stop();
});

async function createRole(name: string, extra: Partial<ConstructorParameters<typeof CreateRoleCommand>[0]> = {}): Promise<void> {
  await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST, ...extra }));
}

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  const e = (await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  )) as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
  return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
}

describe('tags (API_Tag.html, id_tags.html, reference_iam-quotas.html)', () => {
  it('refuses keys and values outside the documented pattern, and the aws: prefix, on CreateRole, TagRole and TagUser', async () => {
    const bad: Tag[][] = [[{ Key: 'team#1', Value: 'x' }], [{ Key: 'team', Value: 'a;b' }], [{ Key: 'aws:owner', Value: 'x' }], [{ Key: 'AWS:Owner', Value: 'x' }], [{ Key: '', Value: 'x' }]];
    for (const Tags of bad) {
      const err = await failure(iam.send(new CreateRoleCommand({ RoleName: 'T', AssumeRolePolicyDocument: TRUST, Tags })));
      expect(err.status, JSON.stringify(Tags)).toBe(400);
      expect(['ValidationError', 'InvalidInputException']).toContain(err.name);
    }
    expect((await failure(iam.send(new CreateRoleCommand({ RoleName: 'T', AssumeRolePolicyDocument: TRUST, Tags: [{ Key: 'team#1', Value: 'x' }] })))).message).toBe(
      "1 validation error detected: Value 'team#1' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
    );
    expect(await failure(iam.send(new CreateRoleCommand({ RoleName: 'T', AssumeRolePolicyDocument: TRUST, Tags: [{ Key: 'aws:owner', Value: 'x' }] })))).toMatchObject({ name: 'InvalidInputException' });
    await createRole('Tagged');
    expect(await failure(iam.send(new TagRoleCommand({ RoleName: 'Tagged', Tags: [{ Key: 'aws:x', Value: '1' }] })))).toMatchObject({ name: 'InvalidInputException', status: 400 });
    expect(await failure(iam.send(new TagRoleCommand({ RoleName: 'Tagged', Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] })))).toMatchObject({ name: 'ValidationError', status: 400 });
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    expect(await failure(iam.send(new TagUserCommand({ UserName: 'alice', Tags: [{ Key: 'a|b', Value: '1' }] })))).toMatchObject({ name: 'ValidationError', status: 400 });
    // Letters of any script, spaces and the listed punctuation pass.
    await iam.send(new TagRoleCommand({ RoleName: 'Tagged', Tags: [{ Key: 'Kostenstelle für Ärzte', Value: 'a.b:c/d=e+f-g@h_i' }] }));
  });

  it("treats a role's tag keys without regard to case, keeping the case last written, and allows at most 50", async () => {
    await createRole('Case', { Tags: [{ Key: 'CostCenter', Value: '1' }] });
    await iam.send(new TagRoleCommand({ RoleName: 'Case', Tags: [{ Key: 'costcenter', Value: '2' }] }));
    expect((await iam.send(new ListRoleTagsCommand({ RoleName: 'Case' }))).Tags).toEqual([{ Key: 'costcenter', Value: '2' }]);
    const fifty = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await iam.send(new TagRoleCommand({ RoleName: 'Case', Tags: fifty }));
    expect(await failure(once.send(new TagRoleCommand({ RoleName: 'Case', Tags: [{ Key: 'one-too-many', Value: 'v' }] })))).toMatchObject({ name: 'LimitExceededException', status: 409 });
  });
});

describe('descriptions (API_CreateRole.html, API_UpdateRole.html, API_UpdateRoleDescription.html)', () => {
  it('refuses characters outside [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF] and more than 1,000 characters', async () => {
    const snowman = 'Admins \u2603';
    const expected = `1 validation error detected: Value '${snowman}' at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*`;
    expect(await failure(iam.send(new CreateRoleCommand({ RoleName: 'D', AssumeRolePolicyDocument: TRUST, Description: snowman })))).toEqual({ name: 'ValidationError', message: expected, status: 400 });
    await createRole('D', { Description: 'Ärzte, tab\tand newline\n' });
    expect(await failure(iam.send(new UpdateRoleCommand({ RoleName: 'D', Description: snowman })))).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(await failure(iam.send(new UpdateRoleDescriptionCommand({ RoleName: 'D', Description: 'emoji \u{1F600}' })))).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(await failure(iam.send(new UpdateRoleCommand({ RoleName: 'D', Description: 'x'.repeat(1001) })))).toMatchObject({ name: 'ValidationError', status: 400 });
    expect((await iam.send(new GetRoleCommand({ RoleName: 'D' }))).Role?.Description).toBe('Ärzte, tab\tand newline\n');
  });
});

describe("UpdateRole's omitted MaxSessionDuration (API_UpdateRole.html)", () => {
  it('"If you do not specify a value for this setting, the default value of one hour is applied"', async () => {
    await createRole('Long', { MaxSessionDuration: 43200, Description: 'old' });
    await iam.send(new UpdateRoleCommand({ RoleName: 'Long', Description: 'new' }));
    const got = (await iam.send(new GetRoleCommand({ RoleName: 'Long' }))).Role;
    expect([got?.Description, got?.MaxSessionDuration]).toEqual(['new', 3600]);
    // UpdateRoleDescription changes only the description.
    await iam.send(new UpdateRoleCommand({ RoleName: 'Long', Description: 'new', MaxSessionDuration: 43200 }));
    await iam.send(new UpdateRoleDescriptionCommand({ RoleName: 'Long', Description: 'newer' }));
    expect((await iam.send(new GetRoleCommand({ RoleName: 'Long' }))).Role?.MaxSessionDuration).toBe(43200);
  });
});

describe('policy grammar (reference_policies_grammar.html)', () => {
  it('permissions policies need Effect, Action or NotAction, and Resource or NotResource', async () => {
    await createRole('P');
    const put = (PolicyDocument: string): Promise<unknown> => iam.send(new PutRolePolicyCommand({ RoleName: 'P', PolicyName: 'p', PolicyDocument }));
    expect(await failure(put('{"Version":'))).toEqual({ name: 'MalformedPolicyDocumentException', message: 'Syntax errors in policy.', status: 400 });
    expect(await failure(put(JSON.stringify({ Version: '2012-10-17' })))).toMatchObject({ name: 'MalformedPolicyDocumentException', status: 400 });
    expect(await failure(put(doc({ Action: 's3:GetObject', Resource: '*' })))).toMatchObject({ name: 'MalformedPolicyDocumentException', message: 'Missing required field Effect' });
    expect(await failure(put(doc({ Effect: 'allow', Action: 's3:GetObject', Resource: '*' })))).toMatchObject({ name: 'MalformedPolicyDocumentException' });
    expect(await failure(put(doc({ Effect: 'Allow', Resource: '*' })))).toMatchObject({ name: 'MalformedPolicyDocumentException', message: 'Policy statement must contain actions.' });
    expect(await failure(put(doc({ Effect: 'Allow', Action: 's3:GetObject' })))).toEqual({ name: 'MalformedPolicyDocumentException', message: 'Policy statement must contain resources.', status: 400 });
    expect(await failure(put(doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }, { Version: '2020-01-01' })))).toMatchObject({ name: 'MalformedPolicyDocumentException' });
    expect(await failure(put(doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' })))).toMatchObject({ name: 'MalformedPolicyDocumentException', message: 'Policy document should not specify a principal.' });
    // NotAction / NotResource count, a single statement object counts, Version may be left out (it defaults to 2008-10-17).
    await put(JSON.stringify({ Statement: { Effect: 'Deny', NotAction: 'iam:*', NotResource: 'arn:aws:s3:::x' } }));
  });

  it('trust policies need a Principal and may not name a Resource', async () => {
    const noPrincipal = doc({ Effect: 'Allow', Action: 'sts:AssumeRoleWithSAML' });
    expect(await failure(iam.send(new CreateRoleCommand({ RoleName: 'T', AssumeRolePolicyDocument: noPrincipal })))).toEqual({ name: 'MalformedPolicyDocumentException', message: 'Missing required field Principal', status: 400 });
    const withResource = doc({ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${HOME}:saml-provider/ADFS` }, Action: 'sts:AssumeRoleWithSAML', Resource: '*' });
    expect(await failure(iam.send(new CreateRoleCommand({ RoleName: 'T', AssumeRolePolicyDocument: withResource })))).toEqual({ name: 'MalformedPolicyDocumentException', message: 'Has prohibited field Resource', status: 400 });
    await createRole('T');
    await expect(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'T', PolicyDocument: withResource }))).rejects.toBeInstanceOf(MalformedPolicyDocumentException);
  });
});

describe('the inline policies of a role together (reference_iam-quotas.html)', () => {
  it('count at most 10,240 characters, whitespace not counted, across all of them', async () => {
    await createRole('Agg');
    // ~3,000 non-whitespace characters each, padded with whitespace that must not count.
    const resources = (n: number): string[] => Array.from({ length: n }, (_, i) => `arn:aws:s3:::b${String(i).padStart(4, '0')}/*`);
    const padded = (n: number): string => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources(n) }] }, null, 8);
    for (const name of ['one', 'two', 'three']) await iam.send(new PutRolePolicyCommand({ RoleName: 'Agg', PolicyName: name, PolicyDocument: padded(140) }));
    const err = await failure(once.send(new PutRolePolicyCommand({ RoleName: 'Agg', PolicyName: 'four', PolicyDocument: padded(140) })));
    expect(err).toEqual({ name: 'LimitExceededException', message: 'Maximum policy size of 10240 bytes exceeded for role Agg', status: 409 });
    // Replacing one policy counts the new text instead of the old one.
    await iam.send(new PutRolePolicyCommand({ RoleName: 'Agg', PolicyName: 'three', PolicyDocument: padded(150) }));
  });
});

describe('instance profiles (API_CreateInstanceProfile.html, API_DeleteRole.html, API_AddRoleToInstanceProfile.html)', () => {
  it('a role in an instance profile cannot be deleted until it is removed from it', async () => {
    await createRole('Ec2Role');
    const created = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'web', Path: '/apps/' }));
    expect(created.InstanceProfile).toMatchObject({ InstanceProfileName: 'web', Path: '/apps/', Arn: `arn:aws:iam::${HOME}:instance-profile/apps/web`, Roles: [] });
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'Ec2Role' }));
    // An instance profile holds one role.
    await createRole('Other');
    expect(await failure(once.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'Other' })))).toMatchObject({ name: 'LimitExceededException', status: 409 });
    expect((await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'Ec2Role' }))).InstanceProfiles?.map((p) => [p.InstanceProfileName, p.Roles?.map((r) => r.RoleName)])).toEqual([['web', ['Ec2Role']]]);
    const detail = (await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'] }))).RoleDetailList?.find((r) => r.RoleName === 'Ec2Role');
    expect(detail?.InstanceProfileList?.map((p) => p.InstanceProfileName)).toEqual(['web']);

    const err = await failure(iam.send(new DeleteRoleCommand({ RoleName: 'Ec2Role' })));
    expect(err).toEqual({ name: 'DeleteConflictException', message: 'Cannot delete entity, must remove roles from instance profile first.', status: 409 });
    await expect(iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'web' }))).rejects.toBeInstanceOf(DeleteConflictException);

    await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'Ec2Role' }));
    await expect(iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'web', RoleName: 'Ec2Role' }))).rejects.toBeInstanceOf(NoSuchEntityException);
    expect((await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'Ec2Role' }))).InstanceProfiles).toEqual([]);
    await iam.send(new DeleteRoleCommand({ RoleName: 'Ec2Role' }));
    await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'web' }));
    await expect(iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'web' }))).rejects.toBeInstanceOf(NoSuchEntityException);
    await expect(iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'bad name' }))).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
