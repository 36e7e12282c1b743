import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CONFIG_PATH,
  SecretError,
  configPathFrom,
  loadConfig,
  parseConfig,
  resolveSecret,
} from '../../../src/shell/config/index.js';
import { configJsonSchema } from '../../../src/shell/config/json-schema.js';

const EXAMPLE = resolve('config/rolemap.example.yaml');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rolemap-config-'));
}

describe('the example config', () => {
  const config = loadConfig(EXAMPLE);

  it('validates, and its hash is the sha256 of its bytes', () => {
    expect(config.path).toBe(EXAMPLE);
    expect(config.hash).toBe(createHash('sha256').update(readFileSync(EXAMPLE)).digest('hex'));
  });

  it('resolves account aliases to ids and keeps leading zeros', () => {
    expect(config.roleMap.accounts.map((a) => [a.alias, a.id])).toEqual([
      ['management', '111111111111'],
      ['prod', '222222222222'],
      ['dev', '033333333333'],
    ]);
    expect(config.roleMap.accounts[0]).toMatchObject({ assumeRoleArn: 'arn:aws:iam::111111111111:role/rolemap-reconciler', externalId: 'rolemap-prod' });
    expect(config.roleMap.federatedRoles.map((r) => [r.account, r.roleName])).toEqual([
      ['222222222222', 'Admin'],
      ['222222222222', 'ReadOnly'],
    ]);
  });

  it('parses inline policies written as YAML and as JSON strings alike', () => {
    const ro = config.roleMap.federatedRoles[1];
    expect(ro?.group).toEqual({ by: 'dn', value: 'CN=AWS-Prod-ReadOnly,OU=Groups,DC=corp,DC=example,DC=com' });
    expect(ro?.inlinePolicies['DenySecrets']).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: ['secretsmanager:GetSecretValue'], Resource: '*' }],
    });
    expect(ro?.inlinePolicies['ReadLogs']).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'logs:Get*', Resource: '*' }] });
    expect(ro).toMatchObject({ path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, samlProvider: 'ADFS', adopt: false });
  });

  it('resolves Identity Center: account, permission sets, assignments', () => {
    const ic = config.roleMap.identityCenter;
    expect(ic?.account).toBe('111111111111');
    expect(ic?.permissionSets.map((p) => p.name)).toEqual(['ReadOnly', 'Developer']);
    expect(ic?.permissionSets[1]).toMatchObject({
      sessionDuration: 'PT4H',
      customerManagedPolicies: [{ name: 'DeveloperAccess', path: '/team/' }],
      permissionsBoundary: { customerManaged: { name: 'DeveloperBoundary', path: '/' } },
    });
    expect(ic?.permissionSets[0]?.inlinePolicy).toBeNull();
    expect(ic?.assignments).toEqual([
      { group: { by: 'sAMAccountName', value: 'AWS-ReadOnly' }, permissionSet: 'ReadOnly', accounts: ['222222222222', '033333333333'] },
      { group: { by: 'guid', value: '0a1b2c3d-0000-4000-8000-00000000abcd' }, permissionSet: 'Developer', accounts: ['033333333333'] },
    ]);
  });

  it('keeps the bind password a reference and the pattern rule as written', () => {
    expect(config.directory).toMatchObject({ type: 'ldap', bindPassword: { env: 'ROLEMAP_BIND_PASSWORD' }, groupBase: 'OU=Groups,DC=corp,DC=example,DC=com', nesting: 'client' });
    expect(JSON.stringify(config)).not.toMatch(/password"\s*:\s*"/i);
    expect(config.roleMap.federatedRolePatterns[0]?.regex).toBe('^AWS-(?<account>\\d{12})-(?<role>[\\w+=,.@-]+)$');
    expect(config.schedule).toBe('*/15 * * * *');
    expect(config.daemon).toEqual({ runAtStart: true, healthHost: '127.0.0.1', healthPort: 9464, logLevel: 'info' });
  });
});

describe('defaults and paths', () => {
  const minimal = `directory: {type: ldif, path: snapshots/dir.ldif}
aws: {region: us-east-1}
accounts: {prod: "123456789012"}
safety: {ownerId: test}
`;

  it('fills in every default of a minimal file', () => {
    const c = parseConfig(minimal, '/srv/rolemap/rolemap.yaml');
    expect(c.directory).toEqual({ type: 'ldif', path: '/srv/rolemap/snapshots/dir.ldif' });
    expect(c.journal.path).toBe('/srv/rolemap/rolemap.sqlite');
    expect(c.aws).toEqual({ region: 'us-east-1', endpoint: undefined, maxAttempts: 5 });
    expect(c.roleMap.identityCenter).toBeNull();
    expect(c.roleMap.leavers).toEqual({
      identityCenter: 'delete',
      revokeSessions: true,
      roleSessionName: 'userPrincipalName',
      iamUsers: { disableCredentials: true, linkTag: 'rolemap:ad-account', namePattern: null, keyAgeWarningDays: 90 },
    });
    expect(c.roleMap.safety).toEqual({ ownerId: 'test', maxDeletes: 10, maxDeletePercent: 10, maxDeletePercentFloor: 20, minDirectoryUsers: 1, protectedPrincipals: [] });
  });

  it('resolves secret files and the CA bundle against the config directory', () => {
    const c = parseConfig(
      `directory:
  type: ldap
  url: ldap://dc1.example.com:389
  startTls: true
  caFile: ca.pem
  bindDn: CN=svc,DC=example,DC=com
  bindPassword: {file: secrets/bind}
  userBase: DC=example,DC=com
aws: {region: us-east-1}
accounts: {prod: "123456789012"}
safety: {ownerId: test}
`,
      '/srv/rolemap/rolemap.yaml',
    );
    expect(c.directory).toMatchObject({ caFile: '/srv/rolemap/ca.pem', bindPassword: { file: '/srv/rolemap/secrets/bind' }, groupBase: 'DC=example,DC=com', pageSize: 500, rangeSize: 1000 });
  });

  it('lets roles share settings through YAML anchors and merge keys', () => {
    const c = parseConfig(
      `directory: {type: ldif, path: d.ldif}
aws: {region: us-east-1}
accounts: {prod: "123456789012", dev: "210987654321"}
x-admin: &admin
  roleName: Admin
  samlProvider: ADFS
  managedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
federatedRoles:
  - {<<: *admin, group: {sAMAccountName: Prod-Admins}, account: prod}
  - {<<: *admin, group: {sAMAccountName: Dev-Admins}, account: dev, maxSessionDuration: 7200}
safety: {ownerId: test}
`,
      '/srv/rolemap/rolemap.yaml',
    );
    expect(c.roleMap.federatedRoles.map((r) => [r.account, r.roleName, r.maxSessionDuration, r.managedPolicyArns])).toEqual([
      ['123456789012', 'Admin', 3600, ['arn:aws:iam::aws:policy/AdministratorAccess']],
      ['210987654321', 'Admin', 7200, ['arn:aws:iam::aws:policy/AdministratorAccess']],
    ]);
  });

  it('takes the path from --config, else ROLEMAP_CONFIG, else ./rolemap.yaml', () => {
    expect(configPathFrom('a.yaml', { ROLEMAP_CONFIG: 'b.yaml' })).toBe('a.yaml');
    expect(configPathFrom(undefined, { ROLEMAP_CONFIG: 'b.yaml' })).toBe('b.yaml');
    expect(configPathFrom(undefined, {})).toBe(DEFAULT_CONFIG_PATH);
  });

  it('names a missing file and how to point at another', () => {
    const file = join(tempDir(), 'absent.yaml');
    expect(() => loadConfig(file)).toThrow(ConfigError);
    expect(() => loadConfig(file)).toThrow(`${file}: no such file (give --config FILE or set ROLEMAP_CONFIG)`);
  });
});

describe('resolveSecret', () => {
  it('reads an environment variable at use time', () => {
    expect(resolveSecret({ env: 'BIND_PW' }, { BIND_PW: 'pw' })).toBe('pw');
    expect(() => resolveSecret({ env: 'BIND_PW' }, {})).toThrow(new SecretError('secret not available: environment variable BIND_PW is not set'));
    expect(() => resolveSecret({ env: 'BIND_PW' }, { BIND_PW: '' })).toThrow('environment variable BIND_PW is empty');
  });

  it('reads a file without its trailing newline, and never shows the value in errors', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pw'), 'correct horse\n');
    writeFileSync(join(dir, 'empty'), '\n');
    expect(resolveSecret({ file: join(dir, 'pw') })).toBe('correct horse');
    expect(() => resolveSecret({ file: join(dir, 'empty') })).toThrow(`file ${join(dir, 'empty')} is empty`);
    expect(() => resolveSecret({ file: join(dir, 'none') })).toThrow(`cannot read file ${join(dir, 'none')} (ENOENT)`);
  });
});

describe('the JSON Schema', () => {
  it('config/rolemap.schema.json is up to date (run `npm run schema`)', () => {
    expect(readFileSync('config/rolemap.schema.json', 'utf8')).toBe(configJsonSchema());
  });

  it('rejects unknown keys and keeps defaults optional', () => {
    const schema = JSON.parse(configJsonSchema()) as { additionalProperties: boolean; required: string[]; properties: Record<string, unknown> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required.sort()).toEqual(['accounts', 'aws', 'directory', 'safety']);
    expect(Object.keys(schema.properties)).toContain('federatedRolePatterns');
  });
});
