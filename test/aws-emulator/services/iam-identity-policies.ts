/**
 * IAM identity policies beyond roles, so the emulator's policy evaluator has something to read for
 * IAM users: user inline and attached managed policies and permissions boundaries, groups with
 * their inline and attached policies, and customer managed policies (`CreatePolicy`, versions).
 *
 * Follows the IAM API reference for the shapes rolemap and the tests use: `NoSuchEntity` (404),
 * `EntityAlreadyExists` (409), `DeleteConflict` (409) for a group with members or policies, policy
 * documents URL-encoded on the way out. Not modelled: policy version limits (5), `ListPolicies`
 * scopes and filters beyond `Scope=Local`, `ListEntitiesForPolicy`.
 */
import { AwsError } from '../protocol.js';
import { account, encodePolicy, now, page, parsePolicy, policyName, req, str, uid, user, checkName, checkPath } from './iam.js';
import type { GroupRec, IamAccount, ManagedPolicyRec, Op } from './iam.js';

function group(acct: IamAccount, name: string): GroupRec {
  const g = acct.groups?.[name.toLowerCase()];
  if (!g) throw new AwsError('NoSuchEntity', `The group with name ${name} cannot be found.`, 404);
  return g;
}

function managed(acct: IamAccount, arn: string): ManagedPolicyRec {
  const p = acct.policies?.[arn];
  if (!p) throw new AwsError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`, 404);
  return p;
}

/** A managed policy ARN must be well formed; a customer managed one of this account must exist (AWS managed ones always attach). */
function attachable(acct: IamAccount, accountId: string, arn: string): void {
  policyName(arn);
  if (arn.startsWith(`arn:aws:iam::${accountId}:policy/`)) managed(acct, arn);
}

function policyOut(arn: string, p: ManagedPolicyRec): Record<string, unknown> {
  return { PolicyName: p.policyName, PolicyId: p.policyId, Arn: arn, Path: p.path, DefaultVersionId: p.defaultVersionId, AttachmentCount: 0, IsAttachable: true, CreateDate: p.createDate, UpdateDate: p.createDate, Description: p.description };
}

export const identityPolicyOps: Record<string, Op> = {
  PutUserPolicy(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const name = req(p, 'PolicyName');
    checkName(name, 'PolicyName', 128);
    const doc = req(p, 'PolicyDocument');
    parsePolicy(doc);
    u.inlinePolicies = { ...(u.inlinePolicies ?? {}), [name]: doc };
    return undefined;
  },
  GetUserPolicy(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const name = req(p, 'PolicyName');
    const doc = u.inlinePolicies?.[name];
    if (doc === undefined) throw new AwsError('NoSuchEntity', `The user policy with name ${name} cannot be found.`, 404);
    return { UserName: u.userName, PolicyName: name, PolicyDocument: encodePolicy(doc) };
  },
  DeleteUserPolicy(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const name = req(p, 'PolicyName');
    if (u.inlinePolicies?.[name] === undefined) throw new AwsError('NoSuchEntity', `The user policy with name ${name} cannot be found.`, 404);
    delete u.inlinePolicies[name];
    return undefined;
  },
  ListUserPolicies(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const pg = page(Object.keys(u.inlinePolicies ?? {}).sort(), (n) => n, p);
    return { PolicyNames: pg.items, IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  AttachUserPolicy(state, p, ctx) {
    const acct = account(state, ctx);
    const u = user(acct, req(p, 'UserName'));
    const arn = req(p, 'PolicyArn');
    attachable(acct, ctx.account, arn);
    if (!(u.attachedPolicies ?? []).includes(arn)) u.attachedPolicies = [...(u.attachedPolicies ?? []), arn];
    return undefined;
  },
  DetachUserPolicy(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const arn = req(p, 'PolicyArn');
    if (!(u.attachedPolicies ?? []).includes(arn)) throw new AwsError('NoSuchEntity', `Policy ${arn} was not found.`, 404);
    u.attachedPolicies = (u.attachedPolicies ?? []).filter((a) => a !== arn);
    return undefined;
  },
  ListAttachedUserPolicies(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const pg = page([...(u.attachedPolicies ?? [])].sort(), (a) => a, p);
    return { AttachedPolicies: pg.items.map((a) => ({ PolicyName: policyName(a), PolicyArn: a })), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  PutUserPermissionsBoundary(state, p, ctx) {
    const acct = account(state, ctx);
    const u = user(acct, req(p, 'UserName'));
    const arn = req(p, 'PermissionsBoundary');
    attachable(acct, ctx.account, arn);
    u.permissionsBoundary = arn;
    return undefined;
  },
  DeleteUserPermissionsBoundary(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    u.permissionsBoundary = undefined;
    return undefined;
  },

  CreateGroup(state, p, ctx) {
    const acct = account(state, ctx);
    const name = req(p, 'GroupName');
    checkName(name, 'GroupName', 128);
    const path = str(p, 'Path') ?? '/';
    checkPath(path);
    acct.groups ??= {};
    if (acct.groups[name.toLowerCase()]) throw new AwsError('EntityAlreadyExists', `Group with name ${name} already exists.`, 409);
    const g: GroupRec = { groupName: name, groupId: uid('AGPA'), path, createDate: now(), inlinePolicies: {}, attachedPolicies: [] };
    acct.groups[name.toLowerCase()] = g;
    return { Group: { Path: path, GroupName: name, GroupId: g.groupId, Arn: `arn:aws:iam::${ctx.account}:group${path}${name}`, CreateDate: g.createDate } };
  },
  GetGroup(state, p, ctx) {
    const acct = account(state, ctx);
    const g = group(acct, req(p, 'GroupName'));
    const members = Object.values(acct.users).filter((u) => (u.groups ?? []).includes(g.groupName.toLowerCase()));
    return {
      Group: { Path: g.path, GroupName: g.groupName, GroupId: g.groupId, Arn: `arn:aws:iam::${ctx.account}:group${g.path}${g.groupName}`, CreateDate: g.createDate },
      Users: members.map((u) => ({ Path: u.path, UserName: u.userName, UserId: u.userId, Arn: `arn:aws:iam::${ctx.account}:user${u.path}${u.userName}`, CreateDate: u.createDate })),
      IsTruncated: false,
    };
  },
  DeleteGroup(state, p, ctx) {
    const acct = account(state, ctx);
    const g = group(acct, req(p, 'GroupName'));
    const key = g.groupName.toLowerCase();
    if (Object.values(acct.users).some((u) => (u.groups ?? []).includes(key))) throw new AwsError('DeleteConflict', 'Cannot delete entity, must remove users from group first.', 409);
    if (g.attachedPolicies.length > 0 || Object.keys(g.inlinePolicies).length > 0) throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.', 409);
    delete acct.groups?.[key];
    return undefined;
  },
  AddUserToGroup(state, p, ctx) {
    const acct = account(state, ctx);
    const g = group(acct, req(p, 'GroupName'));
    const u = user(acct, req(p, 'UserName'));
    const key = g.groupName.toLowerCase();
    if (!(u.groups ?? []).includes(key)) u.groups = [...(u.groups ?? []), key];
    return undefined;
  },
  RemoveUserFromGroup(state, p, ctx) {
    const acct = account(state, ctx);
    const g = group(acct, req(p, 'GroupName'));
    const u = user(acct, req(p, 'UserName'));
    u.groups = (u.groups ?? []).filter((k) => k !== g.groupName.toLowerCase());
    return undefined;
  },
  ListGroupsForUser(state, p, ctx) {
    const acct = account(state, ctx);
    const u = user(acct, req(p, 'UserName'));
    const groups = (u.groups ?? []).map((k) => acct.groups?.[k]).filter((g): g is GroupRec => g !== undefined);
    const pg = page(groups, (g) => g.groupName.toLowerCase(), p);
    return { Groups: pg.items.map((g) => ({ Path: g.path, GroupName: g.groupName, GroupId: g.groupId, Arn: `arn:aws:iam::${ctx.account}:group${g.path}${g.groupName}`, CreateDate: g.createDate })), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  PutGroupPolicy(state, p, ctx) {
    const g = group(account(state, ctx), req(p, 'GroupName'));
    const name = req(p, 'PolicyName');
    checkName(name, 'PolicyName', 128);
    const doc = req(p, 'PolicyDocument');
    parsePolicy(doc);
    g.inlinePolicies[name] = doc;
    return undefined;
  },
  DeleteGroupPolicy(state, p, ctx) {
    const g = group(account(state, ctx), req(p, 'GroupName'));
    const name = req(p, 'PolicyName');
    if (g.inlinePolicies[name] === undefined) throw new AwsError('NoSuchEntity', `The group policy with name ${name} cannot be found.`, 404);
    delete g.inlinePolicies[name];
    return undefined;
  },
  AttachGroupPolicy(state, p, ctx) {
    const acct = account(state, ctx);
    const g = group(acct, req(p, 'GroupName'));
    const arn = req(p, 'PolicyArn');
    attachable(acct, ctx.account, arn);
    if (!g.attachedPolicies.includes(arn)) g.attachedPolicies.push(arn);
    return undefined;
  },
  DetachGroupPolicy(state, p, ctx) {
    const g = group(account(state, ctx), req(p, 'GroupName'));
    const arn = req(p, 'PolicyArn');
    if (!g.attachedPolicies.includes(arn)) throw new AwsError('NoSuchEntity', `Policy ${arn} was not found.`, 404);
    g.attachedPolicies = g.attachedPolicies.filter((a) => a !== arn);
    return undefined;
  },

  CreatePolicy(state, p, ctx) {
    const acct = account(state, ctx);
    const name = req(p, 'PolicyName');
    checkName(name, 'PolicyName', 128);
    const path = str(p, 'Path') ?? '/';
    checkPath(path);
    const doc = req(p, 'PolicyDocument');
    parsePolicy(doc);
    const arn = `arn:aws:iam::${ctx.account}:policy${path}${name}`;
    acct.policies ??= {};
    if (Object.values(acct.policies).some((x) => x.policyName.toLowerCase() === name.toLowerCase())) throw new AwsError('EntityAlreadyExists', `A policy called ${name} already exists. Duplicate names are not allowed.`, 409);
    const rec: ManagedPolicyRec = { policyName: name, policyId: uid('ANPA'), path, createDate: now(), description: str(p, 'Description'), defaultVersionId: 'v1', versions: { v1: { document: doc, createDate: now() } } };
    acct.policies[arn] = rec;
    return { Policy: policyOut(arn, rec) };
  },
  GetPolicy(state, p, ctx) {
    const arn = req(p, 'PolicyArn');
    return { Policy: policyOut(arn, managed(account(state, ctx), arn)) };
  },
  CreatePolicyVersion(state, p, ctx) {
    const rec = managed(account(state, ctx), req(p, 'PolicyArn'));
    const doc = req(p, 'PolicyDocument');
    parsePolicy(doc);
    const next = `v${Math.max(...Object.keys(rec.versions).map((v) => Number(v.slice(1)))) + 1}`;
    rec.versions[next] = { document: doc, createDate: now() };
    if (str(p, 'SetAsDefault') === 'true') rec.defaultVersionId = next;
    return { PolicyVersion: { VersionId: next, IsDefaultVersion: rec.defaultVersionId === next, CreateDate: rec.versions[next]?.createDate } };
  },
  GetPolicyVersion(state, p, ctx) {
    const rec = managed(account(state, ctx), req(p, 'PolicyArn'));
    const id = req(p, 'VersionId');
    const v = rec.versions[id];
    if (!v) throw new AwsError('NoSuchEntity', `Policy version ${id} does not exist.`, 404);
    return { PolicyVersion: { Document: encodePolicy(v.document), VersionId: id, IsDefaultVersion: rec.defaultVersionId === id, CreateDate: v.createDate } };
  },
  DeletePolicy(state, p, ctx) {
    const acct = account(state, ctx);
    const arn = req(p, 'PolicyArn');
    managed(acct, arn);
    const inUse = Object.values(acct.roles).some((r) => r.attachedPolicies.includes(arn) || r.permissionsBoundary === arn) || Object.values(acct.users).some((u) => (u.attachedPolicies ?? []).includes(arn));
    if (inUse) throw new AwsError('DeleteConflict', 'Cannot delete a policy attached to entities.', 409);
    delete acct.policies?.[arn];
    return undefined;
  },
  ListPolicies(state, p, ctx) {
    const acct = account(state, ctx);
    const scope = str(p, 'Scope') ?? 'All';
    const local = scope === 'AWS' ? [] : Object.entries(acct.policies ?? {});
    const pg = page(local, ([arn]) => arn, p);
    return { Policies: pg.items.map(([arn, rec]) => policyOut(arn, rec)), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
};
