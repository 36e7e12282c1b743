/**
 * The HTML review packets and report opened in Debian's headless Chromium (test/support/chromium.ts):
 * rendered from a campaign built from the hostile managers LDIF, written to files, opened from disk.
 * Asserts on the rendered text (innerText): every row present, the decision column present, AD markup
 * shown as text and never run; that the page requested nothing but itself; a full-page screenshot per
 * page kept in test-artifacts/review/, and the report printed to PDF (print layout works).
 * A guard test shows the request recorder does catch a page that loads something.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { renderPacketHtml, renderReportHtml } from '../../src/core/review/render-html.js';
import { launchChromium, type HeadlessChromium } from '../support/chromium.js';
import { DEVELOPER_LAST_USED, HOSTILE_DISPLAY_NAME, HOSTILE_GROUP_DESCRIPTION, LINKED_IAM_USER, reviewFixture, type ReviewFixture } from '../support/review-fixture.js';

const chromiumPath = inject('chromium');

describe.skipIf(chromiumPath === null)('review HTML in headless Chromium', () => {
  let browser: HeadlessChromium;
  let fx: ReviewFixture;
  let dir: string;

  beforeAll(async () => {
    fx = await reviewFixture();
    dir = mkdtempSync(join(tmpdir(), 'rolemap-review-html-'));
    browser = await launchChromium(chromiumPath ?? undefined);
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, html: string): string => {
    const file = join(dir, name);
    writeFileSync(file, html);
    return file;
  };

  it('the request recorder catches a page that loads anything but itself (so the other tests can fail)', async () => {
    const file = write('leaky.html', '<!DOCTYPE html><html><head><link rel="stylesheet" href="https://cdn.evil.example/x.css"></head><body><img src="http://127.0.0.1:9/pixel.png"><p>leaky</p></body></html>');
    const page = await browser.open(file);
    const foreign = page.foreignRequests().map((r) => r.url);
    expect(foreign).toEqual(expect.arrayContaining(['https://cdn.evil.example/x.css', 'http://127.0.0.1:9/pixel.png']));
    expect(page.requests.filter((r) => r.allowed).map((r) => r.url)).toEqual([page.url]);
  });

  it('each reviewer packet: every row and the decision column in the rendered text, AD markup as text, nothing loaded, a screenshot', async () => {
    expect(fx.packets.length).toBeGreaterThan(1);
    // Every kind of row is rendered: federated roles and jdoe's linked IAM user (with its keys).
    expect(fx.rows.filter((r) => r.entitlement.kind === 'iam-user').map((r) => `${r.person.sAMAccountName} ${r.entitlement.name}`)).toEqual(['jdoe jdoe-ci']);
    for (const packet of fx.packets) {
      const name = `packet-${packet.reviewer.userPrincipalName}`;
      const page = await browser.open(write(`${name}.html`, renderPacketHtml(packet)));
      expect(page.foreignRequests(), name).toEqual([]);
      expect(page.requests.map((r) => r.url)).toEqual([page.url]);
      expect(await page.countRows('table.rows')).toBe(packet.rows.length);
      const text = await page.innerText();
      expect(text).toContain(`Access review ${packet.campaign.name}`);
      expect(text).toContain(packet.sha256);
      expect(text).toContain('2027-01-19 09:00 UTC');
      expect(text).toContain(packet.reviewer.userPrincipalName);
      expect(text).toMatch(/Decision/);
      expect(text).toContain('Role last use is per role, not per person');
      // One rendered table row per person and entitlement, each with its row id, names, entitlement and both choices.
      const rendered = await page.page.$$eval('table.rows > tbody > tr', (trs) => trs.map((tr) => ({ id: tr.getAttribute('data-row-id'), text: (tr as HTMLElement).innerText })));
      expect(rendered.map((r) => r.id)).toEqual(packet.rows.map((r) => r.rowId));
      for (const [i, row] of packet.rows.entries()) {
        const t = rendered[i]?.text ?? '';
        expect(t).toContain(row.rowId);
        expect(t).toContain(row.person.displayName ?? row.person.sAMAccountName);
        expect(t).toContain(row.entitlement.name);
        expect(t).toContain(row.entitlement.accountId);
        if (row.entitlement.group) expect(t).toContain(row.entitlement.group.name);
        expect(t).toMatch(/Approve[\s\S]*Revoke[\s\S]*Justification/);
        // Last use as the manager reads it: the role's (any person's), or this person's own keys.
        if (row.entitlement.kind === 'federated-role' && row.entitlement.name === 'Developer') expect(t).toContain(`role: 2027-01-04 16:45 UTC (${DEVELOPER_LAST_USED.region})`);
        if (row.entitlement.kind === 'iam-user') {
          expect(t).toContain('Linked IAM user');
          expect(t).toContain(`${LINKED_IAM_USER.accessKeys[0]?.accessKeyId ?? ''} Active, used 2027-01-03 08:30 UTC`);
          expect(t).toContain(`${LINKED_IAM_USER.accessKeys[1]?.accessKeyId ?? ''} Inactive, never used`);
          expect(t).toContain('keys: 2027-01-03 08:30 UTC');
        }
      }
      // The script in jdoe's displayName is text, never run.
      expect(await page.page.title()).not.toBe('pwned');
      expect(await page.page.locator('script').count()).toBe(0);
      if (packet.rows.some((r) => r.person.sAMAccountName === 'jdoe')) expect(text).toContain(HOSTILE_DISPLAY_NAME);
      if (packet.rows.some((r) => r.entitlement.group?.description === HOSTILE_GROUP_DESCRIPTION)) {
        expect(text).toContain(HOSTILE_GROUP_DESCRIPTION);
        expect(await page.page.locator('img').count()).toBe(0);
      }
      await page.screenshot('review', name);
    }
  });

  it('the report: population, decisions, request ids, verify result and reviewers in the rendered text, nothing loaded, a screenshot, and a PDF with pages', async () => {
    const page = await browser.open(write('report.html', renderReportHtml(fx.report)));
    expect(page.foreignRequests()).toEqual([]);
    expect(page.requests.map((r) => r.url)).toEqual([page.url]);
    expect(await page.countRows('table.population')).toBe(fx.rows.length);
    expect(await page.countRows('table.reviewers')).toBe(fx.report.reviewers.length);
    expect(await page.countRows('table.revocations')).toBe(1);
    const text = await page.innerText();
    for (const r of fx.rows) expect(text).toContain(r.rowId);
    expect(text).toContain('Moved to <QA> & no longer on call');
    expect(text).toContain('8f2c1d3e-0000-4000-8000-00000000aa01');
    expect(text).toMatch(/Journal verify\s+OK: hash chain intact \(57 rows checked\)/);
    for (const s of fx.report.reviewers) expect(text).toContain(s.reviewer.userPrincipalName);
    expect(text).toContain(HOSTILE_DISPLAY_NAME);
    expect(await page.page.title()).not.toBe('pwned');
    await page.screenshot('review', 'report');
    const { bytes, path } = await page.pdf('review', 'report');
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pages = (bytes.toString('latin1').match(/\/Type\s*\/Page(?!s)/g) ?? []).length;
    expect(pages, path).toBeGreaterThanOrEqual(1);
    // Printing the table repeats its header on each page: header cells are in a thead with display table-header-group.
    expect(await page.page.evaluate(() => {
      const thead = document.querySelector('table.population > thead');
      return thead === null ? null : getComputedStyle(thead).display;
    })).toBe('table-header-group');
  });
});
