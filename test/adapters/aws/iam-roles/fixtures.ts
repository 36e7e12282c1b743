/**
 * Named fixtures for the IAM target tests: an emulator with a security account whose base
 * credentials assume `rolemap-reconciler` in three workload accounts through STS (the role must
 * exist and trust the security account), a SAML provider `ADFS` in each, a role map, and builders
 * for desired roles and for changes.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { CreateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { AwsClients } from '../../../../src/adapters/aws/clients.js';
import { samlTrustPolicy } from '../../../../src/adapters/aws/iam-roles/trust-policy.js';
import { OWNER_TAG } from '../../../../src/core/model/ownership.js';
import { policiesEqual } from '../../../../src/core/model/policy.js';
import type { PolicyDocument } from '../../../../src/core/model/policy.js';
import { ATTR_SCHEMA, resourceAddress, resourceKey } from '../../../../src/core/model/resources.js';
import type { IamRoleAttrs, Resource, ResourceOf } from '../../../../src/core/model/resources.js';
import type { FederatedRoleSpec, RoleMap } from '../../../../src/core/model/role-map.js';
import type { Action } from '../../../../src/core/plan/action.js';
import type { AttrDiff, Change } from '../../../../src/core/plan/change.js';
import { startEmulator } from '../../../aws-emulator/index.js';
import type { Emulator } from '../../../aws-emulator/index.js';
import { iamAccount } from '../../../aws-emulator/services/iam.js';
import type { IamState } from '../../../aws-emulator/services/iam.js';

export const SECURITY = '111111111111';
export const PROD = '222222222222';
export const DEV = '333333333333';
export const SANDBOX = '444444444444';
export const WORKLOADS = [PROD, DEV, SANDBOX] as const;
export const ALIAS: Record<string, string> = { [PROD]: 'prod', [DEV]: 'dev', [SANDBOX]: 'sandbox' };
export const OWNER = 'corp-prod';
export const RECONCILER = 'rolemap-reconciler';
export const BASE_CREDENTIALS = { accessKeyId: 'AKIASECURITYBASE0001', secretAccessKey: 'base-secret-not-real' };
export const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
export const VIEW_ONLY = 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess';
export const BOUNDARY = 'arn:aws:iam::aws:policy/PowerUserAccess';

/** ADFS federation metadata stand-in (IAM wants at least 1,000 characters). */
export const SAML_METADATA = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://adfs.corp.example/adfs/services/trust">${'<!-- signing certificate -->'.repeat(40)}</EntityDescriptor>`;

export interface World {
  readonly emulator: Emulator;
  readonly clients: AwsClients;
  /** A client acting in `account` through the assumed role, for hand edits ("someone in the console"). */
  readonly console: (account: string) => IAMClient;
  /** Calls made while setting the world up (STS credentials, SAML providers), before the counts were reset. */
  readonly setupCalls: Record<string, number>;
  stop(): Promise<void>;
}

/** The reconciler role in each workload account, trusting the security account: the bootstrap an operator does once. */
function seedReconcilerRoles(emulator: Emulator): void {
  const iam = emulator.state<IamState>('iam');
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SECURITY}:root` }, Action: 'sts:AssumeRole' }] };
  for (const account of WORKLOADS) {
    iamAccount(iam, account).roles[RECONCILER] = {
      roleName: RECONCILER,
      roleId: `AROARECONCILER${account.slice(0, 7)}`,
      path: '/',
      createDate: '2026-01-01T00:00:00.000Z',
      assumeRolePolicyDocument: JSON.stringify(trust),
      maxSessionDuration: 3600,
      tags: [],
      attachedPolicies: ['arn:aws:iam::aws:policy/IAMFullAccess'],
      inlinePolicies: {},
    };
  }
}

export function clientsFor(emulator: Emulator, maxAttempts = 8): AwsClients {
  return new AwsClients(
    { region: 'us-east-1', endpoint: emulator.url, maxAttempts, sessionName: 'rolemap-test', credentials: async () => BASE_CREDENTIALS },
    WORKLOADS.map((id) => ({ id, alias: ALIAS[id] as string, assumeRoleArn: `arn:aws:iam::${id}:role/${RECONCILER}` })),
  );
}

export async function startWorld(options: { maxAttempts?: number } = {}): Promise<World> {
  const emulator = await startEmulator({ homeAccount: SECURITY, baseCredentials: [BASE_CREDENTIALS] });
  seedReconcilerRoles(emulator);
  const clients = clientsFor(emulator, options.maxAttempts);
  for (const account of WORKLOADS) {
    await clients.iam(account).send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: SAML_METADATA }));
  }
  const setupCalls = emulator.calls();
  emulator.resetCalls();
  return {
    emulator,
    setupCalls,
    clients,
    console: (account) => clients.iam(account),
    async stop() {
      clients.destroy();
      await emulator.stop();
    },
  };
}

export function spec(account: string, roleName: string, overrides: Partial<FederatedRoleSpec> = {}): FederatedRoleSpec {
  return {
    group: { by: 'sAMAccountName', value: `AWS-${account}-${roleName}` },
    account,
    roleName,
    path: '/federated/',
    description: `${roleName} for AD group AWS-${account}-${roleName}`,
    maxSessionDuration: 3600,
    permissionsBoundary: null,
    managedPolicyArns: [READ_ONLY],
    inlinePolicies: {},
    tags: { team: 'platform' },
    samlProvider: 'ADFS',
    allowTagSession: false,
    adopt: false,
    ...overrides,
  };
}

export function roleMap(federatedRoles: readonly FederatedRoleSpec[] = [], overrides: Partial<RoleMap> = {}): RoleMap {
  return {
    accounts: WORKLOADS.map((id) => ({ id, alias: ALIAS[id] as string, assumeRoleArn: `arn:aws:iam::${id}:role/${RECONCILER}` })),
    federatedRoles,
    federatedRolePatterns: [],
    identityCenter: null,
    leavers: {
      identityCenter: 'remove-access',
      revokeSessions: true,
      roleSessionName: 'userPrincipalName',
      iamUsers: { disableCredentials: true, linkTag: 'ad-account', namePattern: '^(?<sam>[a-z0-9.]+)-legacy$', keyAgeWarningDays: 90 },
    },
    safety: { ownerId: OWNER, maxDeletes: 10, maxDeletePercent: 50, minDirectoryUsers: 0, protectedPrincipals: [] },
    ...overrides,
  };
}

/** The role the role map wants for a spec: what the core's desired computation builds. */
export function desiredRole(s: FederatedRoleSpec): ResourceOf<'iam_role'> {
  const attrs: IamRoleAttrs = {
    path: s.path,
    description: s.description,
    maxSessionDuration: s.maxSessionDuration,
    permissionsBoundary: s.permissionsBoundary,
    trustPolicy: samlTrustPolicy(s.account, s.samlProvider, s.allowTagSession),
    managedPolicyArns: [...s.managedPolicyArns],
    inlinePolicies: s.inlinePolicies,
    tags: { ...s.tags, [OWNER_TAG]: OWNER },
  };
  return { kind: 'iam_role', id: `${s.account}/${s.roleName}`, account: s.account, name: s.roleName, attrs, owned: true };
}

export function revocations(account: string, roleName: string, entries: Record<string, string>): ResourceOf<'iam_role_revocations'> {
  return { kind: 'iam_role_revocations', id: `${account}/${roleName}`, account, name: roleName, attrs: { entries }, owned: true };
}

function valueEqual(type: string, a: unknown, b: unknown): boolean {
  switch (type) {
    case 'policy':
      return policiesEqual(a as PolicyDocument | null, b as PolicyDocument | null);
    case 'set':
      return JSON.stringify([...(a as string[])].sort()) === JSON.stringify([...(b as string[])].sort());
    case 'policyMap': {
      const x = a as Record<string, PolicyDocument>;
      const y = b as Record<string, PolicyDocument>;
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      return [...keys].every((k) => x[k] !== undefined && y[k] !== undefined && policiesEqual(x[k], y[k]));
    }
    case 'stringMap': {
      const x = a as Record<string, string>;
      const y = b as Record<string, string>;
      return JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());
    }
    default:
      return a === b;
  }
}

/** Attribute differences, by the model's own comparison rules (ATTR_SCHEMA). */
export function attrDiffs(before: Resource, after: Resource): AttrDiff[] {
  const schema = ATTR_SCHEMA[after.kind] as Record<string, string>;
  const b = before.attrs as unknown as Record<string, unknown>;
  const a = after.attrs as unknown as Record<string, unknown>;
  return Object.entries(schema)
    .filter(([name, type]) => !valueEqual(type, b[name], a[name]))
    .map(([name, type]) => ({ name, type: type as AttrDiff['type'], before: b[name], after: a[name] }));
}

export function change(action: Action, before: Resource | null, after: Resource | null, reason = 'test'): Change {
  const r = (after ?? before) as Resource;
  return {
    seq: 1,
    action,
    kind: r.kind,
    key: resourceKey(r),
    address: resourceAddress(r, (id) => ALIAS[id] ?? id),
    account: r.account,
    before,
    after,
    diffs: before && after ? attrDiffs(before, after) : [],
    reason,
    dependsOn: [],
  };
}

/**
 * A small stand-in for the core's plan, for target-level tests: creates, updates of owned
 * resources that differ, deletes of owned resources nobody wants. It is not the core's
 * calculatePlan (no safety or protection filters); the end-to-end tests use that one.
 */
export function localPlan(desired: readonly Resource[], actual: readonly Resource[], kinds: readonly string[] = ['iam_role', 'iam_role_revocations']): Change[] {
  const have = new Map(actual.filter((r) => kinds.includes(r.kind)).map((r) => [resourceKey(r), r]));
  const out: Change[] = [];
  for (const d of desired) {
    const a = have.get(resourceKey(d));
    have.delete(resourceKey(d));
    if (!a) out.push(change('create', null, d));
    else if (a.owned && attrDiffs(a, d).length > 0) out.push(change('update', a, d));
  }
  for (const a of have.values()) if (a.owned) out.push(change('delete', a, null));
  return out;
}

export function find<K extends Resource['kind']>(resources: readonly Resource[], kind: K, id: string): ResourceOf<K> | undefined {
  return resources.find((r) => r.kind === kind && r.id === id) as ResourceOf<K> | undefined;
}

