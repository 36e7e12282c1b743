/**
 * From the schema-valid file to the core's `RoleMap` and the adapters' settings, checking what
 * relates values to each other: account aliases, duplicates, conflicting definitions, ARNs that
 * must agree with their account, policy documents, regexes and the cron expression.
 * Problems come back as issues with a data path (and, for JSON inside a string, a finer position);
 * the loader turns paths into file:line:column.
 */
import { hostname } from 'node:os';
import { dirname, resolve as resolvePath } from 'node:path';
import cron from 'node-cron';
import type { GroupRef } from '../../core/model/directory.js';
import { groupRefKey } from '../../core/model/directory.js';
import type { PolicyDocument } from '../../core/model/policy.js';
import type {
  Account,
  AccountId,
  AssignmentSpec,
  FederatedRolePattern,
  FederatedRoleSpec,
  IdentityCenterSpec,
  PermissionSetSpec,
  RoleMap,
} from '../../core/model/role-map.js';
import type { DataPath, Position } from './positions.js';
import { POLICY_ARN_RE, SAML_PROVIDER_ARN_RE, type RawConfig, type RawGroupRef } from './schema.js';
import type { DirectoryConfig, LoadedConfig } from './types.js';

/** What all of a role's inline policies may total, in characters without whitespace (IAM quotas). */
export const MAX_ROLE_INLINE_CHARS = 10_240;
/** Names the Identity Store refuses for users and groups (CreateGroup / CreateUser API reference). */
export const RESERVED_IDENTITY_STORE_NAMES: ReadonlySet<string> = new Set(['administrator', 'awsadministrators']);
/** What each cron field takes, for messages. */
const CRON_RANGES: Readonly<Record<string, string>> = {
  second: 'second 0-59',
  minute: 'minute 0-59',
  hour: 'hour 0-23',
  dayOfMonth: 'day of month 1-31',
  month: 'month 1-12 or JAN-DEC',
  dayOfWeek: 'day of week 0-7 or SUN-SAT',
};

export interface ResolveIssue {
  readonly path: DataPath;
  readonly message: string;
  /** Where exactly, when finer than the node at `path` (a JSON error inside a block scalar). */
  readonly position?: Position | undefined;
}

/** Locates a node (for messages that name another place, "first defined at line N"). */
export type Locator = (path: DataPath) => Position;
/** Position inside a string scalar: file position of the character at (line, column) of the string's content. */
export type StringLocator = (path: DataPath, line: number, column: number) => Position | undefined;

export interface ResolveContext {
  readonly file: string;
  readonly hash: string;
  readonly locate: Locator;
  readonly locateInString: StringLocator;
}

export type ResolveResult = { readonly ok: true; readonly config: LoadedConfig } | { readonly ok: false; readonly issues: readonly ResolveIssue[] };

function groupRef(g: RawGroupRef): GroupRef {
  if (g.dn !== undefined) return { by: 'dn', value: g.dn };
  if (g.sAMAccountName !== undefined) return { by: 'sAMAccountName', value: g.sAMAccountName };
  return { by: 'guid', value: (g.guid as string).toLowerCase() };
}

function describeGroup(g: GroupRef): string {
  return `${g.by} ${g.value}`;
}

function namedGroups(source: string): Set<string> {
  return new Set([...source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1] as string));
}

export function resolveConfig(raw: RawConfig, ctx: ResolveContext): ResolveResult {
  const issues: ResolveIssue[] = [];
  const issue = (path: DataPath, message: string, position?: Position): void => {
    issues.push({ path, message, ...(position ? { position } : {}) });
  };
  const lineOf = (path: DataPath): number => ctx.locate(path).line;
  const baseDir = dirname(ctx.file);
  const abs = (p: string): string => resolvePath(baseDir, p);

  // ----- accounts -----
  const accounts: Account[] = [];
  const aliasToId = new Map<string, AccountId>();
  const idToAlias = new Map<AccountId, string>();
  for (const [alias, value] of Object.entries(raw.accounts)) {
    const acct: Account = typeof value === 'string' ? { alias, id: value } : { alias, id: value.id, assumeRoleArn: value.assumeRoleArn, externalId: value.externalId };
    const other = idToAlias.get(acct.id);
    if (other !== undefined) {
      issue(['accounts', alias], `account ${acct.id} is already defined as '${other}' (line ${lineOf(['accounts', other])}): give each account one alias`);
      continue;
    }
    if (acct.assumeRoleArn !== undefined && !acct.assumeRoleArn.includes(`::${acct.id}:`)) {
      issue(['accounts', alias, 'assumeRoleArn'], `the role to assume must be in account ${acct.id} itself, got ${acct.assumeRoleArn}`);
    }
    idToAlias.set(acct.id, alias);
    aliasToId.set(alias, acct.id);
    accounts.push(acct);
  }
  const knownAliases = (): string => (aliasToId.size === 0 ? 'no accounts are defined' : `known: ${[...aliasToId.keys()].join(', ')}`);
  const accountFor = (path: DataPath, alias: string): AccountId | undefined => {
    const id = aliasToId.get(alias);
    if (id === undefined) issue(path, `unknown account alias '${alias}' (${knownAliases()})`);
    return id;
  };

  // ----- policies -----
  const policy = (path: DataPath, value: string | Record<string, unknown>): PolicyDocument | undefined => {
    let doc: unknown = value;
    if (typeof value === 'string') {
      try {
        doc = JSON.parse(value);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const at = /position (\d+)/.exec(msg);
        if (at) {
          const offset = Number(at[1]);
          const before = value.slice(0, offset);
          const line = before.split('\n').length;
          const column = offset - before.lastIndexOf('\n');
          const where = ctx.locateInString(path, line, column);
          // Node 22 and later (V8 12) end the message with their own "(line 3 column 36)": say it once.
          const reason = msg.replace(/ \(line \d+ column \d+\)$/, '');
          issue(path, `policy document is not valid JSON: ${reason} (line ${line}, column ${column} of the document)`, where);
        } else {
          issue(path, `policy document is not valid JSON: ${msg}`);
        }
        return undefined;
      }
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      issue(path, 'expected a policy document: a JSON object with Version and Statement');
      return undefined;
    }
    const stmt = (doc as Record<string, unknown>)['Statement'];
    const stmts = Array.isArray(stmt) ? stmt : stmt === undefined ? [] : [stmt];
    if (stmts.length === 0) {
      issue(path, 'policy document has no Statement');
      return undefined;
    }
    for (const [i, s] of stmts.entries()) {
      const effect = s !== null && typeof s === 'object' ? (s as Record<string, unknown>)['Effect'] : undefined;
      if (effect !== 'Allow' && effect !== 'Deny') {
        issue(path, `Statement${Array.isArray(stmt) ? `[${i}]` : ''} needs Effect "Allow" or "Deny"`);
        return undefined;
      }
    }
    return doc as PolicyDocument;
  };
  const policies = (path: DataPath, map: Readonly<Record<string, string | Record<string, unknown>>>): Record<string, PolicyDocument> => {
    const out: Record<string, PolicyDocument> = {};
    for (const [name, v] of Object.entries(map)) {
      const doc = policy([...path, name], v);
      if (doc) out[name] = doc;
    }
    return out;
  };
  const policyArnInAccount = (path: DataPath, arn: string, account: AccountId | undefined): void => {
    const m = /^arn:[^:]+:iam::(\d{12}):/.exec(arn);
    if (m && account !== undefined && m[1] !== account) {
      issue(path, `policy ${arn} lives in account ${m[1]}, but this role is in account ${account}: a role can only use AWS-managed policies or policies of its own account`);
    }
  };
  const samlName = (path: DataPath, value: string, account: AccountId | undefined): string => {
    const m = SAML_PROVIDER_ARN_RE.exec(value);
    if (!m?.groups) return value;
    if (account === undefined) {
      issue(path, 'a pattern rule applies to many accounts: give the SAML provider by name, not by ARN');
    } else if (m.groups['account'] !== account) {
      issue(path, `SAML provider ${value} is in account ${m.groups['account']}, but the role is in account ${account}`);
    }
    return m.groups['name'] as string;
  };

  // A role's inline policies together are at most 10,240 characters (IAM quotas; whitespace not counted).
  const inlineAggregate = (path: DataPath, docs: Readonly<Record<string, PolicyDocument>>): void => {
    const size = Object.values(docs).reduce((n, d) => n + JSON.stringify(d).replace(/\s/g, '').length, 0);
    if (size > MAX_ROLE_INLINE_CHARS) {
      issue(path, `the inline policies of one role total ${size} characters (whitespace not counted); IAM allows ${MAX_ROLE_INLINE_CHARS} for all of a role's inline policies together: move some into a managed policy`);
    }
  };

  // ----- federated roles -----
  const federatedRoles: FederatedRoleSpec[] = [];
  const roleSeen = new Map<string, number>();
  raw.federatedRoles.forEach((r, i) => {
    const path = ['federatedRoles', i];
    const account = accountFor([...path, 'account'], r.account);
    const key = `${account ?? r.account}/${r.roleName.toLowerCase()}`;
    const first = roleSeen.get(key);
    if (first !== undefined) {
      issue([...path, 'roleName'], `duplicate role ${r.roleName} in account ${r.account}: already defined at line ${lineOf(['federatedRoles', first, 'roleName'])} (IAM role names are unique per account, ignoring case)`);
    } else {
      roleSeen.set(key, i);
    }
    r.managedPolicyArns.forEach((arn, j) => policyArnInAccount([...path, 'managedPolicyArns', j], arn, account));
    if (r.permissionsBoundary !== undefined) policyArnInAccount([...path, 'permissionsBoundary'], r.permissionsBoundary, account);
    const inlinePolicies = policies([...path, 'inlinePolicies'], r.inlinePolicies);
    inlineAggregate([...path, 'inlinePolicies'], inlinePolicies);
    const samlProvider = samlName([...path, 'samlProvider'], r.samlProvider, account);
    if (account === undefined) return;
    federatedRoles.push({
      group: groupRef(r.group),
      account,
      roleName: r.roleName,
      path: r.path,
      description: r.description,
      maxSessionDuration: r.maxSessionDuration,
      permissionsBoundary: r.permissionsBoundary ?? null,
      managedPolicyArns: r.managedPolicyArns,
      inlinePolicies,
      tags: r.tags,
      samlProvider,
      allowTagSession: r.allowTagSession,
      adopt: r.adopt,
    });
  });

  // ----- pattern rules -----
  const federatedRolePatterns: FederatedRolePattern[] = [];
  raw.federatedRolePatterns.forEach((p, i) => {
    const path = ['federatedRolePatterns', i];
    try {
      new RegExp(p.regex);
      const groups = namedGroups(p.regex);
      const missing = ['account', 'role'].filter((g) => !groups.has(g));
      if (missing.length > 0) {
        issue([...path, 'regex'], `the regex must capture named groups (?<account>...) and (?<role>...); missing ${missing.map((g) => `(?<${g}>)`).join(' and ')}`);
      }
    } catch (e) {
      issue([...path, 'regex'], `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
    }
    // A customer-managed policy exists in one account only; a pattern spans accounts.
    const awsManagedOnly = (at: DataPath, arn: string): void => {
      if (!/^arn:[^:]+:iam::aws:policy\//.test(arn) && POLICY_ARN_RE.test(arn)) {
        issue(at, `a pattern rule applies to many accounts: only AWS-managed policies (arn:aws:iam::aws:policy/...) can be used by ARN, got ${arn}`);
      }
    };
    p.managedPolicyArns.forEach((arn, j) => awsManagedOnly([...path, 'managedPolicyArns', j], arn));
    if (p.permissionsBoundary !== undefined) awsManagedOnly([...path, 'permissionsBoundary'], p.permissionsBoundary);
    const inlinePolicies = policies([...path, 'inlinePolicies'], p.inlinePolicies);
    inlineAggregate([...path, 'inlinePolicies'], inlinePolicies);
    const samlProvider = samlName([...path, 'samlProvider'], p.samlProvider, undefined);
    federatedRolePatterns.push({
      regex: p.regex,
      template: {
        path: p.path,
        description: p.description,
        maxSessionDuration: p.maxSessionDuration,
        permissionsBoundary: p.permissionsBoundary ?? null,
        managedPolicyArns: p.managedPolicyArns,
        inlinePolicies,
        tags: p.tags,
        samlProvider,
        allowTagSession: p.allowTagSession,
        adopt: p.adopt,
      },
    });
  });

  // ----- Identity Center -----
  let identityCenter: IdentityCenterSpec | null = null;
  const ic = raw.identityCenter;
  if (ic !== undefined) {
    const icAccount = accountFor(['identityCenter', 'account'], ic.account);
    const permissionSets: PermissionSetSpec[] = [];
    const psLower = new Map<string, string>();
    for (const [name, ps] of Object.entries(ic.permissionSets)) {
      const path = ['identityCenter', 'permissionSets', name];
      const clash = psLower.get(name.toLowerCase());
      if (clash !== undefined) {
        issue(path, `duplicate permission set ${name}: already defined as ${clash} at line ${lineOf(['identityCenter', 'permissionSets', clash])} (names are unique ignoring case)`);
        continue;
      }
      psLower.set(name.toLowerCase(), name);
      const inlinePolicy = ps.inlinePolicy === undefined ? null : (policy([...path, 'inlinePolicy'], ps.inlinePolicy) ?? null);
      const b = ps.permissionsBoundary;
      permissionSets.push({
        name,
        description: ps.description,
        sessionDuration: ps.sessionDuration,
        managedPolicyArns: ps.managedPolicyArns,
        customerManagedPolicies: ps.customerManagedPolicies,
        inlinePolicy,
        permissionsBoundary: b === undefined ? null : typeof b === 'string' ? { managedPolicyArn: b } : { customerManaged: b.customerManaged },
        tags: ps.tags,
      });
    }
    const assignments: AssignmentSpec[] = [];
    const assignmentSeen = new Map<string, number>();
    ic.assignments.forEach((a, i) => {
      const path = ['identityCenter', 'assignments', i];
      if (!Object.hasOwn(ic.permissionSets, a.permissionSet)) {
        const known = Object.keys(ic.permissionSets);
        issue([...path, 'permissionSet'], `unknown permission set '${a.permissionSet}' (${known.length === 0 ? 'identityCenter.permissionSets is empty' : `known: ${known.join(', ')}`})`);
      }
      const ids: AccountId[] = [];
      a.accounts.forEach((alias, j) => {
        const id = accountFor([...path, 'accounts', j], alias);
        if (id !== undefined) ids.push(id);
      });
      const g = groupRef(a.group);
      if (g.by === 'sAMAccountName' && RESERVED_IDENTITY_STORE_NAMES.has(g.value.toLowerCase())) {
        issue([...path, 'group'], `${g.value} is a reserved name in the Identity Store (Administrator and AWSAdministrators cannot name a user or group): give the AD group another name`);
      }
      const key = `${groupRefKey(g)}|${a.permissionSet}`;
      const first = assignmentSeen.get(key);
      if (first !== undefined) {
        issue([...path, 'group'], `group ${describeGroup(g)} is already assigned permission set ${a.permissionSet} at line ${lineOf(['identityCenter', 'assignments', first, 'group'])} with other accounts: give one entry per group and permission set, listing all its accounts`);
      } else {
        assignmentSeen.set(key, i);
      }
      assignments.push({ group: g, permissionSet: a.permissionSet, accounts: ids });
    });
    if (icAccount !== undefined) {
      identityCenter = {
        instanceArn: ic.instanceArn,
        identityStoreId: ic.identityStoreId,
        account: icAccount,
        permissionSets,
        assignments,
        userAttributes: ic.userAttributes,
        adoptUsers: ic.adoptUsers,
        adoptGroups: ic.adoptGroups,
      };
    }
  }

  // ----- leavers -----
  const np = raw.leavers.iamUsers.namePattern;
  if (np !== undefined) {
    try {
      new RegExp(np);
      if (!namedGroups(np).has('sam')) issue(['leavers', 'iamUsers', 'namePattern'], 'the regex must capture the sAMAccountName as a named group (?<sam>...)');
    } catch (e) {
      issue(['leavers', 'iamUsers', 'namePattern'], `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // ----- schedule -----
  const checked = cron.validateDetailed(raw.schedule);
  if (!checked.valid) {
    const fields = raw.schedule.trim().split(/\s+/).length;
    // A wrong field count is one message; otherwise name each field that is out of range, with its range.
    const why =
      fields === 5 || fields === 6
        ? checked.errors.map((e) => `${e.field} '${e.value}' is out of range or unreadable (${CRON_RANGES[e.field] ?? 'see node-cron'})`).join('; ')
        : `expected 5 fields "minute hour day-of-month month day-of-week", or 6 with seconds first, e.g. "*/15 * * * *"; got ${fields}`;
    issue(['schedule'], `not a valid cron expression: '${raw.schedule}': ${why}`);
  }

  if (raw.posture.admins.min > raw.posture.admins.max) issue(['posture', 'admins', 'min'], `min (${raw.posture.admins.min}) is more than max (${raw.posture.admins.max})`);
  for (const [i, re] of (raw.posture.rotation?.users ?? []).entries()) {
    try {
      new RegExp(re);
    } catch (e) {
      issue(['posture', 'rotation', 'users', i], `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const rs = raw.reviews.schedule;
  if (rs !== undefined && !cron.validateDetailed(rs).valid) issue(['reviews', 'schedule'], `not a valid cron expression: '${rs}' (expected 5 or 6 fields, e.g. "0 6 1 1,4,7,10 *")`);
  const ps = raw.posture.schedule;
  if (ps !== undefined && !cron.validateDetailed(ps).valid) issue(['posture', 'schedule'], `not a valid cron expression: '${ps}' (expected 5 or 6 fields, e.g. "0 6 * * *")`);

  const tz = raw.daemon.timezone;
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      issue(['daemon', 'timezone'], `unknown time zone '${tz}' (expected an IANA name such as Europe/Berlin or UTC)`);
    }
  }

  // ----- directory -----
  let directory: DirectoryConfig;
  const d = raw.directory;
  if (d.type === 'ldap') {
    const insecure = d.url.startsWith('ldap://');
    if (insecure && !d.startTls && !d.allowInsecure) {
      issue(['directory', 'url'], 'ldap:// would send the bind password in clear: use ldaps://, or ldap:// with startTls: true (allowInsecure: true only for a lab)');
    }
    if (!insecure && d.startTls) {
      issue(['directory', 'startTls'], 'startTls is for ldap:// URLs; an ldaps:// connection is already TLS');
    }
    directory = {
      type: 'ldap',
      url: d.url,
      startTls: d.startTls,
      allowInsecure: d.allowInsecure,
      caFile: d.caFile === undefined ? undefined : abs(d.caFile),
      bindDn: d.bindDn,
      bindPassword:
        d.bindPassword.env !== undefined
          ? { env: d.bindPassword.env }
          : d.bindPassword.credential !== undefined
            ? { credential: d.bindPassword.credential }
            : { file: abs(d.bindPassword.file as string) },
      userBase: d.userBase,
      groupBase: d.groupBase ?? d.userBase,
      nesting: d.nesting,
      pageSize: d.pageSize,
      rangeSize: d.rangeSize,
      connectTimeoutMs: d.connectTimeoutMs,
      timeoutMs: d.timeoutMs,
    };
  } else {
    directory = { type: 'ldif', path: abs(d.path) };
  }

  if (issues.length > 0) return { ok: false, issues };

  const roleMap: RoleMap = {
    accounts,
    federatedRoles,
    federatedRolePatterns,
    identityCenter,
    leavers: {
      identityCenter: raw.leavers.identityCenter,
      revokeSessions: raw.leavers.revokeSessions,
      roleSessionName: raw.leavers.roleSessionName,
      iamUsers: {
        disableCredentials: raw.leavers.iamUsers.disableCredentials,
        linkTag: raw.leavers.iamUsers.linkTag,
        namePattern: raw.leavers.iamUsers.namePattern ?? null,
        keyAgeWarningDays: raw.leavers.iamUsers.keyAgeWarningDays,
      },
    },
    safety: raw.safety,
    ...(raw.posture.rotation ? { rotation: raw.posture.rotation } : {}),
  };
  return {
    ok: true,
    config: {
      path: ctx.file,
      hash: ctx.hash,
      roleMap,
      directory,
      aws: { region: raw.aws.region, endpoint: raw.aws.endpoint, maxAttempts: raw.aws.maxAttempts },
      schedule: raw.schedule,
      journal: { path: abs(raw.journal.path), ...(raw.journal.archive ? { archive: { ...raw.journal.archive, region: raw.journal.archive.region ?? raw.aws.region } } : {}) },
      daemon: raw.daemon,
      fastLane: { pollSeconds: raw.leavers.pollSeconds },
      ...(raw.ha ? { ha: { bucket: raw.ha.bucket, key: raw.ha.key, leaseSeconds: raw.ha.leaseSeconds, nodeId: raw.ha.nodeId ?? hostname().slice(0, 64) } } : {}),
      posture: {
        maxKeyAgeDays: raw.posture.maxKeyAgeDays,
        unusedDays: raw.posture.unusedDays,
        rootUseDays: raw.posture.rootUseDays,
        admins: raw.posture.admins,
        passwordPolicy: { ...raw.posture.passwordPolicy, maxAgeDays: raw.posture.passwordPolicy.maxAgeDays ?? null, reusePrevention: raw.posture.passwordPolicy.reusePrevention ?? null },
        schedule: raw.posture.schedule ?? null,
      },
      reviews: {
        reviewers: Object.fromEntries(Object.entries(raw.reviews.reviewers).map(([g, upn]) => [g.toLowerCase(), upn])),
        fallbackReviewer: raw.reviews.fallbackReviewer ?? null,
        ifNoDecision: raw.reviews.ifNoDecision,
        schedule: raw.reviews.schedule ?? null,
        dueDays: Number.parseInt(raw.reviews.due, 10),
      },
    },
  };
}
