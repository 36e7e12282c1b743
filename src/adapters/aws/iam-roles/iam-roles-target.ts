/**
 * Target for `iam_role` and `iam_role_revocations`: the federated roles of every account in the
 * role map, and the inline deny policy that cuts leavers' live sessions on them.
 *
 * Reading an account costs, besides the one STS call that gets its credentials:
 * - `GetAccountAuthorizationDetails` (Filter=Role), paged: trust policy, attached and inline
 *   policies, tags and boundary of every role, a thousand roles a page;
 * - `ListRoles`, paged: description and max session duration, which RoleDetail does not carry;
 * - `ListSAMLProviders`: one call, so a missing provider is an error instead of a failed create.
 * That is far fewer calls than `GetRole` + four `List*` per role.
 */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  ListSAMLProvidersCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListAttachedRolePolicies,
  paginateListInstanceProfilesForRole,
  paginateListRolePolicies,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import type { IAMClient, RoleDetail } from '@aws-sdk/client-iam';
import { OWNER_TAG, REVOCATION_POLICY_NAME } from '../../../core/model/ownership.js';
import { policiesEqual } from '../../../core/model/policy.js';
import type { PolicyDocument } from '../../../core/model/policy.js';
import type { IamRoleAttrs, Resource, ResourceOf, RevocationsAttrs } from '../../../core/model/resources.js';
import type { Account, AccountId, RoleMap } from '../../../core/model/role-map.js';
import type { ActualState } from '../../../core/model/state.js';
import { settleAccounts } from '../account-reads.js';
import type { Change } from '../../../core/plan/change.js';
import type { ApplyOutcome, Target } from '../../../core/ports.js';
import { AwsCallError, CallRecorder, awsErrorName } from '../call-error.js';
import { IamChangeRefusedError, PolicyDecodeError, SamlProviderMissingError } from './errors.js';
import { decodePolicyDocument } from './policy-encoding.js';
import { isValidSessionName, parseRevocationPolicy, renderRevocationPolicy } from './revocation-policy.js';
import { samlProviderArn } from './trust-policy.js';

/** The slice of the client factory this target uses. */
export interface IamClientSource {
  iam(account: AccountId): IAMClient;
}

export interface IamRolesTargetOptions {
  /** Items per page for the paged reads (1..1000). */
  readonly pageSize?: number | undefined;
}

type RoleResource = ResourceOf<'iam_role'>;
type RevocationsResource = ResourceOf<'iam_role_revocations'>;
/** What `aws:TokenIssueTime` compares against: an ISO-8601 UTC instant. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export class IamRolesTarget implements Target {
  readonly name = 'iam-roles';
  readonly kinds = ['iam_role', 'iam_role_revocations'] as const;
  readonly #clients: IamClientSource;
  readonly #pageSize: number;

  constructor(clients: IamClientSource, options: IamRolesTargetOptions = {}) {
    this.#clients = clients;
    this.#pageSize = options.pageSize ?? 1000;
  }

  // ------------------------------------------------------------------ reading

  /**
   * Every account, each on its own: an account that cannot be read (its role cannot be assumed, its
   * credentials act elsewhere, a SAML provider is missing) is reported in `unreadable` and the others
   * are returned. Only when no account can be read does this throw (the first account's error).
   */
  async readActual(roleMap: RoleMap): Promise<ActualState> {
    const settled = await Promise.allSettled(
      roleMap.accounts.map(async (a) => {
        const r = await this.#readAccount(a, roleMap);
        if (r.missingProviders.length > 0) throw new SamlProviderMissingError(r.missingProviders);
        return r;
      }),
    );
    return settleAccounts(roleMap.accounts, settled, this.kinds);
  }

  async #readAccount(
    account: Account,
    roleMap: RoleMap,
  ): Promise<{ resources: Resource[]; warnings: string[]; missingProviders: { account: AccountId; alias: string; provider: string }[] }> {
    const client = this.#clients.iam(account.id);
    const recorder = new CallRecorder('iam', account.id, undefined);
    const [details, listed, providers] = await Promise.all([
      this.#roleDetails(client, recorder),
      this.#roleSummaries(client, recorder),
      recorder.send('ListSAMLProviders', () => client.send(new ListSAMLProvidersCommand({}))).then((r) => new Set((r.SAMLProviderList ?? []).map((p) => p.Arn ?? ''))),
    ]);

    const wanted = new Set<string>();
    for (const spec of roleMap.federatedRoles) if (spec.account === account.id) wanted.add(spec.samlProvider);
    // Pattern rules may produce roles in any configured account.
    for (const pattern of roleMap.federatedRolePatterns) wanted.add(pattern.template.samlProvider);
    const missingProviders = [...wanted]
      .filter((name) => !providers.has(samlProviderArn(account.id, name)))
      .sort()
      .map((provider) => ({ account: account.id, alias: account.alias, provider }));

    const ownerId = roleMap.safety.ownerId;
    const resources: Resource[] = [];
    const warnings: string[] = [];
    const specs = new Map(roleMap.federatedRoles.filter((s) => s.account === account.id).map((s) => [s.roleName.toLowerCase(), s]));
    for (const detail of details) {
      const name = detail.RoleName ?? '';
      const summary = listed.get(name);
      const { role, revocations, warnings: w } = this.#toResources(account, detail, summary, ownerId);
      resources.push(role);
      if (revocations) resources.push(revocations);
      warnings.push(...w);
      const spec = specs.get(name.toLowerCase());
      if (spec && spec.roleName !== name) {
        warnings.push(
          `iam_role.${account.alias}.${name}: the role map spells it "${spec.roleName}"; IAM role names are unique without regard to case, so rolemap cannot create the one beside the other. Spell it "${name}" in the role map.`,
        );
      }
      if (spec && !role.owned && !spec.adopt) {
        const other = role.attrs.tags[OWNER_TAG];
        warnings.push(
          `iam_role.${account.alias}.${name}: exists without ${OWNER_TAG}=${ownerId}${other !== undefined ? ` (tagged for owner "${other}")` : ''}; left alone. Set adopt: true on this role to take it over.`,
        );
      }
    }
    return { resources, warnings, missingProviders };
  }

  async #roleDetails(client: IAMClient, recorder: CallRecorder): Promise<RoleDetail[]> {
    const out: RoleDetail[] = [];
    try {
      for await (const page of paginateGetAccountAuthorizationDetails({ client, pageSize: this.#pageSize }, { Filter: ['Role'] })) {
        out.push(...(page.RoleDetailList ?? []));
      }
    } catch (e) {
      throw recorder.wrap('GetAccountAuthorizationDetails', e);
    }
    return out;
  }

  async #roleSummaries(client: IAMClient, recorder: CallRecorder): Promise<Map<string, { description: string; maxSessionDuration: number }>> {
    const out = new Map<string, { description: string; maxSessionDuration: number }>();
    try {
      for await (const page of paginateListRoles({ client, pageSize: this.#pageSize }, {})) {
        for (const r of page.Roles ?? []) out.set(r.RoleName ?? '', { description: r.Description ?? '', maxSessionDuration: r.MaxSessionDuration ?? 3600 });
      }
    } catch (e) {
      throw recorder.wrap('ListRoles', e);
    }
    return out;
  }

  #decode(account: Account, where: string, encoded: string | undefined): PolicyDocument {
    try {
      return decodePolicyDocument(encoded ?? '');
    } catch (e) {
      throw new PolicyDecodeError(account.id, where, { cause: e });
    }
  }

  #toResources(
    account: Account,
    d: RoleDetail,
    summary: { description: string; maxSessionDuration: number } | undefined,
    ownerId: string,
  ): { role: RoleResource; revocations: RevocationsResource | null; warnings: string[] } {
    const name = d.RoleName ?? '';
    const tags = Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    const owned = tags[OWNER_TAG] === ownerId;
    const inline: Record<string, PolicyDocument> = {};
    let revocationDoc: PolicyDocument | null = null;
    for (const p of d.RolePolicyList ?? []) {
      const doc = this.#decode(account, `role ${name} inline policy ${p.PolicyName ?? ''}`, p.PolicyDocument);
      if (p.PolicyName === REVOCATION_POLICY_NAME) revocationDoc = doc;
      else inline[p.PolicyName ?? ''] = doc;
    }
    const attrs: IamRoleAttrs = {
      path: d.Path ?? '/',
      // A role created between the two reads has no summary yet: IAM's defaults.
      description: summary?.description ?? '',
      maxSessionDuration: summary?.maxSessionDuration ?? 3600,
      permissionsBoundary: d.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
      trustPolicy: this.#decode(account, `role ${name} trust policy`, d.AssumeRolePolicyDocument),
      managedPolicyArns: (d.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort(),
      inlinePolicies: inline,
      tags,
    };
    const id = `${account.id}/${name}`;
    const role: RoleResource = { kind: 'iam_role', id, account: account.id, name, attrs, owned, awsId: d.RoleId };
    const warnings: string[] = [];
    let revocations: RevocationsResource | null = null;
    if (revocationDoc) {
      const parsed = parseRevocationPolicy(revocationDoc);
      if (parsed.foreignStatements > 0) {
        warnings.push(`iam_role_revocations.${account.alias}.${name}: ${parsed.foreignStatements} statement(s) in ${REVOCATION_POLICY_NAME} are not rolemap revocations (hand edit?); the next apply rewrites the policy`);
      }
      const entries: RevocationsAttrs = { entries: parsed.entries };
      revocations = { kind: 'iam_role_revocations', id, account: account.id, name, attrs: entries, owned, awsId: d.RoleId };
    }
    return { role, revocations, warnings };
  }

  // ------------------------------------------------------------------ applying

  async apply(change: Change, _signal?: AbortSignal): Promise<ApplyOutcome> {
    const client = this.#clients.iam(change.account);
    const recorder = new CallRecorder('iam', change.account, change.address);
    if (change.kind === 'iam_role') {
      const before = change.before as RoleResource | null;
      const after = change.after as RoleResource | null;
      if (before === null && after !== null) await this.#create(client, recorder, change, after);
      else if (before !== null && after !== null) await this.#update(client, recorder, change, before, after);
      else if (before !== null && after === null) await this.#delete(client, recorder, change, before);
      else throw new IamChangeRefusedError(change.address, change.account, 'a change with neither before nor after');
      return { requestIds: recorder.requestIds };
    }
    if (change.kind === 'iam_role_revocations') {
      const after = change.after as RevocationsResource | null;
      const roleName = (after ?? (change.before as RevocationsResource | null))?.name;
      if (roleName === undefined) throw new IamChangeRefusedError(change.address, change.account, 'a change with neither before nor after');
      const entries = after?.attrs.entries ?? {};
      for (const [session, at] of Object.entries(entries)) {
        if (!isValidSessionName(session)) throw new IamChangeRefusedError(change.address, change.account, `"${session}" cannot be a role session name, so a deny on it would match no session`);
        if (!ISO_INSTANT.test(at)) throw new IamChangeRefusedError(change.address, change.account, `revocation instant "${at}" for ${session} is not an ISO-8601 UTC instant`);
      }
      if (Object.keys(entries).length === 0) {
        await this.#deleteInline(client, recorder, roleName, REVOCATION_POLICY_NAME);
      } else {
        await recorder.send('PutRolePolicy', () =>
          client.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: REVOCATION_POLICY_NAME, PolicyDocument: JSON.stringify(renderRevocationPolicy(entries)) })),
        );
      }
      return { requestIds: recorder.requestIds };
    }
    throw new IamChangeRefusedError(change.address, change.account, `kind ${change.kind} is not applied by the IAM roles target`);
  }

  #checkAttrs(change: Change, attrs: IamRoleAttrs): void {
    if (attrs.tags[OWNER_TAG] === undefined) {
      throw new IamChangeRefusedError(change.address, change.account, `the role would not carry the ${OWNER_TAG} tag, so rolemap could not recognise it as its own`);
    }
    if (attrs.inlinePolicies[REVOCATION_POLICY_NAME] !== undefined) {
      throw new IamChangeRefusedError(change.address, change.account, `${REVOCATION_POLICY_NAME} is managed as iam_role_revocations, not as an inline policy of the role`);
    }
  }

  async #create(client: IAMClient, rec: CallRecorder, change: Change, after: RoleResource): Promise<void> {
    const a = after.attrs;
    this.#checkAttrs(change, a);
    const RoleName = after.name;
    await rec.send('CreateRole', () =>
      client.send(
        new CreateRoleCommand({
          RoleName,
          Path: a.path,
          AssumeRolePolicyDocument: JSON.stringify(a.trustPolicy),
          ...(a.description !== '' ? { Description: a.description } : {}),
          MaxSessionDuration: a.maxSessionDuration,
          ...(a.permissionsBoundary !== null ? { PermissionsBoundary: a.permissionsBoundary } : {}),
          Tags: Object.entries(a.tags)
            .sort(([x], [y]) => (x < y ? -1 : 1))
            .map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    for (const PolicyArn of [...a.managedPolicyArns].sort()) {
      await rec.send('AttachRolePolicy', () => client.send(new AttachRolePolicyCommand({ RoleName, PolicyArn })));
    }
    for (const PolicyName of Object.keys(a.inlinePolicies).sort()) {
      const PolicyDocument = JSON.stringify(a.inlinePolicies[PolicyName]);
      await rec.send('PutRolePolicy', () => client.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument })));
    }
  }

  /**
   * Only what differs, each its own call. Order: tags first (an adopted role carries the owner tag
   * before anything else changes), then trust, settings, boundary, managed policies (detach before
   * attach, so the quota of ten is never exceeded), inline policies (delete before put, so their
   * aggregate size quota is never exceeded), and tag removals last.
   */
  async #update(client: IAMClient, rec: CallRecorder, change: Change, before: RoleResource, after: RoleResource): Promise<void> {
    const b = before.attrs;
    const a = after.attrs;
    this.#checkAttrs(change, a);
    if (!before.owned && a.tags[OWNER_TAG] === undefined) {
      throw new IamChangeRefusedError(change.address, change.account, 'the role is not owned by rolemap and the change does not adopt it');
    }
    if (b.path !== a.path) {
      // The plan marks a path change as a replacement (core/plan/replacements.ts): destroy, then create.
      if (change.replace !== true) {
        throw new IamChangeRefusedError(change.address, change.account, `IAM cannot change a role's path in place (${b.path} -> ${a.path}); delete and re-create the role, or keep the path`);
      }
      await this.#delete(client, rec, change, before);
      await this.#create(client, rec, change, after);
      return;
    }
    const RoleName = before.name;
    const tagged = Object.entries(a.tags)
      .filter(([k, v]) => b.tags[k] !== v)
      .sort(([x], [y]) => (x < y ? -1 : 1));
    if (tagged.length > 0) {
      await rec.send('TagRole', () => client.send(new TagRoleCommand({ RoleName, Tags: tagged.map(([Key, Value]) => ({ Key, Value })) })));
    }
    if (!policiesEqual(b.trustPolicy, a.trustPolicy)) {
      await rec.send('UpdateAssumeRolePolicy', () => client.send(new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: JSON.stringify(a.trustPolicy) })));
    }
    if (b.description !== a.description || b.maxSessionDuration !== a.maxSessionDuration) {
      // Both settings every time: API_UpdateRole applies the one-hour default to an omitted
      // MaxSessionDuration, so fixing a description alone would cut a 12-hour role to one hour.
      await rec.send('UpdateRole', () => client.send(new UpdateRoleCommand({ RoleName, Description: a.description, MaxSessionDuration: a.maxSessionDuration })));
    }
    if (b.permissionsBoundary !== a.permissionsBoundary) {
      if (a.permissionsBoundary === null) await rec.send('DeleteRolePermissionsBoundary', () => client.send(new DeleteRolePermissionsBoundaryCommand({ RoleName })));
      else {
        const PermissionsBoundary = a.permissionsBoundary;
        await rec.send('PutRolePermissionsBoundary', () => client.send(new PutRolePermissionsBoundaryCommand({ RoleName, PermissionsBoundary })));
      }
    }
    for (const PolicyArn of b.managedPolicyArns.filter((p) => !a.managedPolicyArns.includes(p)).sort()) {
      await rec.send('DetachRolePolicy', () => client.send(new DetachRolePolicyCommand({ RoleName, PolicyArn })));
    }
    for (const PolicyArn of a.managedPolicyArns.filter((p) => !b.managedPolicyArns.includes(p)).sort()) {
      await rec.send('AttachRolePolicy', () => client.send(new AttachRolePolicyCommand({ RoleName, PolicyArn })));
    }
    // Removed inline policies go before new ones are put: the 10,240 characters a role's inline
    // policies may total together must hold at every step, not only at the end.
    for (const PolicyName of Object.keys(b.inlinePolicies).sort()) {
      if (a.inlinePolicies[PolicyName] === undefined) await this.#deleteInline(client, rec, RoleName, PolicyName);
    }
    for (const PolicyName of Object.keys(a.inlinePolicies).sort()) {
      const want = a.inlinePolicies[PolicyName] as PolicyDocument;
      const have = b.inlinePolicies[PolicyName];
      if (have !== undefined && policiesEqual(have, want)) continue;
      await rec.send('PutRolePolicy', () => client.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument: JSON.stringify(want) })));
    }
    const untagged = Object.keys(b.tags)
      .filter((k) => a.tags[k] === undefined)
      .sort();
    if (untagged.length > 0) await rec.send('UntagRole', () => client.send(new UntagRoleCommand({ RoleName, TagKeys: untagged })));
  }

  /**
   * Detach and delete what the role has now (not what the plan saw: a policy attached since would
   * make DeleteRole fail with DeleteConflict), including the revocation policy, take it out of the
   * instance profiles it sits in (an adopted role may; the profiles are not rolemap's and stay),
   * then delete the role. A role already gone counts as deleted.
   */
  async #delete(client: IAMClient, rec: CallRecorder, change: Change, before: RoleResource): Promise<void> {
    if (!before.owned) throw new IamChangeRefusedError(change.address, change.account, 'rolemap does not delete a role it does not own');
    const RoleName = before.name;
    const attached: string[] = [];
    const inline: string[] = [];
    const profiles: string[] = [];
    let listing = 'ListAttachedRolePolicies';
    try {
      for await (const page of paginateListAttachedRolePolicies({ client }, { RoleName })) attached.push(...(page.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? ''));
      listing = 'ListRolePolicies';
      for await (const page of paginateListRolePolicies({ client }, { RoleName })) inline.push(...(page.PolicyNames ?? []));
      listing = 'ListInstanceProfilesForRole';
      for await (const page of paginateListInstanceProfilesForRole({ client }, { RoleName })) profiles.push(...(page.InstanceProfiles ?? []).map((p) => p.InstanceProfileName ?? ''));
    } catch (e) {
      if (awsErrorName(e) === 'NoSuchEntityException') return;
      throw rec.wrap(listing, e);
    }
    for (const PolicyArn of attached) await rec.send('DetachRolePolicy', () => client.send(new DetachRolePolicyCommand({ RoleName, PolicyArn })));
    for (const PolicyName of inline) await this.#deleteInline(client, rec, RoleName, PolicyName);
    for (const InstanceProfileName of profiles) {
      try {
        await rec.send('RemoveRoleFromInstanceProfile', () => client.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName, RoleName })));
      } catch (e) {
        // Removed (or the profile deleted) since the listing: nothing left to do for it.
        if (!(e instanceof AwsCallError && e.code === 'NoSuchEntityException')) throw e;
      }
    }
    try {
      await rec.send('DeleteRole', () => client.send(new DeleteRoleCommand({ RoleName })));
    } catch (e) {
      if (e instanceof AwsCallError && e.code === 'NoSuchEntityException') return;
      throw e;
    }
  }

  /** Deleting an inline policy that is already gone is not a failure. */
  async #deleteInline(client: IAMClient, rec: CallRecorder, RoleName: string, PolicyName: string): Promise<void> {
    try {
      await rec.send('DeleteRolePolicy', () => client.send(new DeleteRolePolicyCommand({ RoleName, PolicyName })));
    } catch (e) {
      if (e instanceof AwsCallError && e.code === 'NoSuchEntityException') return;
      throw e;
    }
  }
}
