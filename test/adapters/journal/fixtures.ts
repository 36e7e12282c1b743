/**
 * Named fixtures for the journal tests: people, groups, accounts, changes of each kind, plans, runs
 * and entitlements, plus a clock the tests move by hand and temp journal files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entitlement } from '../../../src/core/model/state.js';
import type { Resource } from '../../../src/core/model/resources.js';
import type { Action } from '../../../src/core/plan/action.js';
import type { Change, Plan } from '../../../src/core/plan/change.js';
import type { RunMode, RunStart } from '../../../src/core/ports.js';

export interface Person {
  readonly guid: string;
  readonly name: string;
  readonly upn: string;
}
export interface Group {
  readonly guid: string;
  readonly name: string;
}

export const ALICE: Person = { guid: '0a1b2c3d-0000-4000-8000-00000000a11c', name: 'alice', upn: 'alice.smith@corp.example.com' };
export const BOB: Person = { guid: '0a1b2c3d-0000-4000-8000-000000000b0b', name: 'bob', upn: 'bob.jones@corp.example.com' };
export const CAROL: Person = { guid: '0a1b2c3d-0000-4000-8000-0000000ca201', name: 'carol', upn: 'carol.white@corp.example.com' };

export const ADMINS: Group = { guid: '9f000000-0000-4000-8000-0000000ad111', name: 'AWS-Prod-Admins' };
export const READERS: Group = { guid: '9f000000-0000-4000-8000-0000000ead00', name: 'AWS-Prod-Readers' };

export const PROD = '111111111111';
export const DEV = '222222222222';
export const IC = '999999999999';

export function role(account: string, roleName: string, description = 'federated'): Resource {
  return {
    kind: 'iam_role',
    id: `${account}/${roleName}`,
    account,
    name: roleName,
    owned: true,
    attrs: {
      path: '/',
      description,
      maxSessionDuration: 3600,
      permissionsBoundary: null,
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${account}:saml-provider/ADFS` }, Action: 'sts:AssumeRoleWithSAML' }],
      },
      managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      inlinePolicies: {},
      tags: { 'rolemap:owner': 'test' },
    },
  };
}

export function icUser(p: Person): Resource {
  return {
    kind: 'identitystore_user',
    id: p.guid,
    account: IC,
    name: p.upn,
    owned: true,
    principal: { guid: p.guid, name: p.name },
    attrs: { userName: p.upn, displayName: p.name, givenName: p.name, familyName: 'Test', email: p.upn },
  };
}

export function membership(g: Group, p: Person): Resource {
  return {
    kind: 'identitystore_membership',
    id: `${g.guid}/${p.guid}`,
    account: IC,
    name: `${g.name}/${p.name}`,
    owned: true,
    principal: { guid: p.guid, name: p.name },
    attrs: {},
  };
}

export function assignment(ps: string, account: string, g: Group): Resource {
  return {
    kind: 'sso_account_assignment',
    id: `${ps}/${account}/GROUP:${g.guid}`,
    account: IC,
    name: `${ps}/prod/${g.name}`,
    owned: true,
    principal: { guid: g.guid, name: g.name },
    attrs: {},
  };
}

/** A change whose resource is `r` (create: after = r; delete: before = r; others: both). */
export function changeOf(seq: number, action: Action, r: Resource, extra: Partial<Change> = {}): Change {
  return {
    seq,
    action,
    kind: r.kind,
    key: `${r.kind}:${r.id}`,
    address: r.kind.startsWith('iam_') ? `${r.kind}.${r.account}.${r.name}` : `${r.kind}.${r.name}`,
    account: r.account,
    before: action === 'create' ? null : r,
    after: action === 'delete' ? null : r,
    diffs: [],
    reason: `${action} ${r.name}`,
    principal: r.principal,
    dependsOn: [],
    ...extra,
  };
}

export function planOf(changes: readonly Change[], createdAt = '2026-01-01T00:00:00.000Z'): Plan {
  return {
    formatVersion: 1,
    createdAt,
    ownerId: 'test',
    changes,
    warnings: [],
    refusal: null,
    actualDigest: 'digest',
    summary: {
      add: changes.filter((c) => c.action === 'create').length,
      change: changes.filter((c) => c.action === 'update' || c.action === 'revoke' || c.action === 'disable').length,
      destroy: changes.filter((c) => c.action === 'delete').length,
      leavers: new Set(changes.flatMap((c) => (c.leaver ? [c.leaver.guid] : []))).size,
    },
  };
}

export function runStart(runId: string, startedAt: string, mode: RunMode = 'apply'): RunStart {
  return { runId, trigger: 'test', mode, host: 'bastion-1', version: '0.1.0', configHash: 'c0ffee'.padEnd(64, '0'), startedAt };
}

export function entitlement(p: Person, account: string, target: string, g: Group, kind: Entitlement['kind'] = 'iam_role'): Entitlement {
  return { userGuid: p.guid, userName: p.name, account, kind, target, viaGroupGuid: g.guid, viaGroupName: g.name };
}

/** A clock the test moves: `clock()` for the journal, `clock.set(iso)` to jump. */
export function manualClock(start: string): (() => Date) & { set(iso: string): void; advance(ms: number): void } {
  let now = new Date(start);
  const f = (() => new Date(now)) as (() => Date) & { set(iso: string): void; advance(ms: number): void };
  f.set = (iso) => {
    now = new Date(iso);
  };
  f.advance = (ms) => {
    now = new Date(now.getTime() + ms);
  };
  return f;
}

/** A fresh temp directory per test; `cleanup()` in afterEach. */
export function tempDir(): { readonly dir: string; file(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-journal-'));
  return { dir, file: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
