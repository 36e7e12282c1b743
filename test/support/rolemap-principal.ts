/**
 * rolemap's own AWS identity in an emulated organization, set up through the real SDK the way an
 * administrator would, holding exactly `config/iam-policy.json`:
 *
 * - in the home (management, Identity Center) account, the IAM user `rolemap` with that policy
 *   inline, plus the one statement the docs put outside it (daemon.md, "The IAM policy for rolemap's
 *   own role"): `sts:AssumeRole` on the role rolemap assumes in each other account; and an access key;
 * - in each other account, the role named by the config's `assumeRoleArn`, trusting that user, with
 *   that policy inline.
 *
 * The administrator acts with the emulator's base credentials at home and through
 * `OrganizationAccountAccessRole` elsewhere (`EmulatorOptions.memberAccounts`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** config/iam-policy.json as shipped. */
export function rolemapPolicy(): string {
  return readFileSync(join(ROOT, 'config', 'iam-policy.json'), 'utf8');
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface RolemapPrincipalSetup {
  readonly endpoint: string;
  readonly region: string;
  /** Administrator credentials in the home account (the emulator's base credentials). */
  readonly admin: AwsCredentials;
  /** Roles rolemap assumes (`accounts.<alias>.assumeRoleArn`), each in a member account. */
  readonly assumeRoleArns: readonly string[];
  /** The policy to give rolemap; default config/iam-policy.json. */
  readonly policy?: string;
  readonly userName?: string;
}

/** An IAM client acting as the administrator in `account`: at home directly, elsewhere through OrganizationAccountAccessRole. */
export async function adminIam(setup: Pick<RolemapPrincipalSetup, 'endpoint' | 'region' | 'admin'>, homeAccount: string, account: string): Promise<IAMClient> {
  if (account === homeAccount) return new IAMClient({ endpoint: setup.endpoint, region: setup.region, credentials: setup.admin });
  const sts = new STSClient({ endpoint: setup.endpoint, region: setup.region, credentials: setup.admin });
  try {
    const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, RoleSessionName: 'administrator' }));
    return new IAMClient({ endpoint: setup.endpoint, region: setup.region, credentials: { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' } });
  } finally {
    sts.destroy();
  }
}

/** Creates rolemap's user (home account) and roles (member accounts); returns the user's access key. */
export async function provisionRolemapPrincipal(setup: RolemapPrincipalSetup, homeAccount: string): Promise<AwsCredentials & { readonly userArn: string }> {
  const policy = setup.policy ?? rolemapPolicy();
  const userName = setup.userName ?? 'rolemap';
  const userArn = `arn:aws:iam::${homeAccount}:user/${userName}`;
  const home = await adminIam(setup, homeAccount, homeAccount);
  try {
    await home.send(new CreateUserCommand({ UserName: userName }));
    await home.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'RolemapLeastPrivilege', PolicyDocument: policy }));
    if (setup.assumeRoleArns.length > 0) {
      const assume = { Version: '2012-10-17', Statement: [{ Sid: 'AssumeRolemapRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [...setup.assumeRoleArns] }] };
      await home.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'AssumeRolemapRoles', PolicyDocument: JSON.stringify(assume) }));
    }
    const { AccessKey: key } = await home.send(new CreateAccessKeyCommand({ UserName: userName }));
    for (const arn of setup.assumeRoleArns) {
      const m = /^arn:aws:iam::(\d{12}):role\/(?:(.*)\/)?([^/]+)$/.exec(arn);
      if (!m) throw new Error(`not a role ARN: ${arn}`);
      const iam = await adminIam(setup, homeAccount, m[1] as string);
      try {
        const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: userArn }, Action: 'sts:AssumeRole' }] };
        await iam.send(new CreateRoleCommand({ RoleName: m[3], Path: m[2] ? `/${m[2]}/` : '/', AssumeRolePolicyDocument: JSON.stringify(trust) }));
        await iam.send(new PutRolePolicyCommand({ RoleName: m[3], PolicyName: 'RolemapLeastPrivilege', PolicyDocument: policy }));
      } finally {
        iam.destroy();
      }
    }
    return { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '', userArn };
  } finally {
    home.destroy();
  }
}
