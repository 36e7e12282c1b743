/**
 * Access reviews in the core, on an LDIF directory with managers (test/fixtures/review/managers.ldif) read
 * by the real LDIF source: reviewer routing, packet contents checked against values written out by hand
 * from the fixture (and the packet hash recomputed here from its definition), decision refusals, and the
 * effect of a standing revocation on the desired state.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { LdifDirectorySource } from '../../../src/adapters/directory/ldif/ldif-source.js';
import { computeDesired } from '../../../src/core/desired/desired.js';
import type { DirectorySnapshot } from '../../../src/core/model/directory.js';
import { aliasOf } from '../../../src/core/model/role-map.js';
import type { Campaign, DecisionInput, ReviewRow } from '../../../src/core/review/index.js';
import { ReviewerRouter, applyReviewRevocations, buildPackets, reviewerStatus, snapshotPopulation, standingRevocations, validateDecisions } from '../../../src/core/review/index.js';
import { groupSelection } from '../../../src/shell/reconcile/run-once.js';
import { DEV, PROD, roleMap, spec } from '../../adapters/aws/iam-roles/fixtures.js';

const LDIF = fileURLToPath(new URL('../../fixtures/review/managers.ldif', import.meta.url));
const NOW = new Date('2027-01-05T09:00:00.000Z');
const MAP = roleMap([
  spec(DEV, 'Developer', { group: { by: 'sAMAccountName', value: 'AWS-Dev-Developer' }, description: 'Developer access to dev', managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }),
  spec(PROD, 'Admin', { group: { by: 'sAMAccountName', value: 'AWS-Prod-Admin' }, managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] }),
]);
const SETTINGS: { reviewers: Record<string, string>; fallbackReviewer: string | null } = { reviewers: { 'aws-prod-admin': 'secops@corp.example' }, fallbackReviewer: 'auditor@corp.example' };
const CAMPAIGN: Campaign = { id: 'Q1-2027', name: 'Q1-2027', scope: { accounts: [], groups: [] }, createdAt: NOW.toISOString(), due: '2027-01-19T09:00:00.000Z', population: { people: 0, rows: 0, reviewers: 0 } };

let snapshot: DirectorySnapshot;
beforeAll(async () => {
  snapshot = await new LdifDirectorySource({ path: LDIF }).read(groupSelection(MAP));
});

function population(settings = SETTINGS): ReturnType<typeof snapshotPopulation> {
  const desired = computeDesired(snapshot, MAP, NOW, { last: null });
  return snapshotPopulation({ campaignId: CAMPAIGN.id, scope: CAMPAIGN.scope, snapshot, entitlements: desired.entitlements, resources: desired.resources, router: new ReviewerRouter(snapshot.users, settings, NOW), aliasOf: aliasOf(MAP) });
}
const route = (rows: readonly ReviewRow[]): string[] => rows.map((r) => `${r.person.sAMAccountName} ${r.entitlement.name} -> ${r.reviewer.userPrincipalName} (${r.routedBy})`);

// Canonical JSON as docs/review.md defines it (keys sorted at every level, no whitespace, undefined omitted), written here apart from the product's.
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canon(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('reviewer routing on the managers fixture', () => {
  it('routes to the AD manager, past a disabled manager to theirs, to the fallback without a manager or for their own manager, and per group override (but never to the person themself)', () => {
    const { rows, unroutable } = population();
    expect(unroutable).toEqual([]);
    expect(route(rows).sort()).toEqual(
      [
        'asmith Developer -> mmeyer@corp.example (manager)',
        'cboss Developer -> auditor@corp.example (configured-fallback)',
        'jdoe Admin -> secops@corp.example (group-override)',
        'jdoe Developer -> mmeyer@corp.example (manager)',
        'orphan Developer -> auditor@corp.example (configured-fallback)',
        'pnew Developer -> cboss@corp.example (manager-of-manager)',
        'secops Admin -> cboss@corp.example (manager)',
        'selfie Developer -> auditor@corp.example (configured-fallback)',
      ].sort(),
    );
    const pnew = rows.find((r) => r.person.sAMAccountName === 'pnew');
    expect(pnew?.routingNote).toBe('manager lleaver is disabled');
    const secops = rows.find((r) => r.person.sAMAccountName === 'secops');
    expect(secops?.routingNote).toMatch(/secops@corp\.example, the reviewer of group AWS-Prod-Admin, is the person themself/);
  });

  it('refuses self-review: with the fallback being the person (or none), people with no one above them are unroutable, named', () => {
    const { rows, unroutable } = population({ ...SETTINGS, fallbackReviewer: 'cboss@corp.example' });
    expect(rows.some((r) => r.person.sAMAccountName === 'cboss')).toBe(false);
    expect(unroutable).toEqual([expect.stringMatching(/^nobody can review cboss \(7e000000-0000-4000-8000-0000000000c0\): no manager in AD; the fallback reviewer cboss@corp\.example is the person themself$/)]);
    const none = population({ reviewers: {}, fallbackReviewer: null });
    expect(none.unroutable.map((m) => m.split(' ')[3])).toEqual(['cboss', 'orphan', 'selfie']);
    expect(none.unroutable.find((m) => m.includes('selfie'))).toMatch(/selfie is their own manager; set reviews\.fallbackReviewer/);
  });
});

describe('packets', () => {
  it('one per reviewer with the rows and context the fixture gives, sealed by sha256 over canonical JSON', () => {
    const packets = buildPackets(CAMPAIGN, population().rows);
    expect(packets.map((p) => [p.reviewer.userPrincipalName, p.rows.map((r) => `${r.person.sAMAccountName}/${r.entitlement.name}`)])).toEqual([
      ['auditor@corp.example', ['cboss/Developer', 'orphan/Developer', 'selfie/Developer']],
      ['cboss@corp.example', ['pnew/Developer', 'secops/Admin']],
      ['mmeyer@corp.example', ['asmith/Developer', 'jdoe/Developer']],
      ['secops@corp.example', ['jdoe/Admin']],
    ]);
    const mmeyer = packets[2];
    expect(mmeyer?.reviewer).toEqual({ objectGUID: '7e000000-0000-4000-8000-0000000000a1', userPrincipalName: 'mmeyer@corp.example', displayName: 'M. Meyer' });
    const jdoeDev = mmeyer?.rows[1];
    expect(jdoeDev?.person).toEqual({ objectGUID: '7e000000-0000-4000-8000-0000000000b1', sAMAccountName: 'jdoe', userPrincipalName: 'jdoe@corp.example', displayName: 'John Doe', mail: 'jdoe@corp.example', department: 'Engineering', title: 'Developer' });
    expect(jdoeDev?.entitlement).toEqual({
      kind: 'federated-role',
      accountId: DEV,
      accountAlias: 'dev',
      name: 'Developer',
      group: { dn: 'CN=AWS-Dev-Developer,OU=Groups,DC=corp,DC=example', name: 'AWS-Dev-Developer', guid: '7e000000-0000-4000-8000-0000000000d1', description: 'Developers: read access to dev' },
    });
    expect(jdoeDev?.context).toEqual({ description: 'Developer access to dev', policies: ['ReadOnlyAccess'], lastUsed: { perRoleNotPerPerson: true } });
    expect(packets[3]?.rows[0]?.context.policies).toEqual(['AdministratorAccess']);
    // Row ids: sha256(guid NUL kind NUL account NUL name), first 16 hex.
    expect(jdoeDev?.rowId).toBe(sha(`7e000000-0000-4000-8000-0000000000b1\u0000federated-role\u0000${DEV}\u0000Developer`).slice(0, 16));
    for (const p of packets) expect(p.sha256).toBe(sha(canon({ campaignId: 'Q1-2027', reviewer: p.reviewer.userPrincipalName.toLowerCase(), rows: p.rows })));
    expect(new Set(packets.flatMap((p) => p.rows.map((r) => r.rowId))).size).toBe(8);
  });
});

describe('decision import', () => {
  const line = (n: number, over: Partial<DecisionInput>, rows: readonly ReviewRow[], packets: ReturnType<typeof buildPackets>): DecisionInput => {
    const r = rows.find((x) => x.person.sAMAccountName === 'jdoe' && x.entitlement.name === 'Developer') as ReviewRow;
    const p = packets.find((x) => x.reviewer.userPrincipalName === 'mmeyer@corp.example');
    return { line: n, campaignId: 'Q1-2027', packetSha256: p?.sha256 ?? '', rowId: r.rowId, decision: 'revoke', justification: 'left the project', reviewer: 'mmeyer@corp.example', ...over };
  };

  it('accepts the reviewer\'s decisions and refuses, naming the line and row: another campaign, a wrong hash, the wrong reviewer, a row not in the population', () => {
    const { rows } = population();
    const packets = buildPackets(CAMPAIGN, rows);
    const ok = validateDecisions(CAMPAIGN, rows, [line(2, {}, rows, packets), line(3, { rowId: rows.find((r) => r.person.sAMAccountName === 'asmith')?.rowId ?? '', decision: '' }, rows, packets)], NOW.toISOString(), 'mm.csv');
    expect(ok).toMatchObject({ ok: true, skipped: 1, decisions: [{ verdict: 'revoke', reviewer: 'mmeyer@corp.example', justification: 'left the project' }] });

    const bad = validateDecisions(
      CAMPAIGN,
      rows,
      [line(2, { campaignId: 'Q4-2026' }, rows, packets), line(3, { packetSha256: 'f'.repeat(64) }, rows, packets), line(4, { reviewer: 'jdoe@corp.example' }, rows, packets), line(5, { rowId: '0123456789abcdef' }, rows, packets), line(6, { decision: 'maybe' }, rows, packets)],
      NOW.toISOString(),
      'mm.csv',
    );
    expect(bad.ok).toBe(false);
    const errors = bad.ok ? [] : bad.errors;
    const id = line(0, {}, rows, packets).rowId;
    expect(errors).toEqual([
      `mm.csv line 2: row ${id} is for campaign "Q4-2026", not "Q1-2027"`,
      expect.stringMatching(new RegExp(`^mm\\.csv line 3: row ${id} \\(jdoe, federated-role Developer in dev\\): packet sha256 f{64} does not match the packet of mmeyer@corp\\.example`)),
      `mm.csv line 4: row ${id} (jdoe, federated-role Developer in dev) was decided by "jdoe@corp.example", who is not its reviewer (mmeyer@corp.example)`,
      'mm.csv line 5: row 0123456789abcdef was not in the population of campaign Q1-2027',
      `mm.csv line 6: row ${id} (jdoe, federated-role Developer in dev): decision "maybe" is neither approve nor revoke`,
    ]);
  });
});

describe('status and the effect on desired state', () => {
  it('a revoke takes exactly that grant out of the desired entitlements, with the reason and a warning to remove the AD membership; a later approval restores it', () => {
    const { rows } = population();
    const packets = buildPackets(CAMPAIGN, rows);
    const jdoeDev = rows.find((r) => r.person.sAMAccountName === 'jdoe' && r.entitlement.name === 'Developer') as ReviewRow;
    const decision = { campaignId: 'Q1-2027', rowId: jdoeDev.rowId, verdict: 'revoke' as const, justification: 'moved team', reviewer: 'mmeyer@corp.example', decidedAt: '2027-01-12T10:00:00.000Z', packetSha256: packets[2]?.sha256 ?? '' };
    const status = reviewerStatus(CAMPAIGN, rows, [decision], NOW);
    expect(status.map((s) => [s.reviewer.userPrincipalName, s.rows, s.revoked, s.pending, s.overdue])).toEqual([
      ['auditor@corp.example', 3, 0, 3, 0],
      ['cboss@corp.example', 2, 0, 2, 0],
      ['mmeyer@corp.example', 2, 1, 1, 0],
      ['secops@corp.example', 1, 0, 1, 0],
    ]);
    expect(reviewerStatus(CAMPAIGN, rows, [decision], new Date('2027-02-01T00:00:00Z'))[2]).toMatchObject({ revoked: 1, pending: 0, overdue: 1 });

    const q1 = { campaign: CAMPAIGN, ifNoDecision: 'keep' as const, rows, decisions: [decision] };
    const desired = computeDesired(snapshot, MAP, NOW, { last: null });
    const filtered = applyReviewRevocations(desired, standingRevocations([q1], NOW));
    const held = (d: typeof desired): string[] => [...d.entitlements].filter((e) => e.userName === 'jdoe').map((e) => e.target).sort();
    expect(held(desired)).toEqual(['Admin', 'Developer']);
    expect(held(filtered)).toEqual(['Admin']);
    expect(filtered.entitlements.length).toBe(desired.entitlements.length - 1);
    expect(filtered.reviewRevocations?.map((r) => r.reason)).toEqual(['revoked in review Q1-2027 by M. Meyer on 2027-01-12']);
    expect(filtered.warnings).toContain(`jdoe: role Developer in ${DEV} revoked in review Q1-2027 by M. Meyer on 2027-01-12, but AD still grants it through AWS-Dev-Developer: remove jdoe from that group in AD`);

    const q2c = { ...CAMPAIGN, id: 'Q2-2027', name: 'Q2-2027', createdAt: '2027-04-01T00:00:00.000Z', due: '2027-04-15T00:00:00.000Z' };
    const q2 = { campaign: q2c, ifNoDecision: 'keep' as const, rows: rows.map((r) => ({ ...r, campaignId: 'Q2-2027' })), decisions: [{ ...decision, campaignId: 'Q2-2027', verdict: 'approve' as const, decidedAt: '2027-04-03T00:00:00.000Z' }] };
    expect(standingRevocations([q1, q2], new Date('2027-04-05T00:00:00Z')).size).toBe(0);
    // Undecided in Q2 with ifNoDecision keep: the Q1 revocation stands.
    expect([...standingRevocations([q1, { ...q2, decisions: [] }], new Date('2027-05-01T00:00:00Z')).keys()]).toEqual([jdoeDev.rowId]);
    // ifNoDecision revoke: every undecided row past due is revoked.
    expect(standingRevocations([{ ...q1, decisions: [], ifNoDecision: 'revoke' }], new Date('2027-02-01T00:00:00Z')).size).toBe(8);
    expect(standingRevocations([{ ...q1, decisions: [], ifNoDecision: 'revoke' }], NOW).size).toBe(0);
  });
});
