/**
 * Reads what the posture report judges, per account, in a handful of calls whatever the number of
 * IAM users:
 * - `GetAccountSummary`: root's MFA and access keys;
 * - `GenerateCredentialReport` until `COMPLETE`, then `GetCredentialReport` (one CSV for every user;
 *   `ReportInProgress` is waited out, `ReportExpired` / `ReportNotPresent` start a new generation);
 * - `GetAccountPasswordPolicy` (`NoSuchEntity`: the account has none);
 * - `GetAccountAuthorizationDetails` (paged, 1,000 a page): users (with tags, for the AD link), roles,
 *   groups and customer managed policies, for the administrators;
 * - with Identity Center: the permission sets provisioned to the account, each one's policies once per
 *   run (cached across accounts), and the assignments of those that are administrator-grade.
 */
import {
  GenerateCredentialReportCommand,
  GetAccountPasswordPolicyCommand,
  GetAccountSummaryCommand,
  GetCredentialReportCommand,
  paginateGetAccountAuthorizationDetails,
} from '@aws-sdk/client-iam';
import type { GroupDetail, IAMClient, ManagedPolicyDetail, RoleDetail, UserDetail } from '@aws-sdk/client-iam';
import {
  DescribePermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  paginateListAccountAssignments,
  paginateListManagedPoliciesInPermissionSet,
  paginateListPermissionSetsProvisionedToAccount,
} from '@aws-sdk/client-sso-admin';
import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { PolicyDocument } from '../../../core/model/policy.js';
import type { Account, AccountId, LeaverPolicy } from '../../../core/model/role-map.js';
import { allowsEverything, isAdministratorAccess, parseCredentialReport } from '../../../core/posture/index.js';
import type { AccountPasswordPolicy, AdminPrincipal, CredentialReportRow } from '../../../core/posture/index.js';
import { AwsCallError, CallRecorder, awsErrorName } from '../call-error.js';
import { decodePolicyDocument } from '../iam-roles/policy-encoding.js';
import { linkedAdAccount } from '../iam-users/iam-users-target.js';

export interface PostureClientSource {
  iam(account: AccountId): Pick<IAMClient, 'send'>;
  /** The Identity Center account's SSO Admin client; absent without Identity Center. */
  ssoAdmin?: (() => Pick<SSOAdminClient, 'send'>) | undefined;
}

export interface PostureReaderOptions {
  /** How IAM users are linked to AD accounts (the iam-users target's tag and name pattern). */
  readonly link: Pick<LeaverPolicy['iamUsers'], 'linkTag' | 'namePattern'>;
  /** Identity Center instance, to count permission sets as administrators; null: not counted. */
  readonly identityCenterInstanceArn: string | null;
  /** Wait between polls of a credential report being generated. */
  readonly pollMs?: number | undefined;
  /** Give up after this many polls (a typed, retryable error). */
  readonly maxPolls?: number | undefined;
  readonly pageSize?: number | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** What one account gave: everything but the leaver decision, which needs the directory. */
export interface AccountPostureRead {
  readonly account: AccountId;
  readonly alias: string;
  readonly rootMfaEnabled: boolean;
  readonly rootAccessKeysPresent: boolean;
  readonly report: readonly CredentialReportRow[];
  readonly reportGeneratedAt: Date | null;
  readonly passwordPolicy: AccountPasswordPolicy | null;
  readonly admins: readonly AdminPrincipal[];
  /** IAM users linked to an AD account (tag or name pattern). */
  readonly linkedUsers: readonly { readonly userName: string; readonly adName: string }[];
  /** AWS calls made for this account (pages counted one each). */
  readonly calls: number;
}

/** The credential report was still not ready after the polls allowed. */
export class CredentialReportTimeoutError extends AwsCallError {}

interface PsInfo {
  readonly name: string;
  readonly adminVia: string | null;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function policyOf(text: string | undefined): PolicyDocument | null {
  if (text === undefined || text === '') return null;
  try {
    return decodePolicyDocument(text);
  } catch {
    return null;
  }
}

export class PostureReader {
  readonly #clients: PostureClientSource;
  readonly #opts: PostureReaderOptions;
  readonly #ps = new Map<string, Promise<PsInfo>>();

  constructor(clients: PostureClientSource, options: PostureReaderOptions) {
    this.#clients = clients;
    this.#opts = options;
  }

  async readAccount(account: Account): Promise<AccountPostureRead> {
    const client = this.#clients.iam(account.id);
    const rec = new CallRecorder('IAM', account.id, undefined);
    let calls = 0;
    const send = <T extends { $metadata: { requestId?: string | undefined } }>(op: string, call: () => Promise<T>): Promise<T> => {
      calls++;
      return rec.send(op, call);
    };

    const [summary, report, passwordPolicy, details] = await Promise.all([
      send('GetAccountSummary', () => client.send(new GetAccountSummaryCommand({}))),
      this.#report(client, rec, () => calls++),
      this.#passwordPolicy(client, rec, () => calls++),
      this.#details(client, rec, () => calls++),
    ]);
    const map = summary.SummaryMap ?? {};
    const admins: AdminPrincipal[] = [...this.#iamAdmins(details)];
    if (this.#opts.identityCenterInstanceArn !== null && this.#clients.ssoAdmin) {
      const ps = await this.#permissionSetAdmins(account.id, () => calls++);
      admins.push(...ps);
    }
    const linkedUsers = details.users.flatMap((u) => {
      const adName = linkedAdAccount(u, { linkTag: this.#opts.link.linkTag, namePattern: this.#opts.link.namePattern, disableCredentials: false, keyAgeWarningDays: 0 });
      return adName === undefined ? [] : [{ userName: u.UserName ?? '', adName }];
    });
    return {
      account: account.id,
      alias: account.alias,
      rootMfaEnabled: map['AccountMFAEnabled'] === 1,
      rootAccessKeysPresent: (map['AccountAccessKeysPresent'] ?? 0) > 0,
      report: parseCredentialReport(report.csv, account.id),
      reportGeneratedAt: report.generatedAt,
      passwordPolicy,
      admins: admins.sort((a, b) => (a.principal < b.principal ? -1 : 1)),
      linkedUsers,
      calls,
    };
  }

  async #report(client: Pick<IAMClient, 'send'>, rec: CallRecorder, count: () => void): Promise<{ csv: string; generatedAt: Date | null }> {
    const sleep = this.#opts.sleep ?? defaultSleep;
    const pollMs = this.#opts.pollMs ?? 1000;
    const maxPolls = this.#opts.maxPolls ?? 120;
    let generate = true;
    for (let poll = 0; poll <= maxPolls; poll++) {
      if (generate) {
        count();
        const g = await rec.send('GenerateCredentialReport', () => client.send(new GenerateCredentialReportCommand({})));
        generate = false;
        if (g.State !== 'COMPLETE') {
          await sleep(pollMs);
          continue;
        }
      }
      try {
        count();
        const out = await client.send(new GetCredentialReportCommand({}));
        return { csv: Buffer.from(out.Content ?? new Uint8Array()).toString('utf8'), generatedAt: out.GeneratedTime ?? null };
      } catch (e) {
        const name = awsErrorName(e);
        if (name === 'CredentialReportNotReadyException') {
          await sleep(pollMs);
          continue;
        }
        if (name === 'CredentialReportExpiredException' || name === 'CredentialReportNotPresentException') {
          generate = true;
          continue;
        }
        throw rec.wrap('GetCredentialReport', e);
      }
    }
    const facts = { service: 'IAM', operation: 'GetCredentialReport', account: rec.account, resource: undefined, code: 'ReportInProgress', completedRequestIds: [...rec.requestIds] };
    const message = `the credential report of account ${rec.account} was not ready after ${maxPolls} polls ${pollMs} ms apart`;
    const klass = { code: 'ReportInProgress', httpStatus: 404, requestId: undefined, throttling: false, network: false, retryable: true, unparsable: false, contentType: undefined, message };
    throw new CredentialReportTimeoutError(facts, klass, { message });
  }

  async #passwordPolicy(client: Pick<IAMClient, 'send'>, rec: CallRecorder, count: () => void): Promise<AccountPasswordPolicy | null> {
    count();
    try {
      const p = (await client.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy;
      if (p === undefined) return null;
      return {
        minimumLength: p.MinimumPasswordLength ?? 0,
        requireSymbols: p.RequireSymbols === true,
        requireNumbers: p.RequireNumbers === true,
        requireUppercase: p.RequireUppercaseCharacters === true,
        requireLowercase: p.RequireLowercaseCharacters === true,
        maxAgeDays: p.ExpirePasswords === true && p.MaxPasswordAge !== undefined ? p.MaxPasswordAge : null,
        reusePrevention: p.PasswordReusePrevention ?? null,
      };
    } catch (e) {
      if (awsErrorName(e) === 'NoSuchEntityException') return null;
      throw rec.wrap('GetAccountPasswordPolicy', e);
    }
  }

  async #details(client: Pick<IAMClient, 'send'>, rec: CallRecorder, count: () => void): Promise<{ users: UserDetail[]; roles: RoleDetail[]; groups: GroupDetail[]; policies: ManagedPolicyDetail[] }> {
    const out = { users: [] as UserDetail[], roles: [] as RoleDetail[], groups: [] as GroupDetail[], policies: [] as ManagedPolicyDetail[] };
    try {
      const pages = paginateGetAccountAuthorizationDetails({ client: client as IAMClient, pageSize: this.#opts.pageSize ?? 1000 }, { Filter: ['User', 'Role', 'Group', 'LocalManagedPolicy'] });
      for await (const page of pages) {
        count();
        out.users.push(...(page.UserDetailList ?? []));
        out.roles.push(...(page.RoleDetailList ?? []));
        out.groups.push(...(page.GroupDetailList ?? []));
        out.policies.push(...(page.Policies ?? []));
      }
    } catch (e) {
      throw rec.wrap('GetAccountAuthorizationDetails', e);
    }
    return out;
  }

  /** Users (directly or through a group) and roles with AdministratorAccess or an Allow of * on *. */
  *#iamAdmins(d: { users: UserDetail[]; roles: RoleDetail[]; groups: GroupDetail[]; policies: ManagedPolicyDetail[] }): Iterable<AdminPrincipal> {
    const customerAdmin = new Map<string, boolean>();
    for (const p of d.policies) {
      const version = p.PolicyVersionList?.find((v) => v.IsDefaultVersion === true);
      const doc = policyOf(version?.Document);
      if (p.Arn !== undefined) customerAdmin.set(p.Arn, doc !== null && allowsEverything(doc));
    }
    const viaAttached = (arns: readonly (string | undefined)[]): string | null => {
      for (const arn of arns) {
        if (arn === undefined) continue;
        if (isAdministratorAccess(arn)) return 'AdministratorAccess';
        if (customerAdmin.get(arn) === true) return `${arn} allows * on *`;
      }
      return null;
    };
    const viaInline = (list: readonly { PolicyName?: string | undefined; PolicyDocument?: string | undefined }[]): string | null => {
      for (const p of list) {
        const doc = policyOf(p.PolicyDocument);
        if (doc !== null && allowsEverything(doc)) return `inline policy ${p.PolicyName ?? ''} allows * on *`;
      }
      return null;
    };
    const groupVia = new Map<string, string>();
    for (const g of d.groups) {
      const via = viaAttached((g.AttachedManagedPolicies ?? []).map((a) => a.PolicyArn)) ?? viaInline(g.GroupPolicyList ?? []);
      if (via !== null && g.GroupName !== undefined) groupVia.set(g.GroupName, `group ${g.GroupName}: ${via}`);
    }
    for (const u of d.users) {
      const via =
        viaAttached((u.AttachedManagedPolicies ?? []).map((a) => a.PolicyArn)) ??
        viaInline(u.UserPolicyList ?? []) ??
        (u.GroupList ?? []).map((g) => groupVia.get(g)).find((v) => v !== undefined) ??
        null;
      if (via !== null) yield { principal: `user/${u.UserName ?? ''}`, via };
    }
    for (const r of d.roles) {
      // Service-linked roles are AWS's own, not people's administrator access.
      if ((r.Path ?? '').startsWith('/aws-service-role/')) continue;
      // Identity Center's AWSReservedSSO_* roles are its permission sets provisioned here: counted as
      // the permission-set assignments below, not a second time as roles.
      if ((r.Path ?? '').startsWith('/aws-reserved/sso.amazonaws.com/')) continue;
      const via = viaAttached((r.AttachedManagedPolicies ?? []).map((a) => a.PolicyArn)) ?? viaInline(r.RolePolicyList ?? []);
      if (via !== null) yield { principal: `role/${r.RoleName ?? ''}`, via };
    }
  }

  async #permissionSetAdmins(account: AccountId, count: () => void): Promise<AdminPrincipal[]> {
    const sso = (this.#clients.ssoAdmin as () => Pick<SSOAdminClient, 'send'>)();
    const instanceArn = this.#opts.identityCenterInstanceArn as string;
    const rec = new CallRecorder('SSO Admin', account, undefined);
    const arns: string[] = [];
    try {
      for await (const page of paginateListPermissionSetsProvisionedToAccount({ client: sso as SSOAdminClient }, { InstanceArn: instanceArn, AccountId: account })) {
        count();
        arns.push(...(page.PermissionSets ?? []));
      }
    } catch (e) {
      throw rec.wrap('ListPermissionSetsProvisionedToAccount', e);
    }
    const out: AdminPrincipal[] = [];
    for (const arn of arns) {
      let info = this.#ps.get(arn);
      if (info === undefined) {
        info = this.#permissionSet(sso, instanceArn, arn, rec, count);
        this.#ps.set(arn, info);
      }
      const ps = await info;
      if (ps.adminVia === null) continue;
      try {
        for await (const page of paginateListAccountAssignments({ client: sso as SSOAdminClient }, { InstanceArn: instanceArn, AccountId: account, PermissionSetArn: arn })) {
          count();
          for (const a of page.AccountAssignments ?? []) out.push({ principal: `permission-set/${ps.name}/${a.PrincipalType ?? ''}:${a.PrincipalId ?? ''}`, via: ps.adminVia });
        }
      } catch (e) {
        throw rec.wrap('ListAccountAssignments', e);
      }
    }
    return out;
  }

  async #permissionSet(sso: Pick<SSOAdminClient, 'send'>, instanceArn: string, arn: string, rec: CallRecorder, count: () => void): Promise<PsInfo> {
    count();
    const d = await rec.send('DescribePermissionSet', () => sso.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn })));
    const name = d.PermissionSet?.Name ?? arn;
    const managed: string[] = [];
    try {
      for await (const page of paginateListManagedPoliciesInPermissionSet({ client: sso as SSOAdminClient }, { InstanceArn: instanceArn, PermissionSetArn: arn })) {
        count();
        managed.push(...(page.AttachedManagedPolicies ?? []).map((m) => m.Arn ?? ''));
      }
    } catch (e) {
      throw rec.wrap('ListManagedPoliciesInPermissionSet', e);
    }
    if (managed.some(isAdministratorAccess)) return { name, adminVia: `permission set ${name}: AdministratorAccess` };
    count();
    const inline = await rec.send('GetInlinePolicyForPermissionSet', () => sso.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn })));
    const doc = policyOf(inline.InlinePolicy);
    return { name, adminVia: doc !== null && allowsEverything(doc) ? `permission set ${name}: inline policy allows * on *` : null };
  }
}
