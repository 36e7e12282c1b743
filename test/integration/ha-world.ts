/**
 * Two bastions on one AWS emulator (issue 16): `rolemap daemon` as real child processes (bin/ -> dist/),
 * each with its own journal and node id, sharing one lease object in the emulator's S3, an LDIF
 * directory and a SAML IdP trusted by the account, so a leaver's live session can be probed.
 * Used by test/integration/ha-takeover.test.ts and bench/takeover.bench.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSAMLProviderCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { startEmulator } from '../aws-emulator/index.js';
import type { Emulator } from '../aws-emulator/index.js';
import { CREDENTIALS, emulatorEnv, startDaemon } from '../support/daemon-process.js';
import type { DaemonProcess } from '../support/daemon-process.js';
import { createSamlIdp } from '../support/saml-idp.js';
import type { SamlIdp } from '../support/saml-idp.js';
import { samlLogin } from '../support/saml-login.js';
import type { SamlSession } from '../support/saml-login.js';

export const ACCOUNT = '111111111111';
export const BUCKET = 'rolemap-ha';
export const LEASE_KEY = 'rolemap/lease.json';
export const LEASE_SECONDS = 3;
/** Roles the leaver `user2` holds: more than the apply engine's concurrency (4), so a run has changes waiting. */
export const ROLES = ['R1', 'R2', 'R3', 'R4', 'R5', 'R6'] as const;
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

function guid(seed: string): string {
  return createHash('sha256').update(seed).digest().subarray(0, 16).toString('base64');
}

/** user1 is in R1; user2 in every role; user3 in R1 and stays. */
export function ldif(disabled: ReadonlySet<string> = new Set()): string {
  const base = 'DC=corp,DC=example';
  const groups: Record<string, string[]> = Object.fromEntries(ROLES.map((r) => [`AWS-${ACCOUNT}-${r}`, r === 'R1' ? ['user1', 'user2', 'user3'] : ['user2']]));
  const out: string[] = [];
  for (const sam of ['user1', 'user2', 'user3']) {
    out.push(
      [
        `dn: CN=${sam},OU=People,${base}`,
        'objectClass: user',
        `objectGUID:: ${guid(sam)}`,
        `sAMAccountName: ${sam}`,
        `userPrincipalName: ${sam}@corp.example`,
        `mail: ${sam}@corp.example`,
        `displayName: ${sam}`,
        `userAccountControl: ${disabled.has(sam) ? 514 : 512}`,
        'accountExpires: 0',
        ...Object.entries(groups).filter(([, m]) => m.includes(sam)).map(([g]) => `memberOf: CN=${g},OU=Groups,${base}`),
      ].join('\n'),
    );
  }
  for (const [g, members] of Object.entries(groups)) {
    out.push([`dn: CN=${g},OU=Groups,${base}`, 'objectClass: group', `objectGUID:: ${guid(g)}`, `sAMAccountName: ${g}`, `name: ${g}`, ...members.map((m) => `member: CN=${m},OU=People,${base}`)].join('\n'));
  }
  return `${out.join('\n\n')}\n`;
}

export interface HaWorld {
  readonly emulator: Emulator;
  readonly dir: string;
  readonly idp: SamlIdp;
  journal(node: string): string;
  /** Starts the daemon of node `a` or `b` (each its own config and journal). */
  start(node: string): DaemonProcess;
  setDisabled(users: readonly string[]): void;
  login(user: string, role: string): Promise<SamlSession>;
  /** The lease object as it is in the emulator's S3. */
  lease(): Promise<{ nodeId: string; epoch: number; acquiredAt: string; renewedAt: string; expiresAt: string } | null>;
  rows(node: string, sql: string, ...params: unknown[]): Record<string, unknown>[];
  close(): Promise<void>;
}

export const ARCHIVE_BUCKET = 'rolemap-journal';

/** `archive`: the journals also name `journal.archive` (an Object Lock bucket), so a standby pulls segments. */
export async function startHaWorld(options: { readonly archive?: boolean } = {}): Promise<HaWorld> {
  const emulator = await startEmulator({ homeAccount: ACCOUNT, baseCredentials: [CREDENTIALS] });
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-ha-'));
  const idp = await createSamlIdp();
  emulator.control('s3', 'createBucket', { bucket: BUCKET });
  if (options.archive) emulator.control('s3', 'createBucket', { bucket: ARCHIVE_BUCKET, objectLock: true });
  const iam = new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
  await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: idp.metadataXml() }));
  iam.destroy();
  const s3 = new S3Client({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 1 });
  const ldifPath = join(dir, 'directory.ldif');
  writeFileSync(ldifPath, ldif());
  const children: DaemonProcess[] = [];
  const journal = (node: string): string => join(dir, `journal-${node}.db`);
  const configFor = (node: string): string => {
    const path = join(dir, `rolemap-${node}.yaml`);
    writeFileSync(
      path,
      `directory:
  type: ldif
  path: ${ldifPath}
accounts:
  prod:
    id: "${ACCOUNT}"
federatedRolePatterns:
  - regex: '^AWS-(?<account>\\d{12})-(?<role>[A-Za-z0-9+=,.@_-]+)$'
    samlProvider: ADFS
    managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
safety:
  ownerId: ha
  minDirectoryUsers: 1
schedule: "* * * * * *"
journal:
  path: ${journal(node)}${options.archive ? `
  archive:
    bucket: ${ARCHIVE_BUCKET}
    prefix: ha/journal
    retention: {mode: GOVERNANCE, days: 1}` : ''}
daemon:
  runAtStart: true
  healthPort: 0
  logLevel: info
aws:
  region: us-east-1
ha:
  bucket: ${BUCKET}
  key: ${LEASE_KEY}
  leaseSeconds: ${LEASE_SECONDS}
  nodeId: ${node}
`,
    );
    return path;
  };
  return {
    emulator,
    dir,
    idp,
    journal,
    start: (node) => {
      const d = startDaemon(configFor(node), emulatorEnv(emulator.url, dir));
      children.push(d);
      return d;
    },
    setDisabled: (users) => writeFileSync(ldifPath, ldif(new Set(users))),
    login: (user, role) => samlLogin(emulator, { idp, user: `${user}@corp.example`, roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`, providerArn: `arn:aws:iam::${ACCOUNT}:saml-provider/ADFS` }),
    lease: async () => {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: LEASE_KEY }));
        return JSON.parse((await out.Body?.transformToString()) ?? 'null') as Awaited<ReturnType<HaWorld['lease']>>;
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchKey') return null;
        throw e;
      }
    },
    rows: (node, sql, ...params) => {
      let db: Database.Database;
      try {
        db = new Database(journal(node), { readonly: true, fileMustExist: true });
      } catch {
        return [];
      }
      try {
        return db.prepare(sql).all(...params) as Record<string, unknown>[];
      } catch (e) {
        if (/no such table/.test(String(e))) return [];
        throw e;
      } finally {
        db.close();
      }
    },
    close: async () => {
      for (const c of children) {
        if (c.child.exitCode === null && c.child.signalCode === null) {
          c.child.kill('SIGCONT');
          c.child.kill('SIGKILL');
        }
        await c.exited;
      }
      s3.destroy();
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The log line where a daemon became active, if any. */
export function becameActive(d: DaemonProcess): Record<string, unknown> | undefined {
  return d.lines.find((l) => typeof l['msg'] === 'string' && l['msg'].includes('this node is active'));
}
