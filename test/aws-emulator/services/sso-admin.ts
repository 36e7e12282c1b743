/**
 * AWS SSO Admin (JSON 1.1, `SWBExternalService.<Operation>`): instances, permission sets and their
 * policies and tags, provisioning, account assignments.
 *
 * `ProvisionPermissionSet`, `CreateAccountAssignment` and `DeleteAccountAssignment` are asynchronous as
 * in AWS: they answer a status `IN_PROGRESS` with a request id, and become `SUCCEEDED` (the effect is
 * visible from then on) or `FAILED` with a `FailureReason` once `emulator.asyncDelayMs` has passed;
 * the `Describe*Status` calls poll them.
 *
 * Behaviour worth knowing (each follows the API reference or AWS's documented quotas):
 * - Any change to a permission set while a provisioning of it is in progress, and a provisioning while
 *   any asynchronous request on it is in progress, answer `ConflictException`.
 * - At most 10 `CreateAccountAssignment` requests may be in progress per instance; the 11th answers
 *   `ThrottlingException` (the Identity Center quota; AWS does not document the exact code).
 * - An assignment to a principal missing from the instance's identity store ends `FAILED`.
 * - Every change to a permission set bumps its version; `ListAccountsForProvisionedPermissionSet` and
 *   `ListPermissionSetsProvisionedToAccount` filter on `LATEST_PERMISSION_SET_PROVISIONED` /
 *   `..._NOT_PROVISIONED`, so tests can see whether a change was re-provisioned.
 * - Tests make the next N asynchronous requests fail with `failNextAsyncRequests(emulator, n, reason)`
 *   (state flag `failNext`), or from another process with `POST /__emulator/service/sso/failNext`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from '../protocol.js';
import type { Emulator, ServiceDef } from '../server.js';
import { DEFAULT_IDENTITY_STORE_ID, page } from './identitystore.js';
import type { IdentitystoreState } from './identitystore.js';
import { getRoleCredentials } from './sso-portal.js';
import { provisionReservedRole, removeReservedRole, reservedRoles } from './sso-roles.js';
import type { ReservedRoles } from './sso-roles.js';

export const DEFAULT_INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-7223000000000000';
const MAX_IN_PROGRESS_CREATES = 10;

export interface StoredPermissionSet {
  PermissionSetArn: string;
  InstanceArn: string;
  Name: string;
  Description?: string;
  SessionDuration: string;
  RelayState?: string;
  CreatedDate: number;
  Tags: { Key: string; Value: string }[];
  ManagedPolicies: { Name: string; Arn: string }[];
  CustomerManagedPolicies: { Name: string; Path: string }[];
  InlinePolicy: string | null;
  PermissionsBoundary: { ManagedPolicyArn?: string; CustomerManagedPolicyReference?: { Name: string; Path: string } } | null;
  /** Bumped on every change; an account is up to date when its provisioned version equals it. */
  Version: number;
}

export interface StoredAssignment {
  InstanceArn: string;
  AccountId: string;
  PermissionSetArn: string;
  PrincipalType: 'USER' | 'GROUP';
  PrincipalId: string;
}

export type AsyncKind = 'create' | 'delete' | 'provision';
export interface AsyncRequest {
  RequestId: string;
  Kind: AsyncKind;
  InstanceArn: string;
  Status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  FailureReason?: string;
  CreatedDate: number;
  DoneAt: number;
  /** Set at creation when the request is to fail. */
  FailWith?: string;
  PermissionSetArn: string;
  AccountId?: string;
  TargetType?: 'AWS_ACCOUNT' | 'ALL_PROVISIONED_ACCOUNTS';
  PrincipalType?: 'USER' | 'GROUP';
  PrincipalId?: string;
}

export interface SsoAdminState {
  instances: { InstanceArn: string; IdentityStoreId: string; OwnerAccountId: string; Name: string; Status: 'ACTIVE'; CreatedDate: number }[];
  permissionSets: Record<string, StoredPermissionSet>;
  /** permission set ARN -> account -> provisioned version. */
  provisioned: Record<string, Record<string, number>>;
  assignments: StoredAssignment[];
  requests: Record<string, AsyncRequest>;
  /** The next `count` asynchronous requests (of `kinds`, default all) end FAILED with `reason`. */
  failNext: { count: number; reason: string; kinds?: AsyncKind[] } | null;
  /** The `AWSReservedSSO_*` role each provisioning made in each account (./sso-roles.ts). */
  reservedRoles?: ReservedRoles;
  /** The Identity Center region, which the reserved roles' path names outside us-east-1. Default us-east-1. */
  region?: string;
}

/** Make the next `count` asynchronous requests (optionally only of some kinds) end FAILED with `reason`. */
export function failNextAsyncRequests(emulator: Emulator, count: number, reason: string, kinds?: AsyncKind[]): void {
  emulator.state<SsoAdminState>('sso').failNext = { count, reason, ...(kinds ? { kinds } : {}) };
}

type Params = Record<string, unknown>;

function str(p: Params, name: string): string {
  const v = p[name];
  if (typeof v === 'string' && v !== '') return v;
  throw new AwsError('ValidationException', `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must not be null`);
}

function nowSec(): number {
  return Date.now() / 1000;
}

function instanceOf(state: SsoAdminState, p: Params): string {
  const arn = str(p, 'InstanceArn');
  if (!state.instances.some((i) => i.InstanceArn === arn)) throw new AwsError('ResourceNotFoundException', `Instance ${arn} does not exist`);
  return arn;
}

function psOf(state: SsoAdminState, p: Params, field = 'PermissionSetArn'): StoredPermissionSet {
  const instance = instanceOf(state, p);
  const arn = str(p, field);
  const ps = state.permissionSets[arn];
  if (!ps || ps.InstanceArn !== instance) throw new AwsError('ResourceNotFoundException', `Could not find PermissionSet with ARN ${arn}`);
  return ps;
}

function inProgress(state: SsoAdminState, psArn: string, kinds: readonly AsyncKind[]): boolean {
  return Object.values(state.requests).some((r) => r.Status === 'IN_PROGRESS' && r.PermissionSetArn === psArn && kinds.includes(r.Kind));
}

/** A change to a permission set: refused while it is being provisioned; bumps its version. */
function mutate(state: SsoAdminState, ps: StoredPermissionSet): void {
  if (inProgress(state, ps.PermissionSetArn, ['provision'])) {
    throw new AwsError('ConflictException', `PermissionSet ${ps.PermissionSetArn} has a conflicting operation in progress (provisioning). Retry later.`);
  }
  ps.Version++;
}

const DURATION = /^PT(?:(\d+)H)?(?:(\d+)M)?$/;
function checkDuration(d: string): void {
  const m = DURATION.exec(d);
  const secs = m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 : NaN;
  if (!m || !(secs >= 3600 && secs <= 43200)) throw new AwsError('ValidationException', `SessionDuration ${d} must be an ISO-8601 duration between PT1H and PT12H`);
}

function psOut(ps: StoredPermissionSet): Record<string, unknown> {
  return {
    Name: ps.Name,
    PermissionSetArn: ps.PermissionSetArn,
    ...(ps.Description !== undefined ? { Description: ps.Description } : {}),
    CreatedDate: ps.CreatedDate,
    SessionDuration: ps.SessionDuration,
    ...(ps.RelayState !== undefined ? { RelayState: ps.RelayState } : {}),
  };
}

function provisioningStatus(r: AsyncRequest): Record<string, unknown> {
  return {
    Status: r.Status,
    RequestId: r.RequestId,
    ...(r.AccountId ? { AccountId: r.AccountId } : {}),
    PermissionSetArn: r.PermissionSetArn,
    ...(r.FailureReason ? { FailureReason: r.FailureReason } : {}),
    CreatedDate: r.CreatedDate,
  };
}

function assignmentStatus(r: AsyncRequest): Record<string, unknown> {
  return {
    Status: r.Status,
    RequestId: r.RequestId,
    ...(r.FailureReason ? { FailureReason: r.FailureReason } : {}),
    TargetId: r.AccountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: r.PermissionSetArn,
    PrincipalType: r.PrincipalType,
    PrincipalId: r.PrincipalId,
    CreatedDate: r.CreatedDate,
  };
}

function newRequest(state: SsoAdminState, emulator: Emulator, r: Omit<AsyncRequest, 'RequestId' | 'Status' | 'CreatedDate' | 'DoneAt'>): AsyncRequest {
  const req: AsyncRequest = { ...r, RequestId: randomUUID(), Status: 'IN_PROGRESS', CreatedDate: nowSec(), DoneAt: Date.now() + emulator.asyncDelayMs };
  const f = state.failNext;
  if (f && f.count > 0 && (!f.kinds || f.kinds.includes(r.Kind))) {
    req.FailWith = f.reason;
    f.count--;
    if (f.count === 0) state.failNext = null;
  }
  state.requests[req.RequestId] = req;
  return req;
}

function principalExists(emulator: Emulator, state: SsoAdminState, instanceArn: string, type: 'USER' | 'GROUP', id: string): boolean {
  const storeId = state.instances.find((i) => i.InstanceArn === instanceArn)?.IdentityStoreId ?? '';
  let ids: IdentitystoreState;
  try {
    ids = emulator.state<IdentitystoreState>('identitystore');
  } catch {
    return true;
  }
  const store = ids.stores[storeId];
  if (!store) return false;
  return type === 'USER' ? store.users[id] !== undefined : store.groups[id] !== undefined;
}

/** Finishes requests whose time has come, applying their effect. */
function complete(state: SsoAdminState, r: AsyncRequest, emulator: Emulator): void {
  if (r.FailWith !== undefined) {
    r.Status = 'FAILED';
    r.FailureReason = r.FailWith;
    return;
  }
  const ps = state.permissionSets[r.PermissionSetArn];
  if (!ps) {
    r.Status = 'FAILED';
    r.FailureReason = `PermissionSet ${r.PermissionSetArn} no longer exists`;
    return;
  }
  const prov = (state.provisioned[ps.PermissionSetArn] ??= {});
  switch (r.Kind) {
    case 'provision':
      if (r.TargetType === 'ALL_PROVISIONED_ACCOUNTS') for (const a of Object.keys(prov)) prov[a] = ps.Version;
      else if (r.AccountId) prov[r.AccountId] = ps.Version;
      for (const a of r.TargetType === 'ALL_PROVISIONED_ACCOUNTS' ? Object.keys(prov) : r.AccountId ? [r.AccountId] : []) provisionReservedRole(emulator, state, ps, a);
      break;
    case 'create': {
      if (!principalExists(emulator, state, r.InstanceArn, r.PrincipalType ?? 'GROUP', r.PrincipalId ?? '')) {
        r.Status = 'FAILED';
        r.FailureReason = `Received a 404 status error: Principal ${r.PrincipalId ?? ''} of type ${r.PrincipalType ?? ''} does not exist.`;
        return;
      }
      const exists = state.assignments.some((a) => a.PermissionSetArn === r.PermissionSetArn && a.AccountId === r.AccountId && a.PrincipalType === r.PrincipalType && a.PrincipalId === r.PrincipalId);
      if (!exists) state.assignments.push({ InstanceArn: r.InstanceArn, AccountId: r.AccountId ?? '', PermissionSetArn: r.PermissionSetArn, PrincipalType: r.PrincipalType ?? 'GROUP', PrincipalId: r.PrincipalId ?? '' });
      prov[r.AccountId ?? ''] = ps.Version;
      provisionReservedRole(emulator, state, ps, r.AccountId ?? '');
      break;
    }
    case 'delete':
      state.assignments = state.assignments.filter((a) => !(a.PermissionSetArn === r.PermissionSetArn && a.AccountId === r.AccountId && a.PrincipalType === r.PrincipalType && a.PrincipalId === r.PrincipalId));
      // The last assignment of the set in the account takes its role with it.
      if (!state.assignments.some((a) => a.PermissionSetArn === r.PermissionSetArn && a.AccountId === r.AccountId)) removeReservedRole(emulator, state, r.PermissionSetArn, r.AccountId ?? '');
      break;
  }
  r.Status = 'SUCCEEDED';
}

function progress(state: SsoAdminState, now: number, emulator: Emulator): void {
  for (const r of Object.values(state.requests)) {
    if (r.Status === 'IN_PROGRESS' && r.DoneAt <= now) complete(state, r, emulator);
  }
}

function principalArgs(p: Params): { accountId: string; type: 'USER' | 'GROUP'; id: string } {
  if (p['TargetType'] !== 'AWS_ACCOUNT') throw new AwsError('ValidationException', 'TargetType must be AWS_ACCOUNT');
  const accountId = str(p, 'TargetId');
  if (!/^\d{12}$/.test(accountId)) throw new AwsError('ValidationException', `TargetId ${accountId} is not a 12-digit account id`);
  const type = p['PrincipalType'];
  if (type !== 'USER' && type !== 'GROUP') throw new AwsError('ValidationException', 'PrincipalType must be USER or GROUP');
  return { accountId, type, id: str(p, 'PrincipalId') };
}

function listOf<T>(key: string, all: readonly T[], p: Params, max = 100): Record<string, unknown> {
  const { items, nextToken } = page(all, p, max);
  return { [key]: items, ...(nextToken ? { NextToken: nextToken } : {}) };
}

function customerRef(v: unknown): { Name: string; Path: string } {
  const r = v as { Name?: unknown; Path?: unknown } | undefined;
  if (!r || typeof r.Name !== 'string' || r.Name === '') throw new AwsError('ValidationException', 'CustomerManagedPolicyReference.Name is required');
  return { Name: r.Name, Path: typeof r.Path === 'string' && r.Path !== '' ? r.Path : '/' };
}

export const ssoAdminService: ServiceDef<SsoAdminState> = {
  signingName: 'sso',
  protocol: 'json',
  targetPrefix: 'SWBExternalService',
  throttleBucket: 'identitycenter',
  throttleCode: 'ThrottlingException',
  initialState: () => ({
    instances: [{ InstanceArn: DEFAULT_INSTANCE_ARN, IdentityStoreId: DEFAULT_IDENTITY_STORE_ID, OwnerAccountId: '111111111111', Name: 'default', Status: 'ACTIVE', CreatedDate: 1_700_000_000 }],
    permissionSets: {},
    provisioned: {},
    assignments: [],
    requests: {},
    failNext: null,
  }),
  tick: (state, now, emulator) => progress(state, now, emulator),
  controls: {
    /** `POST /__emulator/service/sso/failNext {"count": 1, "reason": "...", "kinds": ["create"]}` */
    failNext(state, input) {
      const count = Number(input['count'] ?? 1);
      const kinds = input['kinds'] as AsyncKind[] | undefined;
      state.failNext = { count, reason: String(input['reason'] ?? 'Injected failure'), ...(kinds ? { kinds } : {}) };
      return {};
    },
    /**
     * The access portal's `GetRoleCredentials` for a signed-in user (see ./sso-portal.ts):
     * `POST /__emulator/service/sso/getRoleCredentials {"userId", "accountId", "permissionSetArn" | "permissionSetName"}`.
     */
    getRoleCredentials(state, input, emulator) {
      return getRoleCredentials(emulator, state, input);
    },
  },
  operations: {
    ListInstances(state, p) {
      return listOf('Instances', state.instances, p);
    },

    // --- permission sets
    CreatePermissionSet(state, p) {
      const instance = instanceOf(state, p);
      const name = str(p, 'Name');
      if (!/^[\w+=,.@-]{1,32}$/.test(name)) throw new AwsError('ValidationException', `Name ${name} must match [\\w+=,.@-]{1,32}`);
      if (Object.values(state.permissionSets).some((x) => x.InstanceArn === instance && x.Name === name)) throw new AwsError('ConflictException', `PermissionSet with name ${name} already exists`);
      const duration = typeof p['SessionDuration'] === 'string' ? p['SessionDuration'] : 'PT1H';
      checkDuration(duration);
      const tags = (p['Tags'] as { Key: string; Value: string }[] | undefined) ?? [];
      if (tags.length > 50) throw new AwsError('ValidationException', 'At most 50 tags');
      const arn = `arn:aws:sso:::permissionSet/${instance.split('/')[1] ?? ''}/ps-${randomBytes(8).toString('hex')}`;
      const ps: StoredPermissionSet = {
        PermissionSetArn: arn,
        InstanceArn: instance,
        Name: name,
        ...(typeof p['Description'] === 'string' ? { Description: p['Description'] } : {}),
        SessionDuration: duration,
        ...(typeof p['RelayState'] === 'string' ? { RelayState: p['RelayState'] } : {}),
        CreatedDate: nowSec(),
        Tags: tags.map((t) => ({ Key: t.Key, Value: t.Value })),
        ManagedPolicies: [],
        CustomerManagedPolicies: [],
        InlinePolicy: null,
        PermissionsBoundary: null,
        Version: 1,
      };
      state.permissionSets[arn] = ps;
      return { PermissionSet: psOut(ps) };
    },
    DescribePermissionSet(state, p) {
      return { PermissionSet: psOut(psOf(state, p)) };
    },
    UpdatePermissionSet(state, p) {
      const ps = psOf(state, p);
      if (typeof p['SessionDuration'] === 'string') checkDuration(p['SessionDuration']);
      mutate(state, ps);
      if (typeof p['Description'] === 'string') ps.Description = p['Description'];
      if (typeof p['SessionDuration'] === 'string') ps.SessionDuration = p['SessionDuration'];
      if (typeof p['RelayState'] === 'string') ps.RelayState = p['RelayState'];
      return {};
    },
    DeletePermissionSet(state, p, ctx) {
      const ps = psOf(state, p);
      if (state.assignments.some((a) => a.PermissionSetArn === ps.PermissionSetArn) || inProgress(state, ps.PermissionSetArn, ['create', 'delete', 'provision'])) {
        throw new AwsError('ConflictException', `PermissionSet ${ps.PermissionSetArn} has account assignments or operations in progress`);
      }
      for (const a of Object.keys(reservedRoles(state)[ps.PermissionSetArn] ?? {})) removeReservedRole(ctx.emulator, state, ps.PermissionSetArn, a);
      delete state.permissionSets[ps.PermissionSetArn];
      delete state.provisioned[ps.PermissionSetArn];
      return {};
    },
    ListPermissionSets(state, p) {
      const instance = instanceOf(state, p);
      return listOf('PermissionSets', Object.values(state.permissionSets).filter((x) => x.InstanceArn === instance).map((x) => x.PermissionSetArn), p);
    },

    // --- tags
    TagResource(state, p) {
      const ps = psOf(state, p, 'ResourceArn');
      const tags = (p['Tags'] as { Key: string; Value: string }[] | undefined) ?? [];
      const merged = new Map(ps.Tags.map((t) => [t.Key, t.Value]));
      for (const t of tags) merged.set(t.Key, t.Value);
      if (merged.size > 50) throw new AwsError('ServiceQuotaExceededException', 'At most 50 tags per resource');
      ps.Tags = [...merged].map(([Key, Value]) => ({ Key, Value }));
      return {};
    },
    UntagResource(state, p) {
      const ps = psOf(state, p, 'ResourceArn');
      const keys = new Set((p['TagKeys'] as string[] | undefined) ?? []);
      ps.Tags = ps.Tags.filter((t) => !keys.has(t.Key));
      return {};
    },
    ListTagsForResource(state, p) {
      const ps = psOf(state, p, 'ResourceArn');
      return listOf('Tags', ps.Tags, p, 50);
    },

    // --- managed policies
    AttachManagedPolicyToPermissionSet(state, p) {
      const ps = psOf(state, p);
      const arn = str(p, 'ManagedPolicyArn');
      if (!/^arn:aws[\w-]*:iam::(aws|\d{12}):policy\/.+/.test(arn)) throw new AwsError('ValidationException', `ManagedPolicyArn ${arn} is not a policy ARN`);
      if (ps.ManagedPolicies.some((m) => m.Arn === arn)) throw new AwsError('ConflictException', `Managed policy ${arn} is already attached`);
      if (ps.ManagedPolicies.length >= 20) throw new AwsError('ServiceQuotaExceededException', 'At most 20 managed policies per permission set');
      mutate(state, ps);
      ps.ManagedPolicies.push({ Name: arn.split('/').pop() ?? arn, Arn: arn });
      return {};
    },
    DetachManagedPolicyFromPermissionSet(state, p) {
      const ps = psOf(state, p);
      const arn = str(p, 'ManagedPolicyArn');
      if (!ps.ManagedPolicies.some((m) => m.Arn === arn)) throw new AwsError('ResourceNotFoundException', `Managed policy ${arn} is not attached`);
      mutate(state, ps);
      ps.ManagedPolicies = ps.ManagedPolicies.filter((m) => m.Arn !== arn);
      return {};
    },
    ListManagedPoliciesInPermissionSet(state, p) {
      return listOf('AttachedManagedPolicies', psOf(state, p).ManagedPolicies, p);
    },

    // --- customer managed policy references
    AttachCustomerManagedPolicyReferenceToPermissionSet(state, p) {
      const ps = psOf(state, p);
      const ref = customerRef(p['CustomerManagedPolicyReference']);
      if (ps.CustomerManagedPolicies.some((c) => c.Name === ref.Name && c.Path === ref.Path)) throw new AwsError('ConflictException', `Customer managed policy ${ref.Path}${ref.Name} is already attached`);
      if (ps.CustomerManagedPolicies.length >= 20) throw new AwsError('ServiceQuotaExceededException', 'At most 20 customer managed policy references per permission set');
      mutate(state, ps);
      ps.CustomerManagedPolicies.push(ref);
      return {};
    },
    DetachCustomerManagedPolicyReferenceFromPermissionSet(state, p) {
      const ps = psOf(state, p);
      const ref = customerRef(p['CustomerManagedPolicyReference']);
      if (!ps.CustomerManagedPolicies.some((c) => c.Name === ref.Name && c.Path === ref.Path)) throw new AwsError('ResourceNotFoundException', `Customer managed policy ${ref.Path}${ref.Name} is not attached`);
      mutate(state, ps);
      ps.CustomerManagedPolicies = ps.CustomerManagedPolicies.filter((c) => !(c.Name === ref.Name && c.Path === ref.Path));
      return {};
    },
    ListCustomerManagedPolicyReferencesInPermissionSet(state, p) {
      return listOf('CustomerManagedPolicyReferences', psOf(state, p).CustomerManagedPolicies, p);
    },

    // --- inline policy
    PutInlinePolicyToPermissionSet(state, p) {
      const ps = psOf(state, p);
      const doc = str(p, 'InlinePolicy');
      if (doc.length > 32768) throw new AwsError('ValidationException', 'InlinePolicy must be at most 32768 characters');
      try {
        const parsed = JSON.parse(doc) as unknown;
        if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed)) throw new Error('no Statement');
      } catch (e) {
        throw new AwsError('ValidationException', `The policy document is malformed: ${String(e)}`);
      }
      mutate(state, ps);
      ps.InlinePolicy = doc;
      return {};
    },
    GetInlinePolicyForPermissionSet(state, p) {
      const ps = psOf(state, p);
      return ps.InlinePolicy === null ? {} : { InlinePolicy: ps.InlinePolicy };
    },
    DeleteInlinePolicyFromPermissionSet(state, p) {
      const ps = psOf(state, p);
      mutate(state, ps);
      ps.InlinePolicy = null;
      return {};
    },

    // --- permissions boundary
    PutPermissionsBoundaryToPermissionSet(state, p) {
      const ps = psOf(state, p);
      const b = p['PermissionsBoundary'] as { ManagedPolicyArn?: string; CustomerManagedPolicyReference?: unknown } | undefined;
      if (!b || (b.ManagedPolicyArn === undefined) === (b.CustomerManagedPolicyReference === undefined)) {
        throw new AwsError('ValidationException', 'PermissionsBoundary needs exactly one of ManagedPolicyArn and CustomerManagedPolicyReference');
      }
      mutate(state, ps);
      ps.PermissionsBoundary = b.ManagedPolicyArn !== undefined ? { ManagedPolicyArn: b.ManagedPolicyArn } : { CustomerManagedPolicyReference: customerRef(b.CustomerManagedPolicyReference) };
      return {};
    },
    GetPermissionsBoundaryForPermissionSet(state, p) {
      const ps = psOf(state, p);
      if (ps.PermissionsBoundary === null) throw new AwsError('ResourceNotFoundException', `PermissionSet ${ps.PermissionSetArn} has no permissions boundary`);
      return { PermissionsBoundary: ps.PermissionsBoundary };
    },
    DeletePermissionsBoundaryFromPermissionSet(state, p) {
      const ps = psOf(state, p);
      if (ps.PermissionsBoundary === null) throw new AwsError('ResourceNotFoundException', `PermissionSet ${ps.PermissionSetArn} has no permissions boundary`);
      mutate(state, ps);
      ps.PermissionsBoundary = null;
      return {};
    },

    // --- provisioning
    ProvisionPermissionSet(state, p, ctx) {
      const ps = psOf(state, p);
      const targetType = p['TargetType'];
      if (targetType !== 'AWS_ACCOUNT' && targetType !== 'ALL_PROVISIONED_ACCOUNTS') throw new AwsError('ValidationException', 'TargetType must be AWS_ACCOUNT or ALL_PROVISIONED_ACCOUNTS');
      const accountId = targetType === 'AWS_ACCOUNT' ? str(p, 'TargetId') : undefined;
      if (inProgress(state, ps.PermissionSetArn, ['create', 'delete', 'provision'])) {
        throw new AwsError('ConflictException', `PermissionSet ${ps.PermissionSetArn} has a conflicting operation in progress. Retry later.`);
      }
      const r = newRequest(state, ctx.emulator, { Kind: 'provision', InstanceArn: ps.InstanceArn, PermissionSetArn: ps.PermissionSetArn, TargetType: targetType, ...(accountId ? { AccountId: accountId } : {}) });
      return { PermissionSetProvisioningStatus: provisioningStatus(r) };
    },
    DescribePermissionSetProvisioningStatus(state, p) {
      instanceOf(state, p);
      const id = str(p, 'ProvisionPermissionSetRequestId');
      const r = state.requests[id];
      if (!r || r.Kind !== 'provision') throw new AwsError('ResourceNotFoundException', `Provisioning request ${id} not found`);
      return { PermissionSetProvisioningStatus: provisioningStatus(r) };
    },
    ListPermissionSetsProvisionedToAccount(state, p) {
      const instance = instanceOf(state, p);
      const account = str(p, 'AccountId');
      const filter = p['ProvisioningStatus'] as string | undefined;
      const arns = Object.values(state.permissionSets)
        .filter((ps) => ps.InstanceArn === instance && state.provisioned[ps.PermissionSetArn]?.[account] !== undefined)
        .filter((ps) => {
          const latest = state.provisioned[ps.PermissionSetArn]?.[account] === ps.Version;
          return filter === undefined || (filter === 'LATEST_PERMISSION_SET_PROVISIONED') === latest;
        })
        .map((ps) => ps.PermissionSetArn);
      return listOf('PermissionSets', arns, p);
    },
    ListAccountsForProvisionedPermissionSet(state, p) {
      const ps = psOf(state, p);
      const filter = p['ProvisioningStatus'] as string | undefined;
      const accounts = Object.entries(state.provisioned[ps.PermissionSetArn] ?? {})
        .filter(([, v]) => filter === undefined || (filter === 'LATEST_PERMISSION_SET_PROVISIONED') === (v === ps.Version))
        .map(([a]) => a);
      return listOf('AccountIds', accounts, p);
    },

    // --- account assignments
    CreateAccountAssignment(state, p, ctx) {
      const ps = psOf(state, p);
      const { accountId, type, id } = principalArgs(p);
      if (inProgress(state, ps.PermissionSetArn, ['provision'])) throw new AwsError('ConflictException', `PermissionSet ${ps.PermissionSetArn} is being provisioned. Retry later.`);
      const running = Object.values(state.requests).filter((r) => r.Kind === 'create' && r.Status === 'IN_PROGRESS' && r.InstanceArn === ps.InstanceArn).length;
      if (running >= MAX_IN_PROGRESS_CREATES) throw new AwsError('ThrottlingException', `Too many account assignment creation requests in progress (at most ${MAX_IN_PROGRESS_CREATES})`);
      const r = newRequest(state, ctx.emulator, { Kind: 'create', InstanceArn: ps.InstanceArn, PermissionSetArn: ps.PermissionSetArn, AccountId: accountId, PrincipalType: type, PrincipalId: id });
      return { AccountAssignmentCreationStatus: assignmentStatus(r) };
    },
    DeleteAccountAssignment(state, p, ctx) {
      const ps = psOf(state, p);
      const { accountId, type, id } = principalArgs(p);
      if (inProgress(state, ps.PermissionSetArn, ['provision'])) throw new AwsError('ConflictException', `PermissionSet ${ps.PermissionSetArn} is being provisioned. Retry later.`);
      if (!state.assignments.some((a) => a.PermissionSetArn === ps.PermissionSetArn && a.AccountId === accountId && a.PrincipalType === type && a.PrincipalId === id)) {
        throw new AwsError('ResourceNotFoundException', `Account assignment of ${type} ${id} to ${ps.PermissionSetArn} on ${accountId} does not exist`);
      }
      const r = newRequest(state, ctx.emulator, { Kind: 'delete', InstanceArn: ps.InstanceArn, PermissionSetArn: ps.PermissionSetArn, AccountId: accountId, PrincipalType: type, PrincipalId: id });
      return { AccountAssignmentDeletionStatus: assignmentStatus(r) };
    },
    DescribeAccountAssignmentCreationStatus(state, p) {
      instanceOf(state, p);
      const id = str(p, 'AccountAssignmentCreationRequestId');
      const r = state.requests[id];
      if (!r || r.Kind !== 'create') throw new AwsError('ResourceNotFoundException', `Account assignment creation request ${id} not found`);
      return { AccountAssignmentCreationStatus: assignmentStatus(r) };
    },
    DescribeAccountAssignmentDeletionStatus(state, p) {
      instanceOf(state, p);
      const id = str(p, 'AccountAssignmentDeletionRequestId');
      const r = state.requests[id];
      if (!r || r.Kind !== 'delete') throw new AwsError('ResourceNotFoundException', `Account assignment deletion request ${id} not found`);
      return { AccountAssignmentDeletionStatus: assignmentStatus(r) };
    },
    ListAccountAssignments(state, p) {
      const ps = psOf(state, p);
      const account = str(p, 'AccountId');
      const all = state.assignments
        .filter((a) => a.PermissionSetArn === ps.PermissionSetArn && a.AccountId === account)
        .map((a) => ({ AccountId: a.AccountId, PermissionSetArn: a.PermissionSetArn, PrincipalType: a.PrincipalType, PrincipalId: a.PrincipalId }));
      return listOf('AccountAssignments', all, p);
    },
    ListAccountAssignmentsForPrincipal(state, p) {
      const instance = instanceOf(state, p);
      const type = p['PrincipalType'];
      if (type !== 'USER' && type !== 'GROUP') throw new AwsError('ValidationException', 'PrincipalType must be USER or GROUP');
      const id = str(p, 'PrincipalId');
      const account = (p['Filter'] as { AccountId?: string } | undefined)?.AccountId;
      const all = state.assignments
        .filter((a) => a.InstanceArn === instance && a.PrincipalType === type && a.PrincipalId === id && (account === undefined || a.AccountId === account))
        .map((a) => ({ AccountId: a.AccountId, PermissionSetArn: a.PermissionSetArn, PrincipalType: a.PrincipalType, PrincipalId: a.PrincipalId }));
      return listOf('AccountAssignments', all, p);
    },
  },
};
