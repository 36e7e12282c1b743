/**
 * Malformed configurations: each gives its own precise message at file:line:column.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, parseConfig } from '../../../src/shell/config/index.js';

const FILE = '/etc/rolemap/rolemap.yaml';

/** The single problem a config has, as `file:line:col: path: message`. */
function problems(text: string): string[] {
  try {
    parseConfig(text, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map(formatIssue);
  }
  throw new Error('expected the config to be refused');
}

const HEAD = `directory: {type: ldif, path: directory.ldif}
aws: {region: eu-west-1}
accounts: {prod: "123456789012", dev: "210987654321"}
safety: {ownerId: test}
`;

const IC = `identityCenter:
  instanceArn: arn:aws:sso:::instance/ssoins-1234567890abcdef
  identityStoreId: d-1234567890
  account: prod
`;

describe('malformed configs', () => {
  it('refuses an inline bind password and says how to reference it', () => {
    expect(
      problems(`directory:
  type: ldap
  url: ldaps://dc1.example.com
  bindDn: svc@example.com
  bindPassword: hunter2
  userBase: DC=example,DC=com
aws: {region: eu-west-1}
accounts: {prod: "123456789012"}
safety: {ownerId: t}
`),
    ).toEqual([`${FILE}:5:17: directory.bindPassword: secrets are never written inline: use {env: VARIABLE_NAME}, {file: /path/to/secret} or {credential: NAME}`]);
  });

  it('never echoes the inline secret', () => {
    const out = problems(HEAD.replace('directory: {type: ldif, path: directory.ldif}', 'directory: {type: ldap, url: ldaps://dc, bindDn: a@b, bindPassword: S3cr3t-value, userBase: DC=x}'));
    expect(out.join('\n')).not.toContain('S3cr3t-value');
  });

  it('refuses ldap:// without TLS', () => {
    expect(
      problems(`directory:
  type: ldap
  url: ldap://dc1.example.com
  bindDn: CN=svc,DC=example,DC=com
  bindPassword: {env: BIND_PW}
  userBase: DC=example,DC=com
aws: {region: eu-west-1}
accounts: {prod: "123456789012"}
safety: {ownerId: t}
`),
    ).toEqual([`${FILE}:3:8: directory.url: ldap:// would send the bind password in clear: use ldaps://, or ldap:// with startTls: true (allowInsecure: true only for a lab)`]);
  });

  it('asks for an unquoted account id to be quoted', () => {
    expect(problems(HEAD.replace('accounts: {prod: "123456789012", dev: "210987654321"}', 'accounts:\n  prod: 012345678901'))).toEqual([
      `${FILE}:4:9: accounts.prod: an account id must be a quoted string of 12 digits, e.g. "012345678901" (unquoted, YAML reads a number and drops leading zeros)`,
    ]);
  });

  it('rejects an unknown key and suggests the close one', () => {
    expect(problems(HEAD.replace('{region: eu-west-1}', '{region: eu-west-1, maxAttemps: 3}'))).toEqual([
      `${FILE}:2:26: aws.maxAttemps: unknown key 'maxAttemps'; did you mean 'maxAttempts'?`,
    ]);
  });

  it('lists the allowed keys for an unknown key that resembles none', () => {
    expect(problems(`${HEAD}journal:\n  file: x.sqlite\n`)).toEqual([`${FILE}:6:3: journal.file: unknown key 'file'; expected one of: path, archive`]);
    expect(problems(`${HEAD}leavers:\n  onLeave: wipe\n`)).toEqual([
      `${FILE}:6:3: leavers.onLeave: unknown key 'onLeave'; expected one of: identityCenter, revokeSessions, roleSessionName, pollSeconds, iamUsers`,
    ]);
  });

  it('names a missing required key at its parent', () => {
    expect(problems(HEAD.replace('safety: {ownerId: test}', 'safety:\n  maxDeletes: 3'))).toEqual([`${FILE}:4:1: safety.ownerId: missing required key 'ownerId' (expected a string)`]);
  });

  it('rejects an unknown account alias and lists the known ones', () => {
    expect(
      problems(`${HEAD}federatedRoles:
  - group: {sAMAccountName: G}
    account: prd
    roleName: Admin
    samlProvider: ADFS
`),
    ).toEqual([`${FILE}:7:14: federatedRoles[0].account: unknown account alias 'prd' (known: prod, dev)`]);
  });

  it('says where a policy document is not valid JSON', () => {
    expect(
      problems(`${HEAD}federatedRoles:
  - group: {sAMAccountName: G}
    account: prod
    roleName: Admin
    samlProvider: ADFS
    inlinePolicies:
      P: |
        {
          "Version": "2012-10-17",
          "Statement": [{"Effect": "Allow" "Action": "s3:*", "Resource": "*"}]
        }
`),
    ).toEqual([
      `${FILE}:14:44: federatedRoles[0].inlinePolicies.P: policy document is not valid JSON: Expected ',' or '}' after property value in JSON at position 64 (line 3, column 36 of the document)`,
    ]);
  });

  it('rejects a policy without Effect', () => {
    expect(
      problems(`${HEAD}${IC}  permissionSets:
    Dev:
      inlinePolicy: {Version: "2012-10-17", Statement: [{Action: "s3:*", Resource: "*"}]}
`),
    ).toEqual([`${FILE}:11:21: identityCenter.permissionSets.Dev.inlinePolicy: Statement[0] needs Effect "Allow" or "Deny"`]);
  });

  it('rejects an invalid role ARN to assume', () => {
    expect(problems(HEAD.replace('{prod: "123456789012", dev: "210987654321"}', '\n  prod: {id: "123456789012", assumeRoleArn: "arn:aws:iam::123456789012:user/rolemap"}'))).toEqual([
      `${FILE}:4:45: accounts.prod.assumeRoleArn: expected an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>`,
    ]);
  });

  it('rejects an invalid managed policy ARN', () => {
    expect(
      problems(`${HEAD}federatedRoles:
  - group: {dn: "CN=G,DC=example,DC=com"}
    account: prod
    roleName: Admin
    samlProvider: ADFS
    managedPolicyArns:
      - arn:aws:iam::aws:policy/ReadOnlyAccess
      - AdministratorAccess
`),
    ).toEqual([
      `${FILE}:12:9: federatedRoles[0].managedPolicyArns[1]: expected a managed policy ARN: arn:aws:iam::aws:policy/<name> or arn:aws:iam::<12-digit account>:policy/<path><name>`,
    ]);
  });

  it('rejects an invalid Identity Center instance ARN', () => {
    expect(problems(`${HEAD}${IC.replace('ssoins-1234567890abcdef', 'ssoins-123')}`)).toEqual([
      `${FILE}:6:16: identityCenter.instanceArn: expected an Identity Center instance ARN: arn:aws:sso:::instance/ssoins-<16 characters>`,
    ]);
  });

  it('rejects a SAML provider ARN from another account', () => {
    expect(
      problems(`${HEAD}federatedRoles:
  - group: {sAMAccountName: G}
    account: prod
    roleName: Admin
    samlProvider: arn:aws:iam::210987654321:saml-provider/ADFS
`),
    ).toEqual([`${FILE}:9:19: federatedRoles[0].samlProvider: SAML provider arn:aws:iam::210987654321:saml-provider/ADFS is in account 210987654321, but the role is in account 123456789012`]);
  });

  it('rejects a duplicate role name in one account, naming the first', () => {
    expect(
      problems(`${HEAD}federatedRoles:
  - group: {sAMAccountName: Admins}
    account: prod
    roleName: Admin
    samlProvider: ADFS
  - group: {sAMAccountName: Admins}
    account: dev
    roleName: Admin
    samlProvider: ADFS
  - group: {sAMAccountName: Ops}
    account: prod
    roleName: admin
    samlProvider: ADFS
`),
    ).toEqual([`${FILE}:16:15: federatedRoles[2].roleName: duplicate role admin in account prod: already defined at line 8 (IAM role names are unique per account, ignoring case)`]);
  });

  it('rejects a permission set defined twice', () => {
    expect(
      problems(`${HEAD}${IC}  permissionSets:
    ReadOnly: {}
    ReadOnly: {sessionDuration: PT2H}
`),
    ).toEqual([`${FILE}:11:5: duplicate key 'ReadOnly': each key may appear only once in a mapping`]);
  });

  it('rejects one group assigned the same permission set twice with other accounts', () => {
    expect(
      problems(`${HEAD}${IC}  permissionSets: {ReadOnly: {}}
  assignments:
    - group: {sAMAccountName: Readers}
      permissionSet: ReadOnly
      accounts: [prod]
    - group: {sAMAccountName: readers}
      permissionSet: ReadOnly
      accounts: [dev]
`),
    ).toEqual([
      `${FILE}:14:14: identityCenter.assignments[1].group: group sAMAccountName readers is already assigned permission set ReadOnly at line 11 with other accounts: give one entry per group and permission set, listing all its accounts`,
    ]);
  });

  it('rejects an assignment of an unknown permission set', () => {
    expect(
      problems(`${HEAD}${IC}  permissionSets: {ReadOnly: {}}
  assignments:
    - {group: {guid: 0A1B2C3D-0000-4000-8000-00000000ABCD}, permissionSet: Admin, accounts: [prod]}
`),
    ).toEqual([`${FILE}:11:76: identityCenter.assignments[0].permissionSet: unknown permission set 'Admin' (known: ReadOnly)`]);
  });

  it('rejects a group reference that names two things', () => {
    expect(
      problems(`${HEAD}federatedRoles:
  - group: {sAMAccountName: G, dn: "CN=G,DC=x"}
    account: prod
    roleName: Admin
    samlProvider: ADFS
`),
    ).toEqual([`${FILE}:6:12: federatedRoles[0].group: give exactly one of dn, sAMAccountName, guid`]);
  });

  it('rejects a cron expression that does not parse', () => {
    expect(problems(`${HEAD}schedule: "*/15 * * *"\n`)).toEqual([
      `${FILE}:5:11: schedule: not a valid cron expression: '*/15 * * *': expected 5 fields "minute hour day-of-month month day-of-week", or 6 with seconds first, e.g. "*/15 * * * *"; got 4`,
    ]);
    // Five fields, one out of range: the message names the field and its range, not the field count.
    expect(problems(`${HEAD}schedule: "61 * * * *"\n`)).toEqual([
      `${FILE}:5:11: schedule: not a valid cron expression: '61 * * * *': minute '61' is out of range or unreadable (minute 0-59)`,
    ]);
    expect(problems(`${HEAD}schedule: "0 25 * * MON"\n`)[0]).toMatch(/hour '25' is out of range or unreadable \(hour 0-23\)$/);
  });

  it('rejects a pattern regex that does not compile', () => {
    expect(problems(`${HEAD}federatedRolePatterns:\n  - regex: '^AWS-(?<account>\\d{12}-(?<role>.+)$'\n    samlProvider: ADFS\n`)).toEqual([
      `${FILE}:6:12: federatedRolePatterns[0].regex: not a valid regular expression: Invalid regular expression: /^AWS-(?<account>\\d{12}-(?<role>.+)$/: Unterminated group`,
    ]);
  });

  it('rejects a pattern regex without the named groups account and role', () => {
    expect(problems(`${HEAD}federatedRolePatterns:\n  - regex: '^AWS-(\\d{12})-(?<role>.+)$'\n    samlProvider: ADFS\n`)).toEqual([
      `${FILE}:6:12: federatedRolePatterns[0].regex: the regex must capture named groups (?<account>...) and (?<role>...); missing (?<account>)`,
    ]);
  });

  it('rejects a wrong directory type', () => {
    expect(problems(HEAD.replace('{type: ldif, path: directory.ldif}', '{type: csv, path: directory.csv}'))).toEqual([
      `${FILE}:1:19: directory.type: expected a directory with type: ldap (url, bindDn, bindPassword, userBase, ...) or type: ldif (path)`,
    ]);
  });

  it('rejects a session duration that is not ISO hours', () => {
    expect(problems(`${HEAD}${IC}  permissionSets:\n    Dev: {sessionDuration: 8h}\n`)).toEqual([
      `${FILE}:10:28: identityCenter.permissionSets.Dev.sessionDuration: expected an ISO-8601 duration from PT1H to PT12H, e.g. PT8H`,
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const out = problems(`${HEAD}federatedRoles:\n  - group: {sAMAccountName: G\n`);
    expect(out[0]).toMatch(/^\/etc\/rolemap\/rolemap\.yaml:7:\d+: YAML syntax error: /);
  });

  it('refuses an empty file', () => {
    expect(problems('# nothing\n')).toEqual([`${FILE}:1:1: the file is empty: expected a mapping with directory, aws, accounts and safety`]);
  });

  it('reports every problem at once, in file order', () => {
    const out = problems(`directory: {type: ldif, path: d.ldif}
aws: {region: eu-west-1}
accounts: {prod: "123456789012"}
federatedRoles:
  - {group: {sAMAccountName: A}, account: nope, roleName: X, samlProvider: ADFS}
schedule: "not cron"
safety: {ownerId: t}
`);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/:5:43: federatedRoles\[0\]\.account: unknown account alias 'nope'/);
    expect(out[1]).toMatch(/:6:11: schedule: not a valid cron expression/);
  });

  it('says what type was expected and what was found', () => {
    expect(
      problems(`directory: {type: ldif, path: d}
aws: {region: eu-west-1, maxAttempts: "5"}
accounts: []
safety: {ownerId: x, maxDeletes: 2.5}
federatedRoles: {}
`),
    ).toEqual([
      `${FILE}:2:39: aws.maxAttempts: expected a number, got the string '5'`,
      `${FILE}:3:11: accounts: expected a mapping, got a list`,
      `${FILE}:4:34: safety.maxDeletes: expected a whole number, got the number 2.5`,
      `${FILE}:5:17: federatedRoles: expected a list, got a mapping`,
    ]);
  });

  it('asks to quote an account id inside the long form too', () => {
    expect(problems(HEAD.replace('{prod: "123456789012", dev: "210987654321"}', '{prod: {id: 123456789012}}'))).toEqual([
      `${FILE}:3:23: accounts.prod.id: an account id must be a quoted string of 12 digits, e.g. "012345678901" (unquoted, YAML reads a number and drops leading zeros)`,
    ]);
  });

  it('refuses account-specific ARNs in a pattern rule, which spans accounts', () => {
    expect(
      problems(`${HEAD}federatedRolePatterns:
  - samlProvider: arn:aws:iam::123456789012:saml-provider/ADFS
    permissionsBoundary: arn:aws:iam::123456789012:policy/Boundary
`),
    ).toEqual([
      `${FILE}:6:19: federatedRolePatterns[0].samlProvider: a pattern rule applies to many accounts: give the SAML provider by name, not by ARN`,
      `${FILE}:7:26: federatedRolePatterns[0].permissionsBoundary: a pattern rule applies to many accounts: only AWS-managed policies (arn:aws:iam::aws:policy/...) can be used by ARN, got arn:aws:iam::123456789012:policy/Boundary`,
    ]);
  });

  it('requires the IAM user name pattern to capture sam', () => {
    expect(problems(`${HEAD}leavers:\n  iamUsers: {namePattern: '^(.*)-legacy$'}\n`)).toEqual([
      `${FILE}:6:27: leavers.iamUsers.namePattern: the regex must capture the sAMAccountName as a named group (?<sam>...)`,
    ]);
  });

  it('refuses startTls on an ldaps:// URL', () => {
    expect(
      problems(HEAD.replace('{type: ldif, path: directory.ldif}', '{type: ldap, url: "ldaps://dc1", startTls: true, bindDn: a@b, bindPassword: {file: pw}, userBase: "DC=x"}')),
    ).toEqual([`${FILE}:1:55: directory.startTls: startTls is for ldap:// URLs; an ldaps:// connection is already TLS`]);
  });

  it('rejects an unknown time zone for the schedule', () => {
    expect(problems(`${HEAD}daemon: {timezone: Europe/Atlantis}\n`)).toEqual([
      `${FILE}:5:20: daemon.timezone: unknown time zone 'Europe/Atlantis' (expected an IANA name such as Europe/Berlin or UTC)`,
    ]);
  });

  it('refuses a document that expands aliases without end', () => {
    const lol = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lol.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const out = problems(`${lol.join('\n')}\n`);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\/etc\/rolemap\/rolemap\.yaml:1:1: cannot expand YAML aliases: /);
  });

  it('suggests the right key for a longer misspelling', () => {
    expect(problems(HEAD.replace('safety: {ownerId: test}', 'safety: {ownerId: test, minimumDirectoryUsers: 5}'))).toEqual([
      `${FILE}:4:25: safety.minimumDirectoryUsers: unknown key 'minimumDirectoryUsers'; did you mean 'minDirectoryUsers'?`,
    ]);
  });
});
