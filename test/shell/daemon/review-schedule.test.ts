/**
 * The daemon's access reviews: a campaign started by the review job (the real start on the managers LDIF
 * fixture and a real journal), and the pending / overdue rows on /metrics.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/shell/config/index.js';
import { Daemon } from '../../../src/shell/daemon/daemon.js';
import { reviewCounts, startCampaignFromConfig } from '../../../src/shell/review/from-config.js';
import { FakeRun, captureLogger, settings } from './fake-run.js';
import type { TestConfig } from './fake-run.js';

const LDIF = fileURLToPath(new URL('../../fixtures/review/managers.ldif', import.meta.url));
let dir: string;
const daemons: Daemon<TestConfig>[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolemap-review-daemon-'));
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop('test end')));
  rmSync(dir, { recursive: true, force: true });
});

async function metric(daemon: Daemon<TestConfig>, name: string): Promise<string | undefined> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(`${name} `));
}

describe('daemon review schedule', () => {
  it('starts a campaign on reviews.schedule and shows its rows pending, then overdue after the due date', async () => {
    const file = join(dir, 'rolemap.yaml');
    writeFileSync(
      file,
      `directory: {type: ldif, path: ${LDIF}}
aws: {region: eu-west-1}
accounts: {dev: "333333333333", prod: "222222222222"}
federatedRoles:
  - {group: {sAMAccountName: AWS-Dev-Developer}, account: dev, roleName: Developer, samlProvider: ADFS}
  - {group: {sAMAccountName: AWS-Prod-Admin}, account: prod, roleName: Admin, samlProvider: ADFS}
safety: {ownerId: t}
journal: {path: journal.db}
reviews: {fallbackReviewer: auditor@corp.example, schedule: "0 6 1 1,4,7,10 *", due: 14d}
`,
    );
    const config = loadConfig(file);
    let now = new Date('2027-01-01T06:00:00.000Z');
    const { log, lines } = captureLogger();
    const daemon = new Daemon<TestConfig>({
      loadConfig: () => ({ name: 'v1', settings: { ...settings(join(dir, 'daemon-journal.db')), runAtStart: false, healthPort: 0 } }),
      settingsOf: (c) => c.settings,
      run: new FakeRun().run,
      log,
      reviews: { scheduleOf: () => config.reviews?.schedule ?? null, start: () => startCampaignFromConfig(config, { now, readAws: false }), counts: () => reviewCounts(config, now) },
    });
    daemons.push(daemon);
    await daemon.start();
    expect(lines.find((l) => l['msg'] === 'access review campaigns scheduled')?.['reviews']).toBe('0 6 1 1,4,7,10 *');
    expect(await metric(daemon, 'rolemap_review_pending_rows')).toBe('rolemap_review_pending_rows 0');

    await daemon.startReview();
    expect(lines.find((l) => l['msg'] === 'access review campaign started')).toMatchObject({ campaign: 'review-2027-01-01', rows: 8, due: '2027-01-15T06:00:00.000Z' });
    expect(await metric(daemon, 'rolemap_review_pending_rows')).toBe('rolemap_review_pending_rows 8');
    expect(await metric(daemon, 'rolemap_review_overdue_rows')).toBe('rolemap_review_overdue_rows 0');

    now = new Date('2027-01-16T00:00:00.000Z');
    await daemon.startReview(); // a second campaign that day or later gets its own id
    expect(lines.filter((l) => l['msg'] === 'access review campaign started').map((l) => l['campaign'])).toEqual(['review-2027-01-01', 'review-2027-01-16']);
    expect(await metric(daemon, 'rolemap_review_pending_rows')).toBe('rolemap_review_pending_rows 8');
    expect(await metric(daemon, 'rolemap_review_overdue_rows')).toBe('rolemap_review_overdue_rows 8');
  });

  it('a scheduled campaign reads AWS; an account it cannot read is logged as a warning and the campaign starts', async () => {
    const file = join(dir, 'rolemap.yaml');
    writeFileSync(
      file,
      `directory: {type: ldif, path: ${LDIF}}
aws: {region: eu-west-1, endpoint: "http://127.0.0.1:9", maxAttempts: 1}
accounts: {dev: "333333333333"}
federatedRoles:
  - {group: {sAMAccountName: AWS-Dev-Developer}, account: dev, roleName: Developer, samlProvider: ADFS}
safety: {ownerId: t}
journal: {path: journal.db}
reviews: {fallbackReviewer: auditor@corp.example, schedule: "0 6 1 1,4,7,10 *", due: 14d}
`,
    );
    const config = loadConfig(file);
    const now = new Date('2027-01-01T06:00:00.000Z');
    const { log, lines } = captureLogger();
    const daemon = new Daemon<TestConfig>({
      loadConfig: () => ({ name: 'v1', settings: { ...settings(join(dir, 'daemon-journal.db')), runAtStart: false, healthPort: 0 } }),
      settingsOf: (c) => c.settings,
      run: new FakeRun().run,
      log,
      reviews: { scheduleOf: () => config.reviews?.schedule ?? null, start: () => startCampaignFromConfig(config, { now }), counts: () => reviewCounts(config, now) },
    });
    daemons.push(daemon);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAREVIEWDAEMON0000');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-secret');
    try {
      await daemon.start();
      await daemon.startReview();
    } finally {
      vi.unstubAllEnvs();
    }
    expect(lines.find((l) => l['msg'] === 'access review campaign started')).toMatchObject({ campaign: 'review-2027-01-01', rows: 6 });
    const warn = lines.find((l) => typeof l['msg'] === 'string' && /^account 333333333333 not read: .+; its rows have no last use and its linked IAM users are not in the campaign$/.test(l['msg']));
    expect(warn).toMatchObject({ campaign: 'review-2027-01-01', account: '333333333333' });
  });
});
