/** A small world for shell tests: a role map from real YAML, a directory snapshot and an IAM target. */
import type { DirectorySnapshot } from '../../../src/core/model/directory.js';
import { parseConfig, type LoadedConfig } from '../../../src/shell/config/index.js';
import type { Runtime } from '../../../src/shell/reconcile/run-once.js';
import { FakeDirectorySource, MemoryJournal, MemoryLogger, MemoryTarget } from '../../support/fake-ports.js';

export const NOW = new Date('2026-03-02T10:00:00Z');

export function configYaml(opts: { minDirectoryUsers?: number } = {}): string {
  return `directory: {type: ldif, path: directory.ldif}
aws: {region: eu-west-1}
accounts: {prod: "123456789012"}
federatedRoles:
  - group: {sAMAccountName: AWS-Prod-Admins}
    account: prod
    roleName: Admin
    samlProvider: ADFS
    managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
  - group: {sAMAccountName: AWS-Prod-Readers}
    account: prod
    roleName: ReadOnly
    samlProvider: ADFS
    managedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]
federatedRolePatterns:
  - samlProvider: ADFS
safety: {ownerId: test-owner, minDirectoryUsers: ${opts.minDirectoryUsers ?? 1}}
`;
}

export function loadTestConfig(opts: { minDirectoryUsers?: number } = {}): LoadedConfig {
  return parseConfig(configYaml(opts), '/srv/rolemap/rolemap.yaml');
}

export function snapshot(): DirectorySnapshot {
  return {
    source: 'fake:test',
    users: [
      { guid: '00000000-0000-4000-8000-000000000001', dn: 'CN=Alice,OU=People,DC=example,DC=com', sAMAccountName: 'alice', userPrincipalName: 'alice@example.com', disabled: false },
      { guid: '00000000-0000-4000-8000-000000000002', dn: 'CN=Bob,OU=People,DC=example,DC=com', sAMAccountName: 'bob', userPrincipalName: 'bob@example.com', disabled: false },
    ],
    groups: [
      { guid: '00000000-0000-4000-8000-0000000000a1', dn: 'CN=AWS-Prod-Admins,OU=Groups,DC=example,DC=com', sAMAccountName: 'AWS-Prod-Admins', name: 'AWS-Prod-Admins', members: ['00000000-0000-4000-8000-000000000001'] },
      { guid: '00000000-0000-4000-8000-0000000000a2', dn: 'CN=AWS-Prod-Readers,OU=Groups,DC=example,DC=com', sAMAccountName: 'AWS-Prod-Readers', name: 'AWS-Prod-Readers', members: ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'] },
    ],
  };
}

export interface World {
  readonly config: LoadedConfig;
  readonly source: FakeDirectorySource;
  readonly iam: MemoryTarget;
  readonly journal: MemoryJournal;
  readonly log: MemoryLogger;
  readonly runtime: Runtime;
}

export function world(opts: { minDirectoryUsers?: number } = {}): World {
  const config = loadTestConfig(opts);
  const source = new FakeDirectorySource(snapshot());
  const iam = new MemoryTarget('iam', ['iam_role', 'iam_role_revocations', 'iam_user_credentials']);
  const journal = new MemoryJournal();
  const log = new MemoryLogger();
  const runtime: Runtime = { roleMap: config.roleMap, source, targets: [iam], journal, configHash: config.hash, clock: () => NOW, log };
  return { config, source, iam, journal, log, runtime };
}
