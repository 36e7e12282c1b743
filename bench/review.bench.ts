/**
 * An access review campaign over 10,000 people holding 50,000 entitlements (5 roles each, 100 federated
 * roles in 3 accounts), 200 managers: start (desired state, population, routing, journal), export every
 * packet as CSV and JSON, import every packet filled in (one in ten rows revoked). Seconds and peak RSS
 * per step, with the load average beside them; a real SQLite journal in a temp dir.
 *
 * Target (issue 14): each step under 10 s.
 *
 * `npm run bench review`
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteJournal } from '../src/adapters/journal/sqlite-journal.js';
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser } from '../src/core/model/directory.js';
import { csvLine, parseCsv } from '../src/shell/review/csv.js';
import { exportPackets, importDecisions, requireCampaign, startCampaign } from '../src/shell/review/review.js';
import { roleMap, spec, WORKLOADS } from '../test/adapters/aws/iam-roles/fixtures.js';

const PEOPLE = 10_000;
const MANAGERS = 200;
const ROLES = 100;
const PER_PERSON = 5;

const guid = (kind: number, i: number): string => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const dn = (i: number): string => `CN=u${i},OU=Staff,DC=corp,DC=example`;

function directory(): DirectorySnapshot {
  const users: DirectoryUser[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const manager = i < MANAGERS ? (i === 0 ? undefined : 0) : i % MANAGERS;
    users.push({ guid: guid(1, i), dn: dn(i), sAMAccountName: `u${i}`, userPrincipalName: `u${i}@corp.example`, mail: `u${i}@corp.example`, displayName: `User ${i}`, department: `Dept ${i % 40}`, title: 'Engineer', disabled: false, ...(manager !== undefined ? { manager: dn(manager) } : {}) });
  }
  const groups: DirectoryGroup[] = [];
  for (let g = 0; g < ROLES; g++) {
    const members: string[] = [];
    for (let i = 0; i < PEOPLE; i++) if ((i + g) % (ROLES / PER_PERSON) === 0) members.push(guid(1, i));
    groups.push({ guid: guid(2, g), dn: `CN=AWS-R${g},OU=Groups,DC=corp,DC=example`, sAMAccountName: `AWS-R${g}`, name: `AWS-R${g}`, description: `Role ${g}`, members });
  }
  return { source: 'bench', users, groups };
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

async function step<T>(label: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  const s = (performance.now() - t0) / 1000;
  // maxRSS is the process's peak so far (kB): the peak up to the end of this step.
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`  ${label.padEnd(44)} ${s.toFixed(2).padStart(6)} s   peak RSS ${mb(peak).padStart(7)}   load ${loadavg().map((l) => l.toFixed(2)).join(' ')}   ${s < 10 ? 'ok (< 10 s)' : 'OVER the 10 s target'}`);
  return out;
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-review-bench-'));
  const journal = SqliteJournal.open(join(dir, 'journal.db'));
  try {
    const map = roleMap(Array.from({ length: ROLES }, (_, g) => spec(WORKLOADS[g % WORKLOADS.length] as string, `R${g}`, { group: { by: 'sAMAccountName', value: `AWS-R${g}` } })));
    const snapshot = directory();
    const reviews = { reviewers: {}, fallbackReviewer: 'auditor@corp.example', ifNoDecision: 'keep' as const, schedule: null, dueDays: 14 };
    console.log(`review campaign: ${PEOPLE} people, ${PEOPLE * PER_PERSON} entitlements, ${MANAGERS} managers (journal ${join(dir, 'journal.db')})`);
    const { campaign, rows } = await step('start (population, routing, journal)', () =>
      startCampaign({ config: { roleMap: map, reviews, path: 'bench' }, snapshot, history: { last: null }, db: journal.database, now: new Date(), name: 'BENCH-1' }),
    );
    console.log(`  -> ${rows.length} rows for ${campaign.population.reviewers} reviewers`);
    const rec = requireCampaign(journal.database, 'BENCH-1');
    const csvFiles = await step('export every packet, csv', () => exportPackets(rec, { format: 'csv', outDir: join(dir, 'csv') }));
    await step('export every packet, json', () => exportPackets(rec, { format: 'json', outDir: join(dir, 'json') }));
    await step('export every packet, html', () => exportPackets(rec, { format: 'html', outDir: join(dir, 'html') }));
    // Reviewers fill in their packets (not timed): approve all, revoke one row in ten.
    const filled = csvFiles.map((file) => {
      const [header, ...records] = parseCsv(readFileSync(file, 'utf8'), file);
      const h = header?.fields ?? [];
      const d = h.indexOf('decision');
      const j = h.indexOf('justification');
      const lines = records.map((r, n) => {
        const f = [...r.fields];
        f[d] = n % 10 === 0 ? 'revoke' : 'approve';
        f[j] = 'bench';
        return csvLine(f);
      });
      const out = `${file}.filled.csv`;
      writeFileSync(out, [csvLine(h), ...lines].join('\r\n'));
      return out;
    });
    const imported = await step(`import every packet's decisions (${filled.length} files)`, () => importDecisions(journal.database, 'BENCH-1', filled, new Date()).decisions.length);
    console.log(`  -> ${imported} decisions imported`);
  } finally {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
