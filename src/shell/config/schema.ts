/**
 * The configuration file's schema (zod v4). Every object is strict, so a misspelt key is an error,
 * not a silent no-op. The schema checks shape and single values; checks that relate values to each
 * other (account aliases, duplicates, policy JSON, cron, regexes) live in `cross-checks.ts`.
 * `npm run schema` writes the same schema as JSON Schema to config/rolemap.schema.json for editors.
 *
 * No transforms here: the JSON Schema must describe exactly what the file may contain. Turning the
 * file into the core's `RoleMap` is `to-role-map.ts`'s job.
 */
import { z } from 'zod';

// ---------- single values ----------

export const ACCOUNT_ID_RE = /^\d{12}$/;
export const ROLE_ARN_RE = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
export const POLICY_ARN_RE = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::(?:\d{12}|aws):policy\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/;
export const INSTANCE_ARN_RE = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:sso:::instance\/(?:sso)?ins-[a-zA-Z0-9-.]{16}$/;
export const SAML_PROVIDER_ARN_RE = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::(?<account>\d{12}):saml-provider\/(?<name>[\w._-]{1,128})$/;
export const SAML_PROVIDER_NAME_RE = /^[\w._-]{1,128}$/;
export const IDENTITY_STORE_ID_RE = /^(?:d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
export const ROLE_NAME_RE = /^[\w+=,.@-]{1,64}$/;
export const IAM_PATH_RE = /^\/(?:[\w+=,.@-]+\/)*$/;
export const PERMISSION_SET_NAME_RE = /^[\w+=,.@-]{1,32}$/;
export const ISO_HOURS_RE = /^PT(?:(?:[1-9]|1[0-2])H)$|^PT(?:[1-9]|1[01])H(?:[1-5]?[0-9])M$|^PT(?:[6-9][0-9]|[1-6][0-9]{2}|7[01][0-9]|720)M$/;
export const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const DEFAULT_ROLE_PATTERN = '^AWS-(?<account>\\d{12})-(?<role>[\\w+=,.@-]+)$';

const nonEmpty = (what: string) => z.string({ error: `expected ${what} (a string)` }).min(1, { error: `expected ${what}, got an empty string` });

const accountId = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number'
        ? 'an account id must be a quoted string of 12 digits, e.g. "012345678901" (unquoted, YAML reads a number and drops leading zeros)'
        : 'expected a 12-digit account id as a quoted string',
  })
  .regex(ACCOUNT_ID_RE, { error: 'expected exactly 12 digits, e.g. "012345678901"' });

const roleArn = z.string().regex(ROLE_ARN_RE, { error: 'expected an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>' });
const policyArn = z.string().regex(POLICY_ARN_RE, {
  error: 'expected a managed policy ARN: arn:aws:iam::aws:policy/<name> or arn:aws:iam::<12-digit account>:policy/<path><name>',
});
/** AWS allows 50 tags on a role or a permission set; rolemap adds its own `rolemap:owner`, so 49 are left. */
export const MAX_USER_TAGS = 49;
const tags = z
  .record(
    z
      .string()
      .min(1)
      .max(128)
      .refine((k) => !/^aws:/i.test(k), { error: 'tag keys starting with aws: are reserved for AWS' })
      .refine((k) => k !== 'rolemap:owner', { error: 'rolemap:owner is rolemap\'s own tag (set from safety.ownerId)' }),
    z.string().max(256, { error: 'a tag value has at most 256 characters' }),
    { error: 'expected a mapping of tag key to string value' },
  )
  .refine((t) => Object.keys(t).length <= MAX_USER_TAGS, {
    error: `at most ${MAX_USER_TAGS} tags: AWS allows 50 on a role or permission set, and rolemap adds its rolemap:owner tag`,
  })
  .describe('Tags: key -> value (strings); at most 49 (AWS allows 50, rolemap adds rolemap:owner).');

/** The characters IAM accepts in a role description (CreateRole / UpdateRole): tab, LF, CR, printable ASCII, Latin-1. */
// eslint-disable-next-line no-control-regex -- tab, LF and CR are exactly what IAM allows besides printable characters
export const IAM_DESCRIPTION_RE = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/;

/** An inline policy: a JSON string, or the document written as a YAML mapping. */
const policyDocument = z
  .union([z.string(), z.record(z.string(), z.unknown())], { error: 'expected a policy document: a JSON string or a YAML mapping with Version and Statement' })
  .describe('An IAM policy document, as a JSON string or a YAML mapping.');

/** A secret by reference only: an environment variable name or a file path; never inline. */
export const secretRefSchema = z
  .strictObject(
    {
      env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }).optional().describe('Environment variable holding the secret.'),
      file: nonEmpty('a file path').optional().describe('File holding the secret (relative to the config file); trailing newline ignored.'),
      credential: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,255}$/, { error: 'expected a systemd credential name (letters, digits and _.:-), as in LoadCredential=NAME:PATH' })
        .optional()
        .describe('systemd credential (LoadCredential=NAME:PATH in the unit), read from $CREDENTIALS_DIRECTORY/NAME.'),
    },
    {
      error: (iss) =>
        iss.code === 'invalid_type' && typeof iss.input === 'string'
          ? 'secrets are never written inline: use {env: VARIABLE_NAME}, {file: /path/to/secret} or {credential: NAME}'
          : 'expected {env: VARIABLE_NAME}, {file: PATH} or {credential: NAME}',
    },
  )
  .refine((v) => [v.env, v.file, v.credential].filter((x) => x !== undefined).length === 1, { error: 'give exactly one of env, file or credential' })
  .describe('A secret by reference: {env: NAME}, {file: PATH} or {credential: NAME} (systemd LoadCredential). Inline secrets are refused.');

/** An AD group: exactly one of dn, sAMAccountName, guid (objectGUID). */
export const groupRefSchema = z
  .strictObject(
    {
      dn: nonEmpty('a distinguished name').optional(),
      sAMAccountName: nonEmpty('a sAMAccountName').optional(),
      guid: z.string().regex(GUID_RE, { error: 'expected an objectGUID like 0a1b2c3d-0000-4000-8000-00000000abcd' }).optional(),
    },
    { error: 'expected a group reference: {dn: ...}, {sAMAccountName: ...} or {guid: ...}' },
  )
  .refine((g) => [g.dn, g.sAMAccountName, g.guid].filter((x) => x !== undefined).length === 1, {
    error: 'give exactly one of dn, sAMAccountName, guid',
  })
  .describe('An AD group by exactly one of dn, sAMAccountName or guid (objectGUID).');

// ---------- directory ----------

const ldapDirectory = z
  .strictObject({
    type: z.literal('ldap'),
    url: z.string().regex(/^ldaps?:\/\/[^/\s]+\/?$/, { error: 'expected ldaps://host[:port] (or ldap://host[:port] with startTls or allowInsecure)' }),
    startTls: z.boolean().default(false).describe('Upgrade an ldap:// connection with StartTLS.'),
    allowInsecure: z.boolean().default(false).describe('Allow plain ldap:// without TLS. Never in production: the bind password crosses the wire in clear.'),
    caFile: nonEmpty('a file path').optional().describe('PEM bundle of CAs to trust for the directory (relative to the config file).'),
    bindDn: nonEmpty('a bind DN').regex(/=|@/, { error: 'expected a DN (CN=svc,OU=...,DC=...) or a UPN (svc@example.com)' }),
    bindPassword: secretRefSchema,
    userBase: nonEmpty('a base DN'),
    groupBase: nonEmpty('a base DN').optional().describe('Defaults to userBase.'),
    nesting: z.enum(['client', 'in-chain']).default('client').describe('Nested groups: walked by rolemap from direct member values (default; measured faster) or resolved by AD (LDAP_MATCHING_RULE_IN_CHAIN).'),
    pageSize: z.int().min(1).max(1000).default(500),
    rangeSize: z.int().min(1).max(1500).default(1000),
    connectTimeoutMs: z.int().min(100).max(300_000).default(10_000),
    timeoutMs: z.int().min(100).max(600_000).default(30_000),
  })
  .describe('Active Directory over LDAP(S).');

const ldifDirectory = z
  .strictObject({
    type: z.literal('ldif'),
    path: nonEmpty('a file path').describe('LDIF snapshot (relative to the config file).'),
  })
  .describe('An offline LDIF snapshot (tests, demo).');

export const directorySchema = z.discriminatedUnion('type', [ldapDirectory, ldifDirectory], {
  error: "expected a directory with type: ldap (url, bindDn, bindPassword, userBase, ...) or type: ldif (path)",
});

// ---------- aws ----------

const awsSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, { error: 'expected an AWS region, e.g. eu-west-1' }),
  endpoint: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. http://127.0.0.1:4566' }).optional().describe('Endpoint for every client; otherwise the SDK honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>.'),
  maxAttempts: z.int().min(1).max(20).default(5).describe('SDK attempts per call including the first (adaptive retry).'),
});

// ---------- accounts ----------

const accountSchema = z.union(
  [
    accountId,
    z.strictObject({
      id: accountId,
      assumeRoleArn: roleArn.optional().describe('Role rolemap assumes to act in this account.'),
      externalId: z.string().min(2).max(1224).optional(),
    }),
  ],
  {
    error: (iss) =>
      typeof iss.input === 'number'
        ? 'an account id must be a quoted string of 12 digits, e.g. "012345678901" (unquoted, YAML reads a number and drops leading zeros)'
        : 'expected a quoted 12-digit account id or {id, assumeRoleArn?, externalId?}',
  },
);

// ---------- federated roles ----------

const roleTemplateShape = {
  path: z.string().regex(IAM_PATH_RE, { error: 'expected an IAM path: "/" or "/a/b/"' }).default('/'),
  description: z
    .string()
    .max(1000)
    .regex(IAM_DESCRIPTION_RE, { error: 'IAM accepts only tab, line feed, carriage return, printable ASCII and Latin-1 characters (U+00A1-U+00FF) in a role description' })
    .default(''),
  managedPolicyArns: z.array(policyArn).max(20).default([]),
  inlinePolicies: z.record(z.string().regex(/^[\w+=,.@-]{1,128}$/, { error: 'expected a policy name' }), policyDocument).default({}),
  permissionsBoundary: policyArn.optional(),
  maxSessionDuration: z.int().min(3600, { error: 'expected seconds between 3600 and 43200' }).max(43200, { error: 'expected seconds between 3600 and 43200' }).default(3600),
  tags: tags.default({}),
  samlProvider: z
    .string()
    .refine((s) => SAML_PROVIDER_NAME_RE.test(s) || SAML_PROVIDER_ARN_RE.test(s), {
      error: 'expected a SAML provider name (e.g. ADFS) or its ARN arn:aws:iam::<account>:saml-provider/<name>',
    })
    .describe('SAML provider name (or ARN) in the role\'s account.'),
  allowTagSession: z.boolean().default(false),
  adopt: z.boolean().default(false).describe('Take over an existing role of this name that lacks rolemap\'s owner tag.'),
};

const federatedRoleSchema = z.strictObject({
  group: groupRefSchema,
  account: nonEmpty('an account alias from accounts'),
  roleName: z.string().regex(ROLE_NAME_RE, { error: 'expected an IAM role name: 1-64 of letters, digits and +=,.@_-' }),
  ...roleTemplateShape,
});

const federatedRolePatternSchema = z.strictObject({
  regex: z.string().default(DEFAULT_ROLE_PATTERN).describe('Matched against group names; must capture (?<account>) and (?<role>).'),
  ...roleTemplateShape,
});

// ---------- Identity Center ----------

const customerManagedPolicyRef = z.strictObject({
  name: z.string().regex(/^[\w+=,.@-]{1,128}$/, { error: 'expected a policy name' }),
  path: z.string().regex(IAM_PATH_RE, { error: 'expected an IAM path: "/" or "/a/b/"' }).default('/'),
});

const permissionSetSchema = z.strictObject({
  description: z.string().max(700).default(''),
  sessionDuration: z.string().regex(ISO_HOURS_RE, { error: 'expected an ISO-8601 duration from PT1H to PT12H, e.g. PT8H' }).default('PT1H'),
  managedPolicyArns: z.array(policyArn).max(20).default([]),
  customerManagedPolicies: z.array(customerManagedPolicyRef).default([]),
  inlinePolicy: policyDocument.optional(),
  permissionsBoundary: z
    .union([policyArn, z.strictObject({ customerManaged: customerManagedPolicyRef })], {
      error: 'expected a managed policy ARN or {customerManaged: {name, path}}',
    })
    .optional(),
  tags: tags.default({}),
});

const assignmentSchema = z.strictObject({
  group: groupRefSchema,
  permissionSet: nonEmpty('a permission set name from identityCenter.permissionSets'),
  accounts: z.array(nonEmpty('an account alias')).min(1, { error: 'expected at least one account alias' }),
});

const identityCenterSchema = z.strictObject({
  instanceArn: z.string().regex(INSTANCE_ARN_RE, { error: 'expected an Identity Center instance ARN: arn:aws:sso:::instance/ssoins-<16 characters>' }),
  identityStoreId: z.string().regex(IDENTITY_STORE_ID_RE, { error: 'expected an identity store id, e.g. d-1234567890' }),
  account: nonEmpty('the alias of the account Identity Center lives in'),
  permissionSets: z.record(z.string().regex(PERMISSION_SET_NAME_RE, { error: 'expected a permission set name: 1-32 of letters, digits and +=,.@_-' }), permissionSetSchema).default({}),
  assignments: z.array(assignmentSchema).default([]),
  userAttributes: z
    .strictObject({
      userName: z.enum(['userPrincipalName', 'sAMAccountName', 'mail']).default('userPrincipalName'),
      displayName: z.enum(['displayName', 'userPrincipalName', 'sAMAccountName']).default('displayName'),
      email: z.enum(['mail', 'userPrincipalName']).default('mail'),
      groupDisplayName: z.enum(['name', 'sAMAccountName']).default('name'),
    })
    .default({ userName: 'userPrincipalName', displayName: 'displayName', email: 'mail', groupDisplayName: 'name' }),
  adoptUsers: z.boolean().default(false),
  adoptGroups: z.boolean().default(false),
});

// ---------- leavers, safety, schedule, journal, daemon ----------

/** HIPAA: documentation kept six years (45 CFR 164.316(b)(2)(i)); 2190 days. */
export const ARCHIVE_DEFAULT_RETENTION_DAYS = 2190;
const archiveSchema = z
  .strictObject({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name: 3-63 of a-z, 0-9, . and -' }).describe('S3 bucket with Object Lock enabled that receives the journal segments.'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()/-]{1,512}$/, { error: 'expected an S3 key prefix (letters, digits and !_.*\'()/-), without a trailing slash' })
      .refine((p) => !p.endsWith('/') && !p.startsWith('/'), { error: 'expected a key prefix without a leading or trailing slash, e.g. rolemap/journal' })
      .default('rolemap/journal')
      .describe('Key prefix of the segments: <prefix>/<seq>-<first row>-<last row>.json.gz.'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region, e.g. eu-west-1' }).optional().describe('Region of the bucket; aws.region when absent.'),
    retention: z
      .strictObject({
        mode: z.enum(['COMPLIANCE', 'GOVERNANCE']).describe('Object Lock mode of each segment: COMPLIANCE cannot be shortened or removed by anyone.'),
        days: z.int().min(1).max(36500).default(ARCHIVE_DEFAULT_RETENTION_DAYS).describe('Retain each segment this many days from its upload.'),
      })
      .default({ mode: 'COMPLIANCE', days: ARCHIVE_DEFAULT_RETENTION_DAYS }),
    timeoutSeconds: z.int().min(1).max(600).default(60).describe('Time box of one shipping pass (after a run; never delays a run).'),
  })
  .optional()
  .describe('Write-once copy of the journal in S3 (Object Lock): docs/journal.md#archive.');

const iamUsersDefaults = { disableCredentials: true, linkTag: 'rolemap:ad-account', keyAgeWarningDays: 90 };
const leaversSchema = z.strictObject({
  identityCenter: z.enum(['delete', 'remove-access']).default('delete'),
  revokeSessions: z.boolean().default(true),
  roleSessionName: z.enum(['userPrincipalName', 'sAMAccountName', 'mail']).default('userPrincipalName'),
  pollSeconds: z
    .int()
    .min(0)
    .max(3600)
    .default(30)
    .describe('The daemon\'s leaver fast lane polls the directory (LDAP) this often and revokes leavers at once; 0 turns it off.'),
  iamUsers: z
    .strictObject({
      disableCredentials: z.boolean().default(true),
      linkTag: z.string().min(1).max(128).default('rolemap:ad-account'),
      namePattern: z.string().optional().describe('Regex on IAM user names with a named group (?<sam>...) giving the sAMAccountName.'),
      keyAgeWarningDays: z.int().min(1).default(90),
    })
    .default(iamUsersDefaults),
});

const safetySchema = z.strictObject({
  ownerId: z.string().regex(/^[\w.:/=+@-]{1,64}$/, { error: 'expected an owner id: 1-64 of letters, digits and _.:/=+@-' }).describe('Value of the rolemap:owner tag.'),
  maxDeletes: z.int().min(0).default(10),
  maxDeletePercent: z.number().min(0).max(100).default(10),
  maxDeletePercentFloor: z.int().min(0).default(20).describe('maxDeletePercent applies only when rolemap manages more than this many objects; maxDeletes always applies.'),
  minDirectoryUsers: z.int().min(0).default(1),
  protectedPrincipals: z.array(nonEmpty('a principal name')).default([]),
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const daemonDefaults = { runAtStart: true, healthHost: '127.0.0.1', healthPort: 9464, logLevel: 'info' as const };
const daemonSchema = z.strictObject({
  runAtStart: z.boolean().default(true),
  timezone: z.string().min(1).optional().describe('IANA time zone of the schedule, e.g. Europe/Berlin; the host\'s when absent.'),
  healthHost: z.string().min(1).default('127.0.0.1').describe('Address the health and metrics server listens on.'),
  healthPort: z.int().min(0).max(65535).nullable().default(9464).describe('Port of /healthz and /metrics; null disables the server.'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
});

// ---------- active / standby (docs/daemon.md#active--standby) ----------

/** The shortest lease accepted: renewals at a third of it must still leave the time-boxed S3 calls room. */
export const HA_MIN_LEASE_SECONDS = 3;
const haSchema = z
  .strictObject({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name: 3-63 of a-z, 0-9, . and -' }).describe('S3 bucket holding the lease object.'),
    key: nonEmpty('an S3 object key').default('rolemap/lease.json').describe('Key of the lease object.'),
    leaseSeconds: z
      .int()
      .min(HA_MIN_LEASE_SECONDS)
      .max(3600)
      .default(60)
      .describe('How long a lease lasts without renewal; the holder renews at a third of it, a standby tries to take it as often.'),
    nodeId: z.string().regex(/^[\w.:@-]{1,64}$/, { error: 'expected a node id: 1-64 of letters, digits and _.:@-' }).optional().describe('This daemon\'s name in the lease and the journal; the host name when absent.'),
  })
  .optional()
  .describe('Active/standby: daemons that share this lease object, one of which applies at a time.');

// ---------- posture (credential and root posture report, docs/config.md#posture) ----------

const passwordPolicyMinimumDefaults = { minimumLength: 14, requireSymbols: false, requireNumbers: false, requireUppercase: false, requireLowercase: false, reusePrevention: 24 };
const postureDefaults = { maxKeyAgeDays: 90, unusedDays: 90, rootUseDays: 30, admins: { min: 2, max: 3 }, passwordPolicy: passwordPolicyMinimumDefaults };
const postureSchema = z
  .strictObject({
    maxKeyAgeDays: z.int().min(1).default(90).describe('An active access key older than this many days is a finding.'),
    unusedDays: z.int().min(1).default(90).describe('An active access key unused for this many days (never used: created that long ago) is a finding.'),
    rootUseDays: z.int().min(1).default(30).describe('Root signing in or using a key within this many days is a finding.'),
    admins: z
      .strictObject({ min: z.int().min(0).default(2), max: z.int().min(1).default(3) })
      .default({ min: 2, max: 3 })
      .describe('How many administrators (AdministratorAccess or Allow * on *) an account should have.'),
    passwordPolicy: z
      .strictObject({
        minimumLength: z.int().min(6).max(128).default(14),
        requireSymbols: z.boolean().default(false),
        requireNumbers: z.boolean().default(false),
        requireUppercase: z.boolean().default(false),
        requireLowercase: z.boolean().default(false),
        maxAgeDays: z.int().min(1).max(1095).optional().describe('Passwords must expire within this many days; absent: expiry not required.'),
        reusePrevention: z.int().min(1).max(24).optional().default(24),
      })
      .default(passwordPolicyMinimumDefaults)
      .describe('The least account password policy accepted.'),
    schedule: z.string().optional().describe('Cron expression: the daemon runs the posture report on it; absent: it does not.'),
    rotation: z
      .strictObject({
        maxKeyAgeDays: z.int().min(1).default(90),
        action: z.enum(['warn', 'deactivate']).default('warn'),
        users: z.array(nonEmpty('a regex on IAM user names')).default([]).describe('IAM user names (regexes) rotated besides those linked to AD.'),
      })
      .optional()
      .describe('Opt-in: plan over-age access keys of linked (or listed) IAM users as disable; never protected principals, never a deletion.'),
  })
  .default(postureDefaults);

// ---------- reviews (access re-certification, docs/review.md) ----------

const reviewsDefaults = { reviewers: {}, ifNoDecision: 'keep' as const, due: '14d' };
export const REVIEW_DUE_RE = /^[1-9]\d{0,2}d$/;
const reviewsSchema = z
  .strictObject({
    reviewers: z
      .record(nonEmpty('an AD group name'), nonEmpty('a reviewer UPN'))
      .default({})
      .describe('Per AD group (name): the UPN who reviews every grant through that group, instead of each person\'s manager.'),
    fallbackReviewer: nonEmpty('a reviewer UPN').optional().describe('Reviews a person whose manager chain gives nobody (no manager, a leaver, or the person themself).'),
    ifNoDecision: z.enum(['keep', 'revoke']).default('keep').describe('What happens to a row still undecided after the due date.'),
    schedule: z.string().optional().describe('Cron expression: the daemon starts a campaign on it; absent: it does not.'),
    due: z.string().regex(REVIEW_DUE_RE, { error: 'expected a number of days, e.g. "14d"' }).default('14d').describe('Default time to decide, in days ("14d").'),
  })
  .default(reviewsDefaults);

export const DEFAULT_SCHEDULE = '*/15 * * * *';

export const configSchema = z
  .strictObject({
    directory: directorySchema,
    aws: awsSchema,
    accounts: z.record(z.string().regex(/^[A-Za-z0-9][\w.-]{0,62}$/, { error: 'expected an alias: letters, digits, _ . and - (at most 63)' }), accountSchema),
    federatedRoles: z.array(federatedRoleSchema).default([]),
    federatedRolePatterns: z.array(federatedRolePatternSchema).default([]),
    identityCenter: identityCenterSchema.optional(),
    leavers: leaversSchema.default({ identityCenter: 'delete', revokeSessions: true, roleSessionName: 'userPrincipalName', pollSeconds: 30, iamUsers: iamUsersDefaults }),
    safety: safetySchema,
    schedule: z.string().default(DEFAULT_SCHEDULE).describe('Cron expression for the daemon (node-cron: 5 or 6 fields).'),
    journal: z
      .strictObject({ path: nonEmpty('a file path').default('rolemap.sqlite'), archive: archiveSchema })
      .default({ path: 'rolemap.sqlite' }),
    daemon: daemonSchema.default(daemonDefaults),
    ha: haSchema,
    posture: postureSchema,
    reviews: reviewsSchema,
  })
  .describe('rolemap configuration: see docs/config.md.');

export type RawConfig = z.output<typeof configSchema>;
export type RawFederatedRole = RawConfig['federatedRoles'][number];
export type RawPermissionSet = z.output<typeof permissionSetSchema>;
export type RawGroupRef = z.output<typeof groupRefSchema>;
