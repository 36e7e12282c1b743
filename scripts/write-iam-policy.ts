/**
 * Writes config/iam-policy.json, the least-privilege policy for rolemap's own role, from the AWS
 * API calls the source makes: every `<Name>Command` and `paginate<Name>` imported from an SDK client
 * and used in src/**\/*.ts (constructed with `new`, called, or handed to a helper), attributed to its
 * SDK client by the file's imports (client-iam -> iam, client-sts -> sts,
 * client-identitystore -> identitystore, client-sso-admin -> sso).
 *
 *   npm run iam-policy            (node --import tsx scripts/write-iam-policy.ts)
 *
 * test/shell/iam-policy.test.ts fails when the file and the source disagree: re-run this script.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** SDK client package -> IAM service prefix. */
export const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-identitystore': 'identitystore',
  '@aws-sdk/client-sso-admin': 'sso',
  '@aws-sdk/client-s3': 's3',
};

/** Operations whose IAM action has another name (Service Authorization Reference, Amazon S3). */
const IAM_ACTION_OF: Readonly<Record<string, string>> = { 's3:ListObjectsV2': 's3:ListBucket', 's3:HeadObject': 's3:GetObject' };

/**
 * Actions a call needs besides its own when it passes a parameter (seen as `Param:` in the same file):
 * a PutObject with Object Lock retention headers also needs s3:PutObjectRetention (S3 user guide,
 * "Object Lock considerations": permissions; the emulator checks it the same way).
 */
const IMPLIED_BY_PARAMETER: Readonly<Record<string, readonly { readonly param: string; readonly action: string }[]>> = {
  's3:PutObject': [
    { param: 'ObjectLockMode', action: 's3:PutObjectRetention' },
    { param: 'ObjectLockRetainUntilDate', action: 's3:PutObjectRetention' },
  ],
};

/** Which statement each service's actions go into. */
const STATEMENTS: readonly { sid: string; services: readonly string[]; what: string }[] = [
  { sid: 'RolemapFederatedRolesInEachAccount', services: ['iam', 'sts'], what: 'federated IAM roles, their revocation policies, and leavers\' IAM user credentials, in each managed account' },
  { sid: 'RolemapIdentityCenter', services: ['identitystore', 'sso'], what: 'Identity Center users, groups, memberships, permission sets and assignments, in the Identity Center account' },
  { sid: 'RolemapJournalArchive', services: ['s3'], what: 'the journal.archive bucket (write segments with their Object Lock retention, read and list them; never delete) and the active/standby lease object (ha.bucket/ha.key); scope Resource to those buckets and prefixes' },
];

export interface ScanHit {
  readonly action: string;
  readonly file: string;
}

/** The `service:Action` calls one source file makes. Throws when a command's client cannot be told from the imports. */
export function scanSource(text: string, file = '<source>'): ScanHit[] {
  const packageOf = new Map<string, string>();
  for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+['"](@aws-sdk\/client-[a-z0-9-]+)['"]/g)) {
    for (const spec of (m[1] ?? '').split(',')) {
      const parts = spec.trim().replace(/^type\s+/, '').split(/\s+as\s+/);
      const local = (parts[1] ?? parts[0] ?? '').trim();
      const imported = (parts[0] ?? '').trim();
      if (local !== '' && m[2]) packageOf.set(local, `${m[2]}#${imported}`);
    }
  }
  const hits: ScanHit[] = [];
  const body = text
    .replace(/import\s+(?:type\s+)?\{[^}]*\}\s+from\s+['"][^'"]+['"];?/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const escape = (x: string): string => x.replace(/[$]/g, '\\$');
  for (const [local, origin] of packageOf) {
    const [pkg, imported] = origin.split('#') as [string, string];
    const isCommand = imported.endsWith('Command');
    const isPaginator = /^paginate[A-Z]/.test(imported);
    if (!isCommand && !isPaginator) continue;
    // Referenced at all outside the imports (\`new X(\`, or the class handed to a helper) counts as called.
    const used = new RegExp(`(?<![\\w$])${escape(local)}(?![\\w$])`).test(body);
    if (!used) continue;
    const prefix = SERVICE_PREFIX[pkg];
    if (!prefix) throw new Error(`${file}: ${pkg} has no IAM service prefix in scripts/write-iam-policy.ts; add it`);
    const action = `${prefix}:${isCommand ? imported.replace(/Command$/, '') : imported.replace(/^paginate/, '')}`;
    const iamAction = IAM_ACTION_OF[action] ?? action;
    hits.push({ action: iamAction, file });
    for (const { param, action: implied } of IMPLIED_BY_PARAMETER[iamAction] ?? []) {
      if (new RegExp(`(?<![\\w$])${param}\\s*:`).test(body) && !hits.some((h) => h.action === implied)) hits.push({ action: implied, file });
    }
  }
  // A command constructed here but not imported from an SDK client (re-exported elsewhere) cannot be attributed.
  for (const m of text.matchAll(/new\s+([A-Za-z0-9_]+Command)\s*\(/g)) {
    if (m[1] && !packageOf.has(m[1])) throw new Error(`${file}: ${m[1]} is not imported from an @aws-sdk/client-* package, so its IAM action cannot be told`);
  }
  return hits;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every action the source under `root/src` calls, with the files that call it. */
export function scanActions(root: string): Map<string, string[]> {
  const actions = new Map<string, string[]>();
  for (const file of tsFiles(join(root, 'src'))) {
    for (const hit of scanSource(readFileSync(file, 'utf8'), relative(root, file))) {
      actions.set(hit.action, [...new Set([...(actions.get(hit.action) ?? []), hit.file])].sort());
    }
  }
  return new Map([...actions].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: string;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export function buildPolicy(actions: Iterable<string>): PolicyDocument {
  const all = [...new Set(actions)].sort();
  const statements: PolicyStatement[] = [];
  for (const s of STATEMENTS) {
    const mine = all.filter((a) => s.services.includes(a.split(':')[0] ?? ''));
    if (mine.length > 0) statements.push({ Sid: s.sid, Effect: 'Allow', Action: mine, Resource: '*' });
  }
  const placed = new Set(statements.flatMap((s) => s.Action));
  const orphans = all.filter((a) => !placed.has(a));
  if (orphans.length > 0) throw new Error(`actions of no statement: ${orphans.join(', ')}`);
  return { Version: '2012-10-17', Statement: statements };
}

export function policyText(root: string): string {
  return `${JSON.stringify(buildPolicy(scanActions(root).keys()), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, '..');
  const target = join(root, 'config', 'iam-policy.json');
  writeFileSync(target, policyText(root));
  const n = scanActions(root).size;
  console.log(`wrote ${relative(root, target)}: ${n} actions`);
  for (const s of STATEMENTS) console.log(`  ${s.sid}: ${s.what}`);
}
