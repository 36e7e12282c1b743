/**
 * The review HTML renderers and the Entra CSV on a campaign built from the hostile managers fixture
 * (real LDIF source, real population and packets): every row and value present, every AD value escaped
 * (a displayName that is a <script> is text), nothing that could load anything.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { renderPacketHtml, renderReportHtml, escapeHtml, ROLE_LAST_USE_NOTE } from '../../../src/core/review/render-html.js';
import { ENTRA_CSV_HEADER, toEntraCsv, uuidV5 } from '../../../src/core/review/entra-csv.js';
import { parseCsv } from '../../../src/shell/review/csv.js';
import { HOSTILE_DEPARTMENT, HOSTILE_DISPLAY_NAME, HOSTILE_GROUP_DESCRIPTION, reviewFixture, type ReviewFixture } from '../../support/review-fixture.js';

let fx: ReviewFixture;
beforeAll(async () => {
  fx = await reviewFixture();
});

/** Every tag name and every attribute name in the page, to check nothing active is in it. */
const tags = (html: string): string[] => [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => (m[1] as string).toLowerCase());

describe('escapeHtml', () => {
  it('escapes the five characters that matter in text and attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(escapeHtml(undefined)).toBe('');
  });
});

describe('renderPacketHtml', () => {
  it('the fixture has the hostile values the escaping tests are about', () => {
    const jdoe = fx.rows.find((r) => r.person.sAMAccountName === 'jdoe');
    expect(jdoe?.person.displayName).toBe(HOSTILE_DISPLAY_NAME);
    expect(jdoe?.person.department).toBe(HOSTILE_DEPARTMENT);
    expect(fx.rows.some((r) => r.entitlement.group?.description === HOSTILE_GROUP_DESCRIPTION)).toBe(true);
  });

  it('renders AD markup as text: no script, img or b element, the escaped text instead', () => {
    for (const p of fx.packets) {
      const html = renderPacketHtml(p);
      expect(new Set(tags(html))).not.toContain('script');
      expect(new Set(tags(html))).not.toContain('img');
      expect(new Set(tags(html))).not.toContain('b');
      // No attribute that could point anywhere (the only URL in the page is escaped text from AD).
      const attrs = [...html.matchAll(/<[a-zA-Z][^>]*>/g)].flatMap((t) => [...t[0].replace(/"[^"]*"/g, '""').matchAll(/\s([a-zA-Z-]+)=/g)].map((m) => (m[1] as string).toLowerCase()));
      expect(new Set(attrs)).toEqual(new Set(['lang', 'charset', 'http-equiv', 'content', 'name', 'class', 'data-row-id', 'role', 'aria-label']));
    }
    const jdoePackets = fx.packets.filter((p) => p.rows.some((r) => r.person.sAMAccountName === 'jdoe')).map(renderPacketHtml);
    expect(jdoePackets.length).toBeGreaterThan(0);
    for (const html of jdoePackets) expect(html).toContain('&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;John Doe');
    expect(jdoePackets.join('')).toContain('R&amp;D &quot;Platform&quot; &lt;b&gt;bold&lt;/b&gt;');
    expect(fx.packets.map(renderPacketHtml).join('')).toContain('&lt;img src=https://evil.example/x.png&gt; admins &amp; ops');
  });

  it('has the header (campaign name, id, due, reviewer, sha256), one row per person and entitlement, and the decision column', () => {
    for (const p of fx.packets) {
      const html = renderPacketHtml(p);
      expect(html).toContain(`<title>Access review Q1-2027: ${escapeHtml(p.reviewer.userPrincipalName)}</title>`);
      expect(html).toContain(p.sha256);
      expect(html).toContain('2027-01-19 09:00 UTC');
      expect(html).toContain(escapeHtml(p.reviewer.userPrincipalName));
      const rowIds = [...html.matchAll(/<tr data-row-id="([^"]+)"/g)].map((m) => m[1]);
      expect(rowIds).toEqual(p.rows.map((r) => r.rowId));
      expect(html).toContain('<th>Decision</th>');
      expect(html.match(/aria-label="approve box"/g)?.length).toBe(p.rows.length);
      expect(html.match(/aria-label="revoke box"/g)?.length).toBe(p.rows.length);
      expect(html).toContain(escapeHtml(ROLE_LAST_USE_NOTE));
      for (const r of p.rows) {
        expect(html).toContain(escapeHtml(r.entitlement.name));
        expect(html).toContain(r.entitlement.accountId);
        if (r.entitlement.group) expect(html).toContain(escapeHtml(r.entitlement.group.name));
        for (const pol of r.context.policies) expect(html).toContain(escapeHtml(pol));
      }
    }
  });

  it('is self-contained: a CSP of default-src none, inline style only, no script, link, img, iframe, object or font', () => {
    const html = renderPacketHtml(fx.packets[0] as (typeof fx.packets)[number]);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`);
    const used = new Set(tags(html));
    for (const t of ['script', 'link', 'img', 'iframe', 'object', 'embed', 'svg', 'form', 'input', 'base']) expect(used).not.toContain(t);
    expect(html).not.toMatch(/@import|@font-face|url\(/);
    expect(html).toMatch(/@media print \{[^]*thead \{ display: table-header-group; \}[^]*break-inside: avoid/);
  });
});

describe('renderReportHtml', () => {
  it('has the population, each decision with reviewer and time, the executed revocation with its request ids, the verify result and per-reviewer status', () => {
    const html = renderReportHtml(fx.report);
    const popIds = [...html.matchAll(/<table class="population">[^]*?<\/table>/g)].flatMap((t) => [...t[0].matchAll(/<tr data-row-id="([^"]+)"/g)].map((m) => m[1]));
    expect(popIds).toEqual(fx.rows.map((r) => r.rowId));
    for (const d of fx.decisions) {
      expect(html).toContain(escapeHtml(d.justification));
      expect(html).toContain(escapeHtml(d.reviewer));
    }
    expect(html).toContain('Moved to &lt;QA&gt; &amp; no longer on call');
    expect(html).toContain('2027-01-12 10:15 UTC');
    expect(html).toContain('8f2c1d3e-0000-4000-8000-00000000aa01');
    expect(html).toContain('8f2c1d3e-0000-4000-8000-00000000aa02');
    expect(html).toContain('run-0042');
    expect(html).toMatch(/<dd id="journal-verify"><span class="ok">OK<\/span>: hash chain intact <span class="sub">\(57 rows checked\)<\/span>/);
    for (const s of fx.report.reviewers) expect(html).toContain(escapeHtml(s.reviewer.userPrincipalName));
    expect(new Set(tags(html))).not.toContain('script');
    expect(html).toContain('&lt;script&gt;');
  });

  it('says FAILED plainly when the journal does not verify', () => {
    const html = renderReportHtml({ ...fx.report, journalVerify: { ok: false, rows: 12, message: 'row 7: hash mismatch' } });
    expect(html).toContain('<span class="bad">FAILED</span>: row 7: hash mismatch');
  });
});

describe('toEntraCsv', () => {
  it('writes the Graph v1.0 custom data resource header and one line per person and entitlement, parseable back', () => {
    const { csv, skipped } = toEntraCsv(fx.campaign, fx.rows);
    expect(skipped).toEqual([]);
    const records = parseCsv(csv, 'entra.csv');
    expect(records[0]?.fields).toEqual([...ENTRA_CSV_HEADER]);
    expect(csv.split('\r\n')[0]).toBe('principalId,principalType,permissionId,permissionName,permissionDescription,permissionType');
    const body = records.slice(1).map((r) => r.fields);
    expect(body).toHaveLength(fx.rows.length);
    for (const r of fx.rows) {
      const line = body.find((f) => f[0] === r.person.userPrincipalName && f[3]?.endsWith(`/ ${r.entitlement.name}`));
      expect(line, `${r.person.sAMAccountName} ${r.entitlement.name}`).toBeDefined();
      expect(line?.[1]).toBe('EntraIdUser');
      expect(line?.[2]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(line?.[5]).toBe(r.entitlement.kind === 'iam-user' ? 'AWS IAM user' : 'AWS federated IAM role');
    }
    // The hostile group description survives as data, quoted where needed.
    expect(body.some((f) => f[4]?.includes('Production') || f[4]?.includes('granted by AD group AWS-Prod-Admin'))).toBe(true);
  });

  it('gives an entitlement the same permissionId for everyone, and skips (naming) a person without a UPN', () => {
    const { csv } = toEntraCsv(fx.campaign, fx.rows);
    const body = parseCsv(csv, 'entra.csv').slice(1).map((r) => r.fields);
    const ids = new Map<string, Set<string>>();
    for (const f of body) ids.set(f[3] as string, (ids.get(f[3] as string) ?? new Set()).add(f[2] as string));
    for (const [, s] of ids) expect(s.size).toBe(1);
    const first = fx.rows[0] as (typeof fx.rows)[number];
    const noUpn = { ...first, person: { ...first.person, userPrincipalName: undefined } };
    const out = toEntraCsv(fx.campaign, [noUpn]);
    expect(out.skipped).toEqual([{ rowId: first.rowId, person: first.person.sAMAccountName, why: 'no userPrincipalName to match an Entra user' }]);
    expect(out.csv).toBe(`${ENTRA_CSV_HEADER.join(',')}\r\n`);
  });

  it('makes RFC 4122 version 5 UUIDs (the RFC\'s DNS namespace example)', () => {
    // uuid v5 of "www.example.com" in the DNS namespace, as Python's uuid.uuid5 computes it.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});
