/**
 * Access reviews as HTML pages (pure: data in, string out). `renderPacketHtml` is a reviewer's packet, a
 * page a manager reads in a browser and can print with a decision column; `renderReportHtml` is the
 * auditor's evidence for a campaign. Both are self-contained: inline CSS only, no script, no fonts, no
 * images, no link to anything; a Content-Security-Policy of `default-src 'none'` says so to the browser
 * too, so that even a value that slipped past escaping could neither run nor fetch anything.
 *
 * Every value from AD or AWS (names, descriptions, titles, policy names) is escaped as text.
 * Decisions are recorded by filling in the CSV or JSON packet (`rolemap review decide`); the HTML page
 * is for reading, and printed and signed it is a paper record of the same rows.
 */
import type { Decision, EntitlementKind, ExecutedRevocation, Instant, Packet, ReportModel, ReviewRow, ReviewerStatus, Reviewer } from './types.js';

/** Text to HTML text or attribute value: & < > " ' escaped. */
export function escapeHtml(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const e = escapeHtml;

/** `2027-01-12T09:30:00.000Z` -> `2027-01-12 09:30 UTC`; anything not an instant is shown as given. */
export function formatInstant(at: Instant | undefined): string {
  if (at === undefined || at === '') return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?Z$/.exec(at);
  return m ? `${m[1]} ${m[2]} UTC` : at;
}
const day = (at: Instant | undefined): string => (at === undefined ? '' : (/^\d{4}-\d{2}-\d{2}/.exec(at)?.[0] ?? at));

export const KIND_LABEL: Record<EntitlementKind, string> = {
  'federated-role': 'Federated IAM role',
  'permission-set': 'Identity Center permission set',
  'iam-user': 'Linked IAM user',
};

/** The plain statement every page carries next to role last use. */
export const ROLE_LAST_USE_NOTE =
  'Role last use is per role, not per person: AWS records when anyone last used the role, so a recent date does not show that this person used it.';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 10.5pt; color: #111; margin: 1.5rem; line-height: 1.35; }
h1 { font-size: 1.45rem; margin: 0 0 .4rem; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .4rem; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0 .8rem; }
header dt { font-weight: 600; }
header dd { margin: 0; }
.hash, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85em; overflow-wrap: anywhere; }
.note { border-left: 3px solid #888; padding: .3rem .6rem; background: #f4f4f4; margin: .6rem 0; }
.bad { color: #a00; font-weight: 700; }
.ok { color: #060; font-weight: 700; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid #999; padding: .25rem .35rem; vertical-align: top; text-align: left; overflow-wrap: break-word; }
thead th { background: #e8e8e8; }
td.num, th.num { text-align: right; }
.sub { color: #444; font-size: .9em; }
ul.plain { margin: 0; padding-left: 1rem; }
.decision { width: 12rem; }
.choice { display: inline-block; margin-right: .9rem; white-space: nowrap; }
.box { display: inline-block; width: .95em; height: .95em; border: 1.5px solid #111; vertical-align: -.12em; margin-right: .3em; background: #fff; }
.line { display: block; border-bottom: 1px solid #666; height: 1.4em; margin-top: .25rem; }
.signature { margin-top: 1.5rem; display: grid; grid-template-columns: 1fr 1fr; gap: 2rem; }
.signature div { border-top: 1px solid #111; padding-top: .2rem; }
@page { size: landscape; margin: 10mm; }
@media print {
  body { margin: 0; font-size: 9pt; }
  thead { display: table-header-group; }
  tfoot { display: table-footer-group; }
  tr, td, th { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .note, header { break-inside: avoid; page-break-inside: avoid; }
  thead th { background: #e8e8e8 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

function page(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${e(CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${e(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const reviewerName = (r: Reviewer): string => (r.displayName !== undefined && r.displayName !== '' ? `${e(r.displayName)} <span class="sub">(${e(r.userPrincipalName)})</span>` : e(r.userPrincipalName));

function personCell(row: ReviewRow): string {
  const p = row.person;
  const name = p.displayName !== undefined && p.displayName !== '' ? p.displayName : p.sAMAccountName;
  const ids = [p.sAMAccountName, p.userPrincipalName, p.mail].filter((x, i, all): x is string => x !== undefined && x !== '' && all.indexOf(x) === i && !(i === 0 && x === name));
  return `<strong>${e(name)}</strong>${ids.map((x) => `<br><span class="sub">${e(x)}</span>`).join('')}`;
}

function deptCell(row: ReviewRow): string {
  const { department, title } = row.person;
  return [department, title].filter((x): x is string => x !== undefined && x !== '').map(e).join('<br>');
}

function entitlementCell(row: ReviewRow): string {
  const ent = row.entitlement;
  const keys = (ent.accessKeys ?? []).map((k) => `<li class="mono">${e(k.accessKeyId)} ${e(k.status)}${k.lastUsedAt !== undefined ? `, used ${e(formatInstant(k.lastUsedAt))}` : ', never used'}</li>`);
  const desc = row.context.description !== undefined && row.context.description !== '' ? `<br><span class="sub">${e(row.context.description)}</span>` : '';
  return `<strong>${e(ent.name)}</strong><br><span class="sub">${e(KIND_LABEL[ent.kind])}</span>${desc}${keys.length > 0 ? `<ul class="plain">${keys.join('')}</ul>` : ''}`;
}

const accountCell = (row: ReviewRow): string =>
  row.entitlement.accountAlias !== undefined && row.entitlement.accountAlias !== ''
    ? `${e(row.entitlement.accountAlias)}<br><span class="mono">${e(row.entitlement.accountId)}</span>`
    : `<span class="mono">${e(row.entitlement.accountId)}</span>`;

function groupCell(row: ReviewRow): string {
  const g = row.entitlement.group;
  if (g === undefined) return '<span class="sub">no AD group (linked to the person directly)</span>';
  const desc = g.description !== undefined && g.description !== '' ? `<br><span class="sub">${e(g.description)}</span>` : '';
  return `<strong>${e(g.name)}</strong>${desc}`;
}

const sinceCell = (row: ReviewRow): string =>
  row.entitlement.firstGrantedAt !== undefined ? e(day(row.entitlement.firstGrantedAt)) : '<span class="sub">before the journal\'s first record</span>';

const policiesCell = (row: ReviewRow): string =>
  row.context.policies.length === 0 ? '<span class="sub">none</span>' : `<ul class="plain">${row.context.policies.map((p) => `<li>${e(p)}</li>`).join('')}</ul>`;

function lastUseCell(row: ReviewRow): string {
  const lu = row.context.lastUsed;
  switch (row.entitlement.kind) {
    case 'federated-role':
      return lu.roleLastUsedAt !== undefined
        ? `role: ${e(formatInstant(lu.roleLastUsedAt))}${lu.roleLastUsedRegion !== undefined ? ` (${e(lu.roleLastUsedRegion)})` : ''}<br><span class="sub">per role, not per person</span>`
        : 'role: no use recorded by AWS<br><span class="sub">per role, not per person</span>';
    case 'iam-user':
      return lu.accessKeyLastUsedAt !== undefined ? `keys: ${e(formatInstant(lu.accessKeyLastUsedAt))}<br><span class="sub">this person's keys</span>` : 'keys: never used';
    case 'permission-set':
      return '<span class="sub">AWS records no last use for a permission set</span>';
  }
}

const DECISION_CELL =
  '<td class="decision"><span class="choice"><span class="box" role="img" aria-label="approve box"></span>Approve</span>' +
  '<span class="choice"><span class="box" role="img" aria-label="revoke box"></span>Revoke</span>' +
  '<span class="sub">Justification:</span><span class="line"></span><span class="line"></span></td>';

/** A reviewer's packet: one row per person and entitlement, with a decision column. */
export function renderPacketHtml(packet: Packet): string {
  const c = packet.campaign;
  const people = new Set(packet.rows.map((r) => r.person.objectGUID)).size;
  const rows = packet.rows.map(
    (r, i) =>
      `<tr data-row-id="${e(r.rowId)}"><td class="num">${i + 1}</td><td>${personCell(r)}</td><td>${deptCell(r)}</td><td>${entitlementCell(r)}</td><td>${accountCell(r)}</td>` +
      `<td>${groupCell(r)}</td><td>${sinceCell(r)}</td><td>${policiesCell(r)}</td><td>${lastUseCell(r)}</td>${DECISION_CELL}<td class="mono">${e(r.rowId)}</td></tr>`,
  );
  const body = `<header>
<h1>Access review ${e(c.name)}: packet for ${e(packet.reviewer.displayName ?? packet.reviewer.userPrincipalName)}</h1>
<dl>
<dt>Campaign</dt><dd>${e(c.name)} <span class="sub">(id <span class="mono">${e(c.id)}</span>)</span></dd>
<dt>Due</dt><dd>${e(formatInstant(c.due))}</dd>
<dt>Reviewer</dt><dd>${reviewerName(packet.reviewer)}</dd>
<dt>Started</dt><dd>${e(formatInstant(c.createdAt))}</dd>
<dt>Rows</dt><dd>${packet.rows.length} (${people} ${people === 1 ? 'person' : 'people'})</dd>
<dt>Packet sha256</dt><dd class="hash">${e(packet.sha256)}</dd>
</dl>
</header>
<p class="note">For each row, decide whether the person still needs this access: <strong>approve</strong> keeps it, <strong>revoke</strong> removes exactly this entitlement (and cuts the person's open sessions), even while they stay in the AD group. Record your decisions in the CSV or JSON packet of the same campaign and sha256 (<span class="mono">rolemap review decide</span>); a printed and signed copy of this page is a paper record of the same rows. Rows left undecided after the due date follow the campaign's rule for no decision.</p>
<p class="note">${e(ROLE_LAST_USE_NOTE)}</p>
<table class="rows">
<thead><tr><th class="num">#</th><th>Person</th><th>Department / title</th><th>Entitlement</th><th>Account</th><th>Granted by (AD group)</th><th>Since</th><th>Attached policies</th><th>Last use</th><th>Decision</th><th>Row id</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<div class="signature"><div>Reviewer signature</div><div>Date</div></div>
`;
  return page(`Access review ${c.name}: ${packet.reviewer.userPrincipalName}`, body);
}

const VERDICT: Record<Decision['verdict'], string> = { approve: 'approved', revoke: 'revoked' };

function reviewerStatusRows(statuses: readonly ReviewerStatus[]): string {
  return statuses
    .map(
      (s) =>
        `<tr><td>${reviewerName(s.reviewer)}</td><td class="num">${s.rows}</td><td class="num">${s.approved}</td><td class="num">${s.revoked}</td><td class="num">${s.pending}</td>` +
        `<td class="num${s.overdue > 0 ? ' bad' : ''}">${s.overdue}</td><td>${s.pending === 0 ? 'complete' : s.overdue > 0 ? '<span class="bad">overdue</span>' : 'pending'}</td></tr>`,
    )
    .join('\n');
}

function revocationRows(revs: readonly ExecutedRevocation[], byRow: ReadonlyMap<string, ReviewRow>): string {
  return revs
    .map((x) => {
      const row = byRow.get(x.rowId);
      const who = row !== undefined ? personCell(row) : `<span class="mono">${e(x.personGuid)}</span>`;
      return (
        `<tr data-row-id="${e(x.rowId)}"><td class="mono">${e(x.rowId)}</td><td>${who}</td><td>${e(x.entitlement)}</td><td class="mono">${e(x.runId)}</td><td class="mono">${e(x.changeAddress)}</td>` +
        `<td class="mono">${x.requestIds.length > 0 ? x.requestIds.map(e).join('<br>') : '<span class="bad">none recorded</span>'}</td><td>${e(formatInstant(x.at))}</td></tr>`
      );
    })
    .join('\n');
}

/** The auditor's evidence: population, each decision with reviewer and time, executed revocations, the journal's verify result, per-reviewer status. */
export function renderReportHtml(report: ReportModel): string {
  const c = report.campaign;
  const decisionOf = new Map(report.decisions.map((d) => [d.rowId, d]));
  const undecided = new Set(report.undecided.rowIds);
  const byRow = new Map(report.population.map((r) => [r.rowId, r]));
  const revokedRows = new Set(report.executedRevocations.map((x) => x.rowId));
  const counts = { approve: 0, revoke: 0 };
  for (const d of report.decisions) counts[d.verdict]++;
  const people = new Set(report.population.map((r) => r.person.objectGUID)).size;
  const v = report.journalVerify;
  const populationRows = report.population.map((r) => {
    const d = decisionOf.get(r.rowId);
    const decision =
      d !== undefined
        ? `<strong>${e(VERDICT[d.verdict])}</strong>`
        : undecided.has(r.rowId)
          ? `<span class="bad">no decision by the due date</span><br><span class="sub">ifNoDecision: ${e(report.undecided.ifNoDecision)}</span>`
          : '<span class="sub">pending</span>';
    return (
      `<tr data-row-id="${e(r.rowId)}"><td class="mono">${e(r.rowId)}</td><td>${personCell(r)}</td><td>${e(KIND_LABEL[r.entitlement.kind])}: <strong>${e(r.entitlement.name)}</strong></td><td>${accountCell(r)}</td>` +
      `<td>${r.entitlement.group !== undefined ? e(r.entitlement.group.name) : '<span class="sub">no AD group</span>'}</td><td>${reviewerName(r.reviewer)}<br><span class="sub">${e(r.routedBy)}${r.routingNote !== undefined ? `: ${e(r.routingNote)}` : ''}</span></td>` +
      `<td>${decision}</td><td>${d !== undefined ? e(d.justification) : ''}</td><td>${d !== undefined ? e(d.reviewer) : ''}</td><td>${d !== undefined ? e(formatInstant(d.decidedAt)) : ''}</td>` +
      `<td>${revokedRows.has(r.rowId) ? 'executed' : d?.verdict === 'revoke' ? '<span class="bad">not yet executed</span>' : ''}</td></tr>`
    );
  });
  const body = `<header>
<h1>Access review ${e(c.name)}: evidence report</h1>
<dl>
<dt>Campaign</dt><dd>${e(c.name)} <span class="sub">(id <span class="mono">${e(c.id)}</span>)</span></dd>
<dt>Scope</dt><dd>${c.scope.accounts.length === 0 && c.scope.groups.length === 0 ? 'every account and group of the role map' : [c.scope.accounts.length > 0 ? `accounts ${c.scope.accounts.map(e).join(', ')}` : '', c.scope.groups.length > 0 ? `groups ${c.scope.groups.map(e).join(', ')}` : ''].filter((x) => x !== '').join('; ')}</dd>
<dt>Started</dt><dd>${e(formatInstant(c.createdAt))}</dd>
<dt>Due</dt><dd>${e(formatInstant(c.due))}</dd>
<dt>Report generated</dt><dd>${e(formatInstant(report.generatedAt))}</dd>
<dt>Population</dt><dd>${report.population.length} rows, ${people} ${people === 1 ? 'person' : 'people'}, ${report.reviewers.length} ${report.reviewers.length === 1 ? 'reviewer' : 'reviewers'}</dd>
<dt>Decisions</dt><dd>${counts.approve} approved, ${counts.revoke} revoked, ${report.population.length - report.decisions.length} undecided</dd>
<dt>Executed revocations</dt><dd>${report.executedRevocations.length}</dd>
<dt>Journal verify</dt><dd id="journal-verify"><span class="${v.ok ? 'ok' : 'bad'}">${v.ok ? 'OK' : 'FAILED'}</span>: ${e(v.message)} <span class="sub">(${v.rows} rows checked)</span></dd>
</dl>
</header>
<p class="note">${e(ROLE_LAST_USE_NOTE)}</p>
<h2>Reviewers</h2>
<table class="reviewers">
<thead><tr><th>Reviewer</th><th class="num">Rows</th><th class="num">Approved</th><th class="num">Revoked</th><th class="num">Pending</th><th class="num">Overdue</th><th>Status</th></tr></thead>
<tbody>
${reviewerStatusRows(report.reviewers)}
</tbody>
</table>
<h2>Population and decisions</h2>
<table class="population">
<thead><tr><th>Row id</th><th>Person</th><th>Entitlement</th><th>Account</th><th>AD group</th><th>Reviewer (routed by)</th><th>Decision</th><th>Justification</th><th>Decided by</th><th>Decided at</th><th>Revocation</th></tr></thead>
<tbody>
${populationRows.join('\n')}
</tbody>
</table>
<h2>Executed revocations</h2>
${
  report.executedRevocations.length === 0
    ? '<p>None.</p>'
    : `<table class="revocations">
<thead><tr><th>Row id</th><th>Person</th><th>Entitlement</th><th>Journal run</th><th>Change</th><th>AWS request ids</th><th>At</th></tr></thead>
<tbody>
${revocationRows(report.executedRevocations, byRow)}
</tbody>
</table>`
}
<h2>Undecided past the due date</h2>
<p>${report.undecided.rowIds.length === 0 ? 'None.' : `${report.undecided.rowIds.length} rows; <span class="mono">reviews.ifNoDecision</span> is <strong>${e(report.undecided.ifNoDecision)}</strong>: ${report.undecided.ifNoDecision === 'keep' ? 'their access was kept' : 'their access is revoked as if decided so'}.`}</p>
`;
  return page(`Access review ${c.name}: evidence report`, body);
}
