/**
 * Target for `iam_user_credentials`: legacy IAM users linked to an AD account, whose long-lived
 * credentials rolemap switches off when that account leaves. rolemap never creates, changes the
 * tags of, or deletes these users; it only sets access keys Inactive, deletes the console password
 * (login profile), and puts one inline user policy, `rolemap-revoked-sessions`, that denies every
 * action to temporary credentials issued before the revocation (`aws:TokenIssueTime`, as AWS's
 * "revoke active sessions" does for roles): credentials from `GetSessionToken` keep working for up
 * to 36 hours after the keys that made them are deactivated. Long-term keys carry no token issue
 * time, so a key someone re-activates later works again. Their owner is whoever made them, so they
 * are read as not owned.
 *
 * Each step of a disable is tried even when another failed (a refused deny never keeps a key
 * active, a throttled key never holds back the deny); the change fails if any did, and the next
 * run plans what is left.
 *
 * Linking: the tag `leavers.iamUsers.linkTag` whose value is the AD sAMAccountName or UPN, or else
 * a name matching `leavers.iamUsers.namePattern` with a named group `sam`. The resource's principal
 * carries the AD account name with an empty guid: the core matches it to the directory.
 *
 * Reading an account: `GetAccountAuthorizationDetails` (Filter=User, paged, tags included), then
 * for each linked user only: `ListAccessKeys`, `GetLoginProfile`, `ListMFADevices`.
 * Warnings: active keys older than `keyAgeWarningDays`, and linked users with a console password
 * or an active key but no MFA device.
 */
import {
  DeleteLoginProfileCommand,
  GetLoginProfileCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListAccessKeys,
  paginateListMFADevices,
} from '@aws-sdk/client-iam';
import type { AccessKeyMetadata, IAMClient, UserDetail } from '@aws-sdk/client-iam';
import type { IamUserCredentialsAttrs, Resource, ResourceOf } from '../../../core/model/resources.js';
import type { Account, AccountId, LeaverPolicy, RoleMap } from '../../../core/model/role-map.js';
import type { ActualState } from '../../../core/model/state.js';
import { settleAccounts } from '../account-reads.js';
import type { Change } from '../../../core/plan/change.js';
import type { ApplyOutcome, Target } from '../../../core/ports.js';
import { RolemapError } from '../../../core/errors.js';
import { REVOCATION_POLICY_NAME } from '../../../core/model/ownership.js';
import type { PolicyDocument } from '../../../core/model/policy.js';
import { AwsCallError, CallRecorder, awsErrorName } from '../call-error.js';
import { IamChangeRefusedError } from '../iam-roles/errors.js';
import { decodePolicyDocument } from '../iam-roles/policy-encoding.js';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** rolemap's user-level deny: every action, for temporary credentials issued before `instant`. */
export function userRevocationPolicy(instant: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'RolemapRevokedSessions', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': instant } } }],
  };
}

/** The instant of a `rolemap-revoked-sessions` user policy as rolemap writes it, or null when it is something else. */
export function parseUserRevocationPolicy(doc: PolicyDocument): string | null {
  const raw = doc['Statement'];
  const statements = Array.isArray(raw) ? raw : [raw];
  if (statements.length !== 1) return null;
  const st = statements[0];
  if (st === null || typeof st !== 'object' || Array.isArray(st) || st['Effect'] !== 'Deny' || st['Action'] !== '*' || st['Resource'] !== '*') return null;
  const cond = st['Condition'];
  const lt = cond !== null && typeof cond === 'object' && !Array.isArray(cond) ? cond['DateLessThan'] : undefined;
  const at = lt !== null && typeof lt === 'object' && !Array.isArray(lt) ? lt['aws:TokenIssueTime'] : undefined;
  return typeof at === 'string' && ISO_INSTANT.test(at) && Object.keys(cond as object).length === 1 ? at : null;
}

/** Some steps of a leaver's IAM user disable failed; the others were carried out (their request ids are kept). */
export class IamUserDisablePartlyFailedError extends RolemapError {
  readonly retryable = true;
  readonly requestId: string | undefined;
  constructor(
    readonly address: string,
    readonly failures: readonly { readonly step: string; readonly error: unknown }[],
    /** Request ids of every call that succeeded. */
    readonly requestIds: readonly string[],
  ) {
    super(`${address}: ${failures.map((f) => `${f.step} failed: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ')} (the other steps were carried out)`, { cause: failures[0]?.error });
    const first = failures[0]?.error as { requestId?: unknown } | undefined;
    this.requestId = typeof first?.requestId === 'string' ? first.requestId : undefined;
  }
}

export interface IamUsersClientSource {
  iam(account: AccountId): IAMClient;
}

export interface IamUsersTargetOptions {
  /** The clock for key ages (adapters may read it; the core may not). */
  readonly clock?: (() => Date) | undefined;
  readonly pageSize?: number | undefined;
}

type CredentialsResource = ResourceOf<'iam_user_credentials'>;

/** The AD account an IAM user is linked to, or undefined. */
export function linkedAdAccount(user: { readonly UserName?: string | undefined; readonly Tags?: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined }, policy: LeaverPolicy['iamUsers']): string | undefined {
  const tagged = user.Tags?.find((t) => t.Key === policy.linkTag)?.Value;
  if (tagged !== undefined && tagged !== '') return tagged;
  if (policy.namePattern !== null) {
    const m = new RegExp(policy.namePattern).exec(user.UserName ?? '');
    const sam = m?.groups?.['sam'];
    if (sam !== undefined && sam !== '') return sam;
  }
  return undefined;
}

export class IamUsersTarget implements Target {
  readonly name = 'iam-users';
  readonly kinds = ['iam_user_credentials'] as const;
  readonly #clients: IamUsersClientSource;
  readonly #clock: () => Date;
  readonly #pageSize: number;

  constructor(clients: IamUsersClientSource, options: IamUsersTargetOptions = {}) {
    this.#clients = clients;
    this.#clock = options.clock ?? (() => new Date());
    this.#pageSize = options.pageSize ?? 1000;
  }

  /** Reads nothing when the role map does not ask for leavers' IAM user credentials to be disabled. */
  async readActual(roleMap: RoleMap): Promise<ActualState> {
    const rotating = roleMap.rotation?.action === 'deactivate';
    if (!roleMap.leavers.iamUsers.disableCredentials && !rotating) return { resources: [], warnings: [] };
    const now = this.#clock();
    // posture.rotation.users: IAM users rotated although not linked to AD (their principal stays unset).
    const rotated = rotating ? (roleMap.rotation?.users ?? []).map((re) => new RegExp(re)) : [];
    // Each account on its own: one that cannot be read is reported, the others returned (account-reads.ts).
    const settled = await Promise.allSettled(roleMap.accounts.map((a) => this.#readAccount(a, roleMap.leavers.iamUsers, now, rotated)));
    return settleAccounts(roleMap.accounts, settled, this.kinds);
  }

  async #readAccount(account: Account, policy: LeaverPolicy['iamUsers'], now: Date, rotated: readonly RegExp[] = []): Promise<{ resources: Resource[]; warnings: string[] }> {
    const client = this.#clients.iam(account.id);
    const rec = new CallRecorder('iam', account.id, undefined);
    const users: UserDetail[] = [];
    try {
      for await (const page of paginateGetAccountAuthorizationDetails({ client, pageSize: this.#pageSize }, { Filter: ['User'] })) users.push(...(page.UserDetailList ?? []));
    } catch (e) {
      throw rec.wrap('GetAccountAuthorizationDetails', e);
    }
    const resources: Resource[] = [];
    const warnings: string[] = [];
    for (const user of users) {
      const adName = linkedAdAccount(user, policy);
      const userName = user.UserName ?? '';
      if (adName === undefined && !rotated.some((re) => re.test(userName))) continue;
      const [keys, loginProfile, mfa] = await Promise.all([this.#keys(client, rec, userName), this.#hasLoginProfile(client, rec, userName), this.#hasMfa(client, rec, userName)]);
      const attrs: IamUserCredentialsAttrs = {
        accessKeys: Object.fromEntries(keys.map((k) => [k.AccessKeyId ?? '', k.Status === 'Active' ? 'Active' : 'Inactive'])),
        loginProfile,
        sessionsRevokedBefore: this.#revokedBefore(user, account, warnings),
        keyCreatedAt: Object.fromEntries(keys.flatMap((k) => (k.CreateDate ? [[k.AccessKeyId ?? '', k.CreateDate.toISOString()]] : []))),
      };
      const r: CredentialsResource = {
        kind: 'iam_user_credentials',
        id: `${account.id}/${userName}`,
        account: account.id,
        name: userName,
        attrs,
        owned: false,
        awsId: user.UserId,
        ...(adName !== undefined ? { principal: { guid: '', name: adName } } : {}),
      };
      resources.push(r);
      const where = `iam_user_credentials.${account.alias}.${userName}${adName !== undefined ? ` (AD ${adName})` : ''}`;
      for (const k of keys) {
        if (k.Status !== 'Active' || k.CreateDate === undefined) continue;
        const days = Math.floor((now.getTime() - k.CreateDate.getTime()) / 86_400_000);
        if (days > policy.keyAgeWarningDays) warnings.push(`${where}: access key ${k.AccessKeyId ?? ''} is ${days} days old (more than ${policy.keyAgeWarningDays}); rotate it`);
      }
      const activeKey = keys.some((k) => k.Status === 'Active');
      if (!mfa && (loginProfile || activeKey)) warnings.push(`${where}: no MFA device${loginProfile ? ' although it has a console password' : ''}`);
    }
    return { resources, warnings };
  }

  /** The instant of the user's `rolemap-revoked-sessions` policy (GetAccountAuthorizationDetails returns inline user policies). */
  #revokedBefore(user: UserDetail, account: Account, warnings: string[]): string | null {
    const p = user.UserPolicyList?.find((x) => x.PolicyName === REVOCATION_POLICY_NAME);
    if (p === undefined) return null;
    let instant: string | null = null;
    try {
      instant = parseUserRevocationPolicy(decodePolicyDocument(p.PolicyDocument ?? ''));
    } catch {
      instant = null;
    }
    if (instant === null) warnings.push(`iam_user_credentials.${account.alias}.${user.UserName ?? ''}: its ${REVOCATION_POLICY_NAME} policy is not the one rolemap writes (hand edit?); the next disable rewrites it`);
    return instant;
  }

  async #keys(client: IAMClient, rec: CallRecorder, UserName: string): Promise<AccessKeyMetadata[]> {
    const out: AccessKeyMetadata[] = [];
    try {
      for await (const page of paginateListAccessKeys({ client }, { UserName })) out.push(...(page.AccessKeyMetadata ?? []));
    } catch (e) {
      throw rec.wrap('ListAccessKeys', e);
    }
    return out.sort((a, b) => ((a.AccessKeyId ?? '') < (b.AccessKeyId ?? '') ? -1 : 1));
  }

  async #hasLoginProfile(client: IAMClient, rec: CallRecorder, UserName: string): Promise<boolean> {
    try {
      await client.send(new GetLoginProfileCommand({ UserName }));
      return true;
    } catch (e) {
      if (awsErrorName(e) === 'NoSuchEntityException') return false;
      throw rec.wrap('GetLoginProfile', e);
    }
  }

  async #hasMfa(client: IAMClient, rec: CallRecorder, UserName: string): Promise<boolean> {
    try {
      for await (const page of paginateListMFADevices({ client }, { UserName })) if ((page.MFADevices ?? []).length > 0) return true;
      return false;
    } catch (e) {
      throw rec.wrap('ListMFADevices', e);
    }
  }

  /**
   * Only ever toward "switched off": keys the change wants Inactive are deactivated, the login
   * profile is deleted when the change wants none. Re-activating a key, creating or deleting a
   * user are refused.
   */
  async apply(change: Change, _signal?: AbortSignal): Promise<ApplyOutcome> {
    if (change.kind !== 'iam_user_credentials') throw new IamChangeRefusedError(change.address, change.account, `kind ${change.kind} is not applied by the IAM users target`);
    const before = change.before as CredentialsResource | null;
    const after = change.after as CredentialsResource | null;
    if (before === null || after === null) throw new IamChangeRefusedError(change.address, change.account, 'rolemap never creates or deletes IAM users; it only disables their credentials');
    const client = this.#clients.iam(change.account);
    const rec = new CallRecorder('iam', change.account, change.address);
    const UserName = before.name;
    // Refusals first, before any call: only ever toward "switched off".
    const keys = Object.entries(after.attrs.accessKeys).sort(([x], [y]) => (x < y ? -1 : 1));
    for (const [AccessKeyId, status] of keys) {
      if (status === 'Active' && before.attrs.accessKeys[AccessKeyId] !== 'Active') throw new IamChangeRefusedError(change.address, change.account, `rolemap does not activate access keys (${AccessKeyId})`);
    }
    if (after.attrs.loginProfile && !before.attrs.loginProfile) throw new IamChangeRefusedError(change.address, change.account, 'rolemap does not create console passwords');
    const revokeAt = after.attrs.sessionsRevokedBefore ?? null;
    if (revokeAt !== null && !ISO_INSTANT.test(revokeAt)) throw new IamChangeRefusedError(change.address, change.account, `revocation instant "${revokeAt}" is not an ISO-8601 UTC instant`);

    const failures: { step: string; error: unknown; idsBefore: number }[] = [];
    const step = async (name: string, f: () => Promise<unknown>): Promise<void> => {
      try {
        await f();
      } catch (error) {
        failures.push({ step: name, error, idsBefore: rec.requestIds.length });
      }
    };
    // Deny first (the live temporary credentials), then the keys and the password (new ones).
    if (revokeAt !== null && revokeAt !== (before.attrs.sessionsRevokedBefore ?? null)) {
      await step('deny of temporary credentials', () =>
        rec.send('PutUserPolicy', () => client.send(new PutUserPolicyCommand({ UserName, PolicyName: REVOCATION_POLICY_NAME, PolicyDocument: JSON.stringify(userRevocationPolicy(revokeAt)) }))),
      );
    }
    for (const [AccessKeyId, status] of keys) {
      if (status === 'Inactive' && before.attrs.accessKeys[AccessKeyId] !== 'Inactive') {
        await step(`deactivation of access key ${AccessKeyId}`, () => rec.send('UpdateAccessKey', () => client.send(new UpdateAccessKeyCommand({ UserName, AccessKeyId, Status: 'Inactive' }))));
      }
    }
    if (!after.attrs.loginProfile && before.attrs.loginProfile) {
      await step('removal of the console password', async () => {
        try {
          await rec.send('DeleteLoginProfile', () => client.send(new DeleteLoginProfileCommand({ UserName })));
        } catch (e) {
          // Already gone (deleted by hand since the plan): the goal is reached.
          if (!(e instanceof AwsCallError && e.code === 'NoSuchEntityException')) throw e;
        }
      });
    }
    if (failures.length > 0) {
      // One failure after which nothing else succeeded: its own error already carries every request id before it.
      if (failures.length === 1 && failures[0]?.idsBefore === rec.requestIds.length) throw failures[0].error;
      throw new IamUserDisablePartlyFailedError(change.address, failures, [...rec.requestIds]);
    }
    return { requestIds: rec.requestIds };
  }
}
