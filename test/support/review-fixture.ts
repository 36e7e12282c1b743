/**
 * A review campaign for the HTML renderers' tests, built the way `rolemap review start` builds one: the
 * real LDIF directory source reads test/fixtures/review/managers-hostile.ldif (the managers fixture with
 * markup in a displayName, a department and a group description), computeDesired and snapshotPopulation
 * make the rows, buildPackets seals the packets, buildReport makes the auditor's report from decisions
 * written here (one revoke executed, with request ids).
 */
import { fileURLToPath } from 'node:url';
import { LdifDirectorySource } from '../../src/adapters/directory/ldif/ldif-source.js';
import { computeDesired } from '../../src/core/desired/desired.js';
import { aliasOf } from '../../src/core/model/role-map.js';
import type { Campaign, Decision, Packet, ReportModel, ReviewRow } from '../../src/core/review/types.js';
import { ReviewerRouter, buildPackets, buildReport, snapshotPopulation } from '../../src/core/review/index.js';
import { groupSelection } from '../../src/shell/reconcile/run-once.js';
import { DEV, PROD, roleMap, spec } from '../adapters/aws/iam-roles/fixtures.js';

export const HOSTILE_LDIF = fileURLToPath(new URL('../fixtures/review/managers-hostile.ldif', import.meta.url));
export const NOW = new Date('2027-01-05T09:00:00.000Z');
export const HOSTILE_DISPLAY_NAME = "<script>document.title='pwned'</script>John Doe";
export const HOSTILE_DEPARTMENT = 'R&D "Platform" <b>bold</b>';
export const HOSTILE_GROUP_DESCRIPTION = '<img src=https://evil.example/x.png> admins & ops';
/** jdoe's linked IAM user in dev (an `iam-user` row) with one used and one unused key; Developer's last use. */
export const LINKED_IAM_USER = { account: DEV, userName: 'jdoe-ci', adAccount: 'jdoe', accessKeys: [{ accessKeyId: 'AKIAJDOECI0000000001', status: 'Active' as const, lastUsedAt: '2027-01-03T08:30:00.000Z' }, { accessKeyId: 'AKIAJDOECI0000000002', status: 'Inactive' as const }] };
export const DEVELOPER_LAST_USED = { at: '2027-01-04T16:45:00.000Z', region: 'eu-central-1' };

const MAP = roleMap([
  spec(DEV, 'Developer', { group: { by: 'sAMAccountName', value: 'AWS-Dev-Developer' }, description: 'Developer access to dev', managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }),
  spec(PROD, 'Admin', { group: { by: 'sAMAccountName', value: 'AWS-Prod-Admin' }, managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] }),
]);
const SETTINGS = { reviewers: { 'aws-prod-admin': 'secops@corp.example' }, fallbackReviewer: 'auditor@corp.example' };

export interface ReviewFixture {
  readonly campaign: Campaign;
  readonly rows: readonly ReviewRow[];
  readonly packets: readonly Packet[];
  readonly report: ReportModel;
  readonly decisions: readonly Decision[];
}

export async function reviewFixture(): Promise<ReviewFixture> {
  const snapshot = await new LdifDirectorySource({ path: HOSTILE_LDIF }).read(groupSelection(MAP));
  const desired = computeDesired(snapshot, MAP, NOW, { last: null });
  const base: Campaign = { id: 'Q1-2027', name: 'Q1-2027', scope: { accounts: [], groups: [] }, createdAt: NOW.toISOString(), due: '2027-01-19T09:00:00.000Z', population: { people: 0, rows: 0, reviewers: 0 } };
  const { rows, unroutable } = snapshotPopulation({ campaignId: base.id, scope: base.scope, snapshot, entitlements: desired.entitlements, resources: desired.resources, router: new ReviewerRouter(snapshot.users, SETTINGS, NOW),
    aliasOf: aliasOf(MAP),
    roleLastUsed: new Map([[`${DEV}/Developer`, DEVELOPER_LAST_USED]]),
    iamUsers: [LINKED_IAM_USER],
    now: NOW,
  });
  if (unroutable.length > 0) throw new Error(`fixture: unroutable rows ${JSON.stringify(unroutable)}`);
  const campaign: Campaign = { ...base, population: { people: new Set(rows.map((r) => r.person.objectGUID)).size, rows: rows.length, reviewers: new Set(rows.map((r) => r.reviewer.userPrincipalName.toLowerCase())).size } };
  const packets = buildPackets(campaign, rows);
  const hashOf = (r: ReviewRow): string => packets.find((p) => p.rows.some((x) => x.rowId === r.rowId))?.sha256 ?? '';
  // jdoe's Admin revoked (by the group override secops) and executed; asmith approved; the rest pending.
  const jdoeAdmin = rows.find((r) => r.person.sAMAccountName === 'jdoe' && r.entitlement.name === 'Admin');
  const asmith = rows.find((r) => r.person.sAMAccountName === 'asmith');
  if (jdoeAdmin === undefined || asmith === undefined) throw new Error('fixture: jdoe Admin / asmith rows missing');
  const decisions: Decision[] = [
    { campaignId: campaign.id, rowId: jdoeAdmin.rowId, verdict: 'revoke', justification: 'Moved to <QA> & no longer on call', reviewer: jdoeAdmin.reviewer.userPrincipalName, decidedAt: '2027-01-12T10:15:00.000Z', packetSha256: hashOf(jdoeAdmin) },
    { campaignId: campaign.id, rowId: asmith.rowId, verdict: 'approve', justification: 'Still on the dev team', reviewer: asmith.reviewer.userPrincipalName, decidedAt: '2027-01-12T11:00:00.000Z', packetSha256: hashOf(asmith) },
  ];
  const report = buildReport({
    campaign,
    ifNoDecision: 'keep',
    rows,
    decisions,
    executedRevocations: [{ rowId: jdoeAdmin.rowId, personGuid: jdoeAdmin.person.objectGUID, entitlement: `${PROD}/Admin`, runId: 'run-0042', changeAddress: `iam_role_revocations.${PROD}/Admin`, requestIds: ['8f2c1d3e-0000-4000-8000-00000000aa01', '8f2c1d3e-0000-4000-8000-00000000aa02'], at: '2027-01-12T10:20:00.000Z' }],
    journalVerify: { ok: true, rows: 57, message: 'hash chain intact' },
    now: new Date('2027-01-20T09:00:00.000Z'),
  });
  return { campaign, rows, packets, report, decisions };
}
