/**
 * The write-once archive through the real command line against the emulator (IAM, STS, Identity
 * Center and S3 with Object Lock) and the demo directory: a dry run ships nothing; an apply ships;
 * a failed upload leaves the leaver's revocation applied and is shipped by the next run; the local
 * journal deleted, `journal restore --archive` rebuilds it and `journal verify --archive` passes;
 * a segment edited in the emulator's storage is named by `journal verify --archive`.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseDocument } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { s3State, tamperObject } from '../aws-emulator/services/s3.js';
import { ADMIN_CREDENTIALS, HOME_ACCOUNT, PROD_ACCOUNT, REGION, awsEnv, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

const BUCKET = 'acme-rolemap-journal';
const PREFIX = 'bastion/journal';

let world: World;
let restoreEnv: () => void;
let s3: S3Client;

async function archivedKeys(): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/` }));
  return (out.Contents ?? []).map((c) => c.Key ?? '');
}

function disableLeaver(): void {
  const ldif = readFileSync(world.ldif, 'utf8');
  const disabled = ldif.replace(/(sAMAccountName: juergen\.mueller\n(?:[^\n]+\n)*?)userAccountControl: 512/, '$1userAccountControl: 514');
  expect(disabled).not.toBe(ldif);
  writeFileSync(world.ldif, disabled);
}

beforeEach(async () => {
  world = await startWorld();
  restoreEnv = useProcessEnv(awsEnv(world));
  s3 = new S3Client({ endpoint: world.emulator.url, region: REGION, forcePathStyle: true, credentials: ADMIN_CREDENTIALS, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
  // What an administrator grants rolemap on the archive bucket: write new objects with retention, read and list; never delete.
  await (await world.iam(HOME_ACCOUNT)).send(
    new PutUserPolicyCommand({
      UserName: 'rolemap',
      PolicyName: 'RolemapJournalArchive',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:PutObject', 's3:PutObjectRetention', 's3:GetObject'], Resource: `arn:aws:s3:::${BUCKET}/${PREFIX}/*` },
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}` },
        ],
      }),
    }),
  );
  const doc = parseDocument(readFileSync(world.config, 'utf8'));
  doc.setIn(['journal', 'path'], world.journal);
  doc.setIn(['journal', 'archive'], { bucket: BUCKET, prefix: PREFIX, retention: { mode: 'COMPLIANCE', days: 2190 } });
  writeFileSync(world.config, doc.toString());
  world.emulator.resetCalls();
});

afterEach(async () => {
  s3.destroy();
  restoreEnv();
  await world.stop();
});

describe('journal.archive through the command line', () => {
  it('a dry run ships nothing; an apply ships; a failed upload does not hold back a leaver\'s revocation and the next run ships its rows', async () => {
    const dry = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(dry.code, dry.stderr).toBe(2);
    expect(world.emulator.calls()['s3:PutObject'] ?? 0).toBe(0);
    expect(await archivedKeys()).toEqual([]);

    const apply = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(apply.code, apply.stderr).toBe(2);
    expect(apply.stderr).not.toContain('Not archived');
    const first = await archivedKeys();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(new RegExp(`^${PREFIX}/0000000001-1-\\d+\\.json\\.gz$`));

    // S3 fails every PutObject (after the SDK's retries) during the leaver's run.
    disableLeaver();
    world.emulator.injectFault({ kind: 'http500', service: 's3', operation: 'PutObject' });
    const leaver = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(leaver.code, leaver.stderr).toBe(2);
    expect(leaver.stderr).toMatch(/Not archived: .*PutObject.*The rows stay in the journal; the next run ships them\./);
    const { runs, events } = readJournal(world.journal);
    const leaverRun = runs.at(-1)?.id;
    const revoked = events.filter((e) => e.run_id === leaverRun && e.action === 'revoke' && e.status === 'applied');
    expect(revoked.length).toBeGreaterThan(0);
    // The deny of the leaver's sessions is on the role in AWS (the session-denied proof: test/shell/reconcile/leaver-sessions.test.ts).
    const prod = await world.iam(PROD_ACCOUNT);
    const deny = await prod.send(new GetRolePolicyCommand({ RoleName: 'PlatformAdmin', PolicyName: 'rolemap-revoked-sessions' })).catch(() => undefined);
    const anyRole = deny ?? (await prod.send(new GetRolePolicyCommand({ RoleName: 'DataAnalyst', PolicyName: 'rolemap-revoked-sessions' })).catch(() => undefined));
    expect(decodeURIComponent(anyRole?.PolicyDocument ?? '')).toMatch(/"aws:userid":"\*:juergen\.mueller@example\.com"/);
    expect(await archivedKeys()).toEqual(first);

    world.emulator.clearFaults();
    const next = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(next.code, next.stderr).toBe(0);
    const keys = await archivedKeys();
    expect(keys).toHaveLength(2);
    const lastRow = Math.max(...readJournal(world.journal).events.map((e) => e.id));
    expect(keys[1]).toMatch(new RegExp(`^${PREFIX}/0000000002-\\d+-${lastRow}\\.json\\.gz$`));

    const verify = await rolemap(['journal', 'verify', '--archive', '--config', world.config]);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    expect(verify.stdout).toContain('OK: every segment is locked, intact and linked, and the local journal holds exactly the archived rows.');
  });

  it('the local journal deleted, restore --archive rebuilds it on a new path; verify passes; an edited segment is named', async () => {
    const apply = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(apply.code, apply.stderr).toBe(2);
    const before = readJournal(world.journal);
    rmSync(world.journal);
    rmSync(`${world.journal}-wal`, { force: true });
    rmSync(`${world.journal}-shm`, { force: true });

    const restored = join(world.dir, 'restored.sqlite');
    const r = await rolemap(['journal', 'restore', '--archive', '--config', world.config, '--journal', restored]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Restored .*restored\.sqlite from s3:\/\/acme-rolemap-journal\/bastion\/journal\/: 1 segment, \d+ change rows\./);
    expect(r.stdout).toContain('Journal verify: OK');
    expect(readJournal(restored)).toEqual(before);
    const again = await rolemap(['journal', 'restore', '--archive', '--config', world.config, '--journal', restored]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists: a restore writes a new journal and never overwrites one');

    const verify = await rolemap(['journal', 'verify', '--archive', '--config', world.config, '--journal', restored]);
    expect(verify.code, verify.stdout).toBe(0);

    const [key] = await archivedKeys();
    tamperObject(s3State(world.emulator), BUCKET, key ?? '', (bytes) => gzipSync(Buffer.from(gunzipSync(bytes).toString('utf8').replace('"status":"applied"', '"status":"failed"'))));
    const tampered = await rolemap(['journal', 'verify', '--archive', '--config', world.config, '--journal', restored]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(`ARCHIVE DIFFERS: segment ${key ?? ''}: its bytes do not match the SHA-256 checksum stored with it`);
  });
});
