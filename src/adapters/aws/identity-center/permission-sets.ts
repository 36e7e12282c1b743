/**
 * `sso_permission_set`: SSO Admin permission sets. Read in full only when the config names them or they carry
 * the `rolemap:owner` tag (with the leavers' revocation statements of their inline policy, read by the same
 * calls). Applied attribute by attribute (update, tags, managed and customer managed policies, inline policy
 * keeping the revocation statements there now, permissions boundary), then re-provisioned where provisioned.
 */
import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand,
  AttachManagedPolicyToPermissionSetCommand,
  CreatePermissionSetCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DeletePermissionSetCommand,
  DeletePermissionsBoundaryFromPermissionSetCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  DetachCustomerManagedPolicyReferenceFromPermissionSetCommand,
  DetachManagedPolicyFromPermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  GetPermissionsBoundaryForPermissionSetCommand,
  paginateListAccountsForProvisionedPermissionSet,
  paginateListCustomerManagedPolicyReferencesInPermissionSet,
  paginateListManagedPoliciesInPermissionSet,
  paginateListPermissionSets,
  paginateListTagsForResource,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  PutPermissionsBoundaryToPermissionSetCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePermissionSetCommand,
} from '@aws-sdk/client-sso-admin';
import type { PermissionsBoundary, Tag } from '@aws-sdk/client-sso-admin';
import { OWNER_TAG } from '../../../core/model/ownership.js';
import type { PolicyDocument } from '../../../core/model/policy.js';
import { policiesEqual } from '../../../core/model/policy.js';
import type { PermissionSetAttrs, Resource, ResourceOf } from '../../../core/model/resources.js';
import type { Change } from '../../../core/plan/change.js';
import { mapLimit } from './async-tools.js';
import type { ApplyLog, IdentityCenterContext, Meta, Settings } from './context.js';
import { isName } from './context.js';
import { IdentityCenterError } from './errors.js';
import { renderInlinePolicy, splitInlinePolicy } from './revocation-statements.js';

type PsBase = { InstanceArn: string; PermissionSetArn: string };
/** Sends with ConflictException retry and records the request id. */
export type Send = <T extends Meta>(fn: () => Promise<T>) => Promise<T>;

export function sender(ctx: IdentityCenterContext, requestIds: string[], signal?: AbortSignal): Send {
  return <T extends Meta>(fn: () => Promise<T>): Promise<T> =>
    ctx.retryConflict(fn, signal).then((out) => {
      ctx.rid(out, requestIds);
      return out;
    });
}

function splitCustomerPolicy(s: string): { Name: string; Path: string } {
  const i = s.lastIndexOf('/');
  return i < 0 ? { Name: s, Path: '/' } : { Name: s.slice(i + 1), Path: s.slice(0, i + 1) || '/' };
}

function boundaryFor(b: string): PermissionsBoundary {
  return b.startsWith('customer:') ? { CustomerManagedPolicyReference: splitCustomerPolicy(b.slice('customer:'.length)) } : { ManagedPolicyArn: b };
}

function boundaryString(b: PermissionsBoundary | undefined): string | null {
  if (!b) return null;
  if (b.ManagedPolicyArn) return b.ManagedPolicyArn;
  const c = b.CustomerManagedPolicyReference;
  return c?.Name ? `customer:${c.Path ?? '/'}${c.Name}` : null;
}

/** An owned permission set: the sets whose assignments are read. */
export type OwnedPermissionSet = { readonly name: string; readonly arn: string };

/** Permission sets named in config or carrying our owner tag, their revocations, and the owned ones. */
export async function readPermissionSets(ctx: IdentityCenterContext, s: Settings): Promise<{ resources: Resource[]; warnings: string[]; owned: OwnedPermissionSet[] }> {
  const resources: Resource[] = [];
  const warnings: string[] = [];
  const arns: string[] = [];
  for await (const page of paginateListPermissionSets({ client: ctx.sso, pageSize: 100 }, { InstanceArn: s.instanceArn })) arns.push(...(page.PermissionSets ?? []));
  const sets = await mapLimit(arns, ctx.readConcurrency, (arn) => readPermissionSet(ctx, s, arn));
  const ownedSets: OwnedPermissionSet[] = [];
  for (const ps of sets) {
    if (!ps) continue;
    ctx.psArns.set(ps.resource.name, ps.resource.awsId ?? '');
    resources.push(ps.resource);
    if (ps.revocations) resources.push(ps.revocations);
    if (ps.staleAccounts.length > 0) {
      warnings.push(`permission set ${ps.resource.name} is not up to date on account(s) ${ps.staleAccounts.join(', ')}; it is re-provisioned with its next change`);
    }
    if (ps.resource.owned) ownedSets.push({ name: ps.resource.name, arn: ps.resource.awsId ?? '' });
  }
  return { resources, warnings, owned: ownedSets };
}

async function readPermissionSet(
  ctx: IdentityCenterContext,
  s: Settings,
  arn: string,
): Promise<{ resource: ResourceOf<'sso_permission_set'>; revocations: ResourceOf<'sso_permission_set_revocations'> | null; staleAccounts: string[] } | null> {
  const base = { InstanceArn: s.instanceArn, PermissionSetArn: arn };
  const described = (await ctx.sso.send(new DescribePermissionSetCommand(base))).PermissionSet;
  const name = described?.Name ?? arn;
  const tags: Record<string, string> = {};
  for await (const page of paginateListTagsForResource({ client: ctx.sso }, { InstanceArn: s.instanceArn, ResourceArn: arn })) {
    for (const t of page.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  }
  const owned = tags[OWNER_TAG] === s.ownerId;
  if (!owned && !s.configuredPermissionSets.has(name)) return null;

  const managed: string[] = [];
  for await (const page of paginateListManagedPoliciesInPermissionSet({ client: ctx.sso, pageSize: 100 }, base)) for (const m of page.AttachedManagedPolicies ?? []) if (m.Arn) managed.push(m.Arn);
  const customer: string[] = [];
  for await (const page of paginateListCustomerManagedPolicyReferencesInPermissionSet({ client: ctx.sso, pageSize: 100 }, base)) {
    for (const c of page.CustomerManagedPolicyReferences ?? []) if (c.Name) customer.push(`${c.Path ?? '/'}${c.Name}`);
  }
  const { policy, entries } = await currentInline(ctx, base);
  let boundary: string | null = null;
  try {
    boundary = boundaryString((await ctx.sso.send(new GetPermissionsBoundaryForPermissionSetCommand(base))).PermissionsBoundary);
  } catch (e) {
    if (!isName(e, 'ResourceNotFoundException')) throw e;
  }
  const staleAccounts: string[] = [];
  if (owned) {
    for await (const page of paginateListAccountsForProvisionedPermissionSet({ client: ctx.sso, pageSize: 100 }, { ...base, ProvisioningStatus: 'LATEST_PERMISSION_SET_NOT_PROVISIONED' })) {
      staleAccounts.push(...(page.AccountIds ?? []));
    }
  }
  const attrs: PermissionSetAttrs = {
    description: readDescription(described?.Description),
    sessionDuration: described?.SessionDuration ?? 'PT1H',
    managedPolicyArns: managed,
    customerManagedPolicies: customer,
    inlinePolicy: policy,
    permissionsBoundary: boundary,
    tags,
  };
  const resource: ResourceOf<'sso_permission_set'> = { kind: 'sso_permission_set', id: name, account: s.account, name, attrs, owned, awsId: arn };
  const revocations: ResourceOf<'sso_permission_set_revocations'> | null =
    Object.keys(entries).length > 0 ? { kind: 'sso_permission_set_revocations', id: name, account: s.account, name, attrs: { entries }, owned, awsId: arn } : null;
  return { resource, revocations, staleAccounts };
}

/** The ARN of a permission set by name: known from the last read or create, else found by listing them all. */
export async function permissionSetArn(ctx: IdentityCenterContext, name: string): Promise<string> {
  const known = ctx.psArns.get(name);
  if (known) return known;
  const s = ctx.s();
  for await (const page of paginateListPermissionSets({ client: ctx.sso, pageSize: 100 }, { InstanceArn: s.instanceArn })) {
    for (const arn of page.PermissionSets ?? []) {
      const d = await ctx.sso.send(new DescribePermissionSetCommand({ InstanceArn: s.instanceArn, PermissionSetArn: arn }));
      if (d.PermissionSet?.Name) ctx.psArns.set(d.PermissionSet.Name, arn);
    }
  }
  const arn = ctx.psArns.get(name);
  if (!arn) throw new IdentityCenterError(`permission set ${name} not found in ${s.instanceArn}`, { code: 'UnknownPermissionSet', retryable: false, subject: name });
  return arn;
}

/**
 * What "no description" is on AWS. UpdatePermissionSet's `Description` has a minimum length of 1
 * and an omitted one is left as it was, so no call can clear a description: rolemap writes this
 * single space instead (the console shows it empty) and reads any blank description as none.
 */
export const NO_DESCRIPTION = ' ';

/** A permission set's description as rolemap compares it: blank is none. */
export function readDescription(d: string | undefined): string {
  return d === undefined || d.trim() === '' ? '' : d;
}

/** The `Description` of an UpdatePermissionSet: omitted when "none" stays none, the single space when one is removed. */
export function descriptionToSend(before: string, after: string): string | undefined {
  if (after !== '') return after;
  return before === '' ? undefined : NO_DESCRIPTION;
}

export async function applyPermissionSet(ctx: IdentityCenterContext, change: Change, log: ApplyLog, signal?: AbortSignal): Promise<void> {
  const { requestIds, detail } = log;
  const s = ctx.s();
  const opts = { abortSignal: signal };
  const send = sender(ctx, requestIds, signal);
  if (change.action === 'delete') {
    const before = change.before as ResourceOf<'sso_permission_set'>;
    const arn = before.awsId ?? (await permissionSetArn(ctx, before.name));
    try {
      await send(() => ctx.sso.send(new DeletePermissionSetCommand({ InstanceArn: s.instanceArn, PermissionSetArn: arn }), opts));
    } catch (e) {
      if (!isName(e, 'ResourceNotFoundException')) throw e;
    }
    ctx.psArns.delete(before.name);
    return;
  }
  const after = change.after as ResourceOf<'sso_permission_set'>;
  const a = after.attrs;
  const created = change.action === 'create';
  let arn: string;
  let b: PermissionSetAttrs;
  if (created) {
    const tags = { ...a.tags, [OWNER_TAG]: a.tags[OWNER_TAG] ?? s.ownerId };
    const out = await send(() =>
      ctx.sso.send(
        new CreatePermissionSetCommand({
          InstanceArn: s.instanceArn,
          Name: after.name,
          ...(a.description === '' ? {} : { Description: a.description }),
          SessionDuration: a.sessionDuration,
          Tags: Object.entries(tags).map(([Key, Value]): Tag => ({ Key, Value })),
        }),
        opts,
      ),
    );
    arn = out.PermissionSet?.PermissionSetArn ?? '';
    ctx.psArns.set(after.name, arn);
    detail['permissionSetArn'] = arn;
    b = { description: a.description, sessionDuration: a.sessionDuration, managedPolicyArns: [], customerManagedPolicies: [], inlinePolicy: null, permissionsBoundary: null, tags };
  } else {
    const before = change.before as ResourceOf<'sso_permission_set'>;
    arn = before.awsId ?? (await permissionSetArn(ctx, before.name));
    b = before.attrs;
  }
  const base = { InstanceArn: s.instanceArn, PermissionSetArn: arn };

  if (!created && (a.description !== b.description || a.sessionDuration !== b.sessionDuration)) {
    const description = descriptionToSend(b.description, a.description);
    await send(() => ctx.sso.send(new UpdatePermissionSetCommand({ ...base, ...(description !== undefined ? { Description: description } : {}), SessionDuration: a.sessionDuration }), opts));
  }
  const addTags = Object.entries(a.tags).filter(([k, v]) => b.tags[k] !== v);
  const removeTags = Object.keys(b.tags).filter((k) => !(k in a.tags) && k !== OWNER_TAG); // never drop our own mark
  if (addTags.length > 0) await send(() => ctx.sso.send(new TagResourceCommand({ InstanceArn: s.instanceArn, ResourceArn: arn, Tags: addTags.map(([Key, Value]) => ({ Key, Value })) }), opts));
  if (removeTags.length > 0) await send(() => ctx.sso.send(new UntagResourceCommand({ InstanceArn: s.instanceArn, ResourceArn: arn, TagKeys: removeTags }), opts));
  // Detach before attach, as for roles: the number of policies a permission set may hold is limited
  // (an IAM Identity Center quota), and a swap at the limit must not pass through one too many.
  for (const m of b.managedPolicyArns.filter((x) => !a.managedPolicyArns.includes(x))) {
    await send(() => ctx.sso.send(new DetachManagedPolicyFromPermissionSetCommand({ ...base, ManagedPolicyArn: m }), opts));
  }
  for (const c of b.customerManagedPolicies.filter((x) => !a.customerManagedPolicies.includes(x))) {
    await send(() => ctx.sso.send(new DetachCustomerManagedPolicyReferenceFromPermissionSetCommand({ ...base, CustomerManagedPolicyReference: splitCustomerPolicy(c) }), opts));
  }
  for (const m of a.managedPolicyArns.filter((x) => !b.managedPolicyArns.includes(x))) {
    await send(() => ctx.sso.send(new AttachManagedPolicyToPermissionSetCommand({ ...base, ManagedPolicyArn: m }), opts));
  }
  for (const c of a.customerManagedPolicies.filter((x) => !b.customerManagedPolicies.includes(x))) {
    await send(() => ctx.sso.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ ...base, CustomerManagedPolicyReference: splitCustomerPolicy(c) }), opts));
  }
  if (!policiesEqual(a.inlinePolicy, b.inlinePolicy)) {
    // Keep the leavers' revocation statements that are there now.
    const current = created ? {} : (await currentInline(ctx, base, signal)).entries;
    await putInline(ctx, base, renderInlinePolicy(a.inlinePolicy, current), send, opts);
  }
  if (a.permissionsBoundary !== b.permissionsBoundary) {
    if (a.permissionsBoundary === null) await send(() => ctx.sso.send(new DeletePermissionsBoundaryFromPermissionSetCommand(base), opts));
    else await send(() => ctx.sso.send(new PutPermissionsBoundaryToPermissionSetCommand({ ...base, PermissionsBoundary: boundaryFor(a.permissionsBoundary as string) }), opts));
  }
  if (!created) await reprovision(ctx, after.name, arn, log, signal);
}

/** The inline policy there now, split into rolemap's policy and the leavers' revocation statements. */
export async function currentInline(ctx: IdentityCenterContext, base: PsBase, signal?: AbortSignal): Promise<{ policy: PolicyDocument | null; entries: Record<string, string> }> {
  const text = (await ctx.sso.send(new GetInlinePolicyForPermissionSetCommand(base), { abortSignal: signal })).InlinePolicy;
  return splitInlinePolicy(text ? (JSON.parse(text) as PolicyDocument) : null);
}

export async function putInline(ctx: IdentityCenterContext, base: PsBase, doc: PolicyDocument | null, send: Send, opts: { abortSignal?: AbortSignal | undefined }): Promise<void> {
  if (doc === null) {
    await send(() => ctx.sso.send(new DeleteInlinePolicyFromPermissionSetCommand(base), opts));
  } else {
    await send(() => ctx.sso.send(new PutInlinePolicyToPermissionSetCommand({ ...base, InlinePolicy: JSON.stringify(doc) }), opts));
  }
}

/** ProvisionPermissionSet to every account where the set is provisioned, then poll until done. */
export async function reprovision(ctx: IdentityCenterContext, name: string, arn: string, log: ApplyLog, signal?: AbortSignal): Promise<void> {
  const { requestIds, detail } = log;
  const s = ctx.s();
  const base = { InstanceArn: s.instanceArn, PermissionSetArn: arn };
  const accounts: string[] = [];
  for await (const page of paginateListAccountsForProvisionedPermissionSet({ client: ctx.sso, pageSize: 100 }, base)) accounts.push(...(page.AccountIds ?? []));
  if (accounts.length === 0) {
    detail['provisioning'] = 'not provisioned to any account';
    return;
  }
  // One permission set provisioned to an account at a time: hold every account this one reaches, in
  // sorted order so that two re-provisionings never wait on each other, until it is done.
  const provision = async (): Promise<void> => {
    const out = await ctx.retryConflict(() => ctx.sso.send(new ProvisionPermissionSetCommand({ ...base, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }), { abortSignal: signal }), signal);
    ctx.rid(out, requestIds);
    const asyncId = out.PermissionSetProvisioningStatus?.RequestId ?? '';
    const request = { what: `permission set ${name}`, subject: `sso_permission_set.${name}`, operation: 'ProvisionPermissionSet', asyncId, httpRequestId: out.$metadata.requestId };
    await ctx.pollUntilDone(request, signal, async () =>
      (await ctx.sso.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn: s.instanceArn, ProvisionPermissionSetRequestId: asyncId }), { abortSignal: signal })).PermissionSetProvisioningStatus,
    );
    detail['provisioning'] = `${asyncId} SUCCEEDED on ${accounts.length} account(s)`;
  };
  const held = [...new Set(accounts)].sort().reduceRight<() => Promise<void>>((inner, account) => () => ctx.accountLock.run(account, 'exclusive', inner), provision);
  await held();
}
