import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED, SqliteJournal, listChanges, showRun, verifyJournal } from '../../../src/adapters/journal/index.js';
import { ADMINS, ALICE, BOB, PROD, READERS, changeOf, entitlement, icUser, manualClock, membership, planOf, role, runStart, tempDir } from './fixtures.js';

/** Known secrets of the kind rolemap handles: its own AWS keys and session token, and the LDAP bind password. */
const SECRETS = {
  AWS_ACCESS_KEY_ID: 'AKIAJOURNALTEST0FAKE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYJOURNALFAKE',
  AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEJOURNAL//////////wEaCXVzLWVhc3QtMSJHMEUCIQDfakefakefake',
  ROLEMAP_BIND_PASSWORD: 'Corr3ct-Horse-Battery-Staple!"quoted"',
} as const;

describe('no secret reaches the journal', () => {
  const tmp = tempDir();
  const file = tmp.file('journal.db');
  const saved: Record<string, string | undefined> = {};

  beforeAll(() => {
    for (const [k, v] of Object.entries(SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    tmp.cleanup();
  });

  function scan(path: string): string[] {
    if (!existsSync(path)) return [];
    const bytes = readFileSync(path);
    return Object.entries(SECRETS).flatMap(([name, value]) =>
      [value, JSON.stringify(value).slice(1, -1)].some((form) => bytes.includes(Buffer.from(form, 'utf8'))) ? [`${name} in ${path}`] : [],
    );
  }

  it('a full cycle with secrets in the config, the environment and in error messages leaves none in the database file or its WAL', () => {
    const config = `ldap:\n  url: ldaps://dc1.corp.example.com\n  bindDn: CN=svc-rolemap,OU=Service,DC=corp,DC=example,DC=com\n  bindPassword: "${SECRETS.ROLEMAP_BIND_PASSWORD}"\njournal:\n  path: ${file}\n`;
    const clock = manualClock('2026-05-01T08:00:00.000Z');
    const journal = SqliteJournal.open(file, { clock, secrets: [SECRETS.ROLEMAP_BIND_PASSWORD] });
    journal.startRun({ ...runStart('secret-run', '2026-05-01T08:00:00.000Z'), configHash: createHash('sha256').update(config).digest('hex') });
    const plan = planOf([
      changeOf(1, 'create', icUser(ALICE)),
      changeOf(2, 'create', membership(ADMINS, ALICE)),
      changeOf(3, 'update', role(PROD, 'Admin')),
      changeOf(4, 'disable', {
        kind: 'iam_user_credentials',
        id: `${PROD}/bob-legacy`,
        account: PROD,
        name: 'bob-legacy',
        owned: false,
        principal: { guid: BOB.guid, name: BOB.name },
        attrs: { accessKeys: { AKIALEAVERKEY0000001: 'Active' }, loginProfile: true },
      }),
    ]);
    journal.recordPlan('secret-run', plan);
    const hooks = journal.hooks('secret-run');
    const [c1, c2, c3, c4] = plan.changes;
    if (!c1 || !c2 || !c3 || !c4) throw new Error('fixture');
    hooks.preApply?.(c1);
    hooks.postApply?.(c1, { requestIds: ['req-1'], detail: { userId: 'u-1' } });
    hooks.preApply?.(c2);
    // An SDK error that echoes the signing credential, and one from a misconfigured client.
    hooks.applyFailed?.(
      c2,
      Object.assign(new Error(`The request signature we calculated does not match. Credential=${SECRETS.AWS_ACCESS_KEY_ID}/20260501/us-east-1/identitystore/aws4_request`), {
        name: 'InvalidSignatureException',
        $metadata: { requestId: 'req-2' },
      }),
    );
    hooks.preApply?.(c3);
    hooks.applyFailed?.(c3, new Error(`client config {"secretAccessKey":"${SECRETS.AWS_SECRET_ACCESS_KEY}","sessionToken":"${SECRETS.AWS_SESSION_TOKEN}"}`));
    hooks.skipped?.(c4, `bind as CN=svc-rolemap with password ${SECRETS.ROLEMAP_BIND_PASSWORD} failed`);
    journal.recordEntitlements('secret-run', clock().toISOString(), [entitlement(ALICE, PROD, 'Admin', ADMINS), entitlement(BOB, PROD, 'Reader', READERS)]);
    journal.finishRun('secret-run', { outcome: 'failed', finishedAt: clock().toISOString(), error: `LDAP bind failed for password "${SECRETS.ROLEMAP_BIND_PASSWORD}"` });

    // While the writer is open, most of it sits in the -wal file.
    expect([...scan(file), ...scan(`${file}-wal`), ...scan(`${file}-shm`)]).toEqual([]);

    // The masked text is still there for people, and the chain is intact.
    const lines = listChanges(journal.database, { run: 'secret-run' }, clock());
    expect(lines.find((l) => l.seq === 2)?.error).toBe(`InvalidSignatureException: The request signature we calculated does not match. Credential=${REDACTED}/20260501/us-east-1/identitystore/aws4_request`);
    expect(lines.find((l) => l.seq === 4)?.error).toBe(`bind as CN=svc-rolemap with password ${REDACTED} failed`);
    // A leaver's access key id is an identifier the auditor needs, not rolemap's secret: it stays.
    expect(JSON.stringify(lines.find((l) => l.seq === 4)?.before)).toContain('AKIALEAVERKEY0000001');
    expect(showRun(journal.database, 'secret-run')?.run.error).toBe(`LDAP bind failed for password "${REDACTED}"`);
    expect(verifyJournal(journal.database).ok).toBe(true);
    journal.close();

    // After close the WAL is checkpointed into the main file.
    expect([...scan(file), ...scan(`${file}-wal`)]).toEqual([]);
    expect(readFileSync(file).includes(Buffer.from('AKIALEAVERKEY0000001'))).toBe(true);
  });
});
