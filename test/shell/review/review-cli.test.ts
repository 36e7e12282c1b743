/**
 * `rolemap review` through the real CLI on the managers LDIF fixture: start, export (csv, json, html),
 * status, and decide with bad files refused whole, each problem naming file, line and row,
 * never a stack trace.
 */
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { csvLine, parseCsv } from '../../../src/shell/review/csv.js';
import { runCli, writeConfig } from '../cli/run-cli.js';

const LDIF = fileURLToPath(new URL('../../fixtures/review/managers.ldif', import.meta.url));

function setup(aws = '{region: eu-west-1}'): { config: string; dir: string } {
  const config = writeConfig(`directory: {type: ldif, path: ${LDIF}}
aws: ${aws}
accounts: {dev: "333333333333", prod: "222222222222"}
federatedRoles:
  - {group: {sAMAccountName: AWS-Dev-Developer}, account: dev, roleName: Developer, samlProvider: ADFS}
  - {group: {sAMAccountName: AWS-Prod-Admin}, account: prod, roleName: Admin, samlProvider: ADFS}
safety: {ownerId: t}
journal: {path: journal.db}
reviews:
  reviewers: {AWS-Prod-Admin: secops@corp.example}
  fallbackReviewer: auditor@corp.example
  due: 10d
`);
  return { config, dir: dirname(config) };
}

describe('rolemap review (CLI)', () => {
  it('start, export csv, json and html, status', async () => {
    const { config, dir } = setup();
    const s = await runCli(['review', 'start', '-c', config, '--name', 'Q1-2027', '--no-aws']);
    expect(s.stderr).toBe('');
    expect(s.stdout).toMatch(/^Campaign Q1-2027 started: 8 grants of 7 people for 4 reviewers, due \d{4}-\d\d-\d\dT/);
    expect((await runCli(['review', 'start', '-c', config, '--name', 'Q1-2027', '--no-aws'])).stderr).toBe('Error: campaign Q1-2027 already exists in the journal; start it under another --name\n');

    const out = join(dir, 'packets');
    expect((await runCli(['review', 'export', 'Q1-2027', '-c', config, '--format', 'csv', '--out', out])).code).toBe(0);
    expect((await runCli(['review', 'export', 'Q1-2027', '-c', config, '--format', 'json', '--out', out])).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(
      ['auditor@corp.example', 'cboss@corp.example', 'mmeyer@corp.example', 'secops@corp.example'].flatMap((r) => [`Q1-2027--${r}.csv`, `Q1-2027--${r}.json`]),
    );
    expect(statSync(join(out, 'Q1-2027--mmeyer@corp.example.csv')).mode & 0o777).toBe(0o600);
    const csv = readFileSync(join(out, 'Q1-2027--mmeyer@corp.example.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toMatch(/^campaign_id,packet_sha256,row_id,reviewer,.*,decision,justification$/);
    expect(csv.filter((l) => l !== '')).toHaveLength(3);
    const json = JSON.parse(readFileSync(join(out, 'Q1-2027--mmeyer@corp.example.json'), 'utf8')) as { sha256: string; decisions: unknown[] };
    expect(csv[1]?.split(',')[1]).toBe(json.sha256);
    expect(json.decisions).toHaveLength(2);

    const htmlOut = join(dir, 'html');
    const html = await runCli(['review', 'export', 'Q1-2027', '-c', config, '--format', 'html', '--out', htmlOut]);
    expect(html.stderr).toBe('');
    expect(html.code).toBe(0);
    expect(readdirSync(htmlOut).sort()).toEqual(['auditor@corp.example', 'cboss@corp.example', 'mmeyer@corp.example', 'secops@corp.example'].map((r) => `Q1-2027--${r}.html`));
    const page = join(htmlOut, 'Q1-2027--mmeyer@corp.example.html');
    expect(statSync(page).mode & 0o777).toBe(0o600);
    const pageText = readFileSync(page, 'utf8');
    expect(pageText).toContain(json.sha256);
    for (const line of csv.slice(1).filter((l) => l !== '')) expect(pageText).toContain(`data-row-id="${line.split(',')[2]}"`);

    // The whole campaign for Entra ID access reviews: one owner-only CSV in the Graph custom data layout, a line per row.
    const entra = await runCli(['review', 'export', 'Q1-2027', '-c', config, '--format', 'entra', '--out', htmlOut]);
    expect(entra.stderr).toBe('');
    expect(entra.stdout).toBe(`Entra ID custom data CSV written: ${join(htmlOut, 'Q1-2027--entra-id.csv')} (8 rows)\n`);
    const entraCsv = parseCsv(readFileSync(join(htmlOut, 'Q1-2027--entra-id.csv'), 'utf8'), 'entra.csv');
    expect(entraCsv[0]?.fields).toEqual(['principalId', 'principalType', 'permissionId', 'permissionName', 'permissionDescription', 'permissionType']);
    expect(entraCsv.slice(1).map((r) => `${r.fields[0]} ${r.fields[3]}`).sort()).toContain('jdoe@corp.example prod / Admin');
    expect(entraCsv).toHaveLength(9);
    expect(statSync(join(htmlOut, 'Q1-2027--entra-id.csv')).mode & 0o777).toBe(0o600);
    expect((await runCli(['review', 'export', 'Q1-2027', '-c', config, '--format', 'entra', '--out', htmlOut, '--reviewer', 'mmeyer@corp.example'])).stderr).toMatch(/^Error: --format entra writes the whole campaign/);

    const status = await runCli(['review', 'status', 'Q1-2027', '-c', config, '--format', 'csv']);
    expect(status.stdout.split('\r\n').slice(0, 3)).toEqual(['reviewer,rows,approved,revoked,pending,overdue', 'auditor@corp.example,3,0,0,3,0', 'cboss@corp.example,2,0,0,2,0']);
  });

  it('decide: imports a filled JSON packet; refuses a CSV with a wrong hash, a wrong reviewer and an unknown row as a whole, naming lines and rows', async () => {
    const { config, dir } = setup();
    await runCli(['review', 'start', '-c', config, '--name', 'Q1-2027', '--no-aws']);
    const out = join(dir, 'p');
    await runCli(['review', 'export', 'Q1-2027', '-c', config, '--format', 'csv', '--out', out, '--reviewer', 'mmeyer@corp.example']);
    await runCli(['review', 'export', 'Q1-2027', '-c', config, '--format', 'json', '--out', out, '--reviewer', 'MMEYER@corp.example']);

    const packetFile = join(out, 'Q1-2027--mmeyer@corp.example.csv');
    const records = parseCsv(readFileSync(packetFile, 'utf8'), packetFile).map((r) => [...r.fields]);
    const header = csvLine(records[0] as string[]);
    const DECISION = (records[0] as string[]).indexOf('decision');
    const row1 = [...(records[1] as string[])];
    const row2 = [...(records[2] as string[])];
    const id1 = row1[2] as string;
    const id2 = row2[2] as string;
    row1[1] = 'a'.repeat(64); // wrong packet hash
    row1[DECISION] = 'revoke';
    row2[3] = 'jdoe@corp.example'; // not the reviewer
    row2[DECISION] = 'approve';
    const row3 = [...(records[2] as string[])];
    row3[2] = 'ffffffffffffffff'; // not in the population
    row3[DECISION] = 'approve';
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, [header, csvLine(row1), csvLine(row2), csvLine(row3)].join('\r\n'));
    const r = await runCli(['review', 'decide', 'Q1-2027', bad, '-c', config]);
    expect(r.code).not.toBe(0);
    expect(r.stderr, r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toContain(`Error: ${bad}: no decision imported; 3 problem(s):`);
    expect(r.stderr).toContain(`${bad} line 2: row ${id1} (`);
    expect(r.stderr).toMatch(/line 2: row \w+ \(\w+, federated-role Developer in dev\): packet sha256 a{64} does not match the packet of mmeyer@corp\.example/);
    expect(r.stderr).toContain(`${bad} line 3: row ${id2} (`);
    expect(r.stderr).toContain('was decided by "jdoe@corp.example", who is not its reviewer (mmeyer@corp.example)');
    expect(r.stderr).toContain(`${bad} line 4: row ffffffffffffffff was not in the population of campaign Q1-2027`);
    const st = await runCli(['review', 'status', 'Q1-2027', '-c', config, '--format', 'csv']);
    expect(st.stdout).toContain('mmeyer@corp.example,2,0,0,2,0'); // nothing half-imported

    const broken = join(dir, 'broken.csv');
    writeFileSync(broken, `${header}\r\n"unclosed,`);
    expect((await runCli(['review', 'decide', 'Q1-2027', broken, '-c', config])).stderr).toBe(`Error: ${broken} line 2: a quoted field is not closed\n`);
    expect((await runCli(['review', 'decide', 'Q2-2099', broken, '-c', config])).stderr).toBe('Error: campaign "Q2-2099" is not in the journal (rolemap review start --name Q2-2099)\n');

    const packet = JSON.parse(readFileSync(join(out, 'Q1-2027--mmeyer@corp.example.json'), 'utf8')) as { decisions: { decision: string; justification: string }[] };
    for (const d of packet.decisions) Object.assign(d, { decision: 'approve', justification: 'still on the team' });
    const filled = join(dir, 'filled.json');
    writeFileSync(filled, JSON.stringify(packet));
    const ok = await runCli(['review', 'decide', 'Q1-2027', filled, '-c', config]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain(`2 decision(s) imported from ${filled} (2 approve, 0 revoke)`);
    expect((await runCli(['review', 'status', 'Q1-2027', '-c', config, '--format', 'csv'])).stdout).toContain('mmeyer@corp.example,2,2,0,0,0');

    const report = await runCli(['review', 'report', 'Q1-2027', '-c', config, '--format', 'csv']);
    expect(report.stdout.split('\r\n')[0]).toMatch(/^campaign_id,row_id,.*,journal_verify$/);
    expect(report.stdout.split('\r\n').filter((l) => l.includes('approve'))).toHaveLength(2);
    expect(report.stdout.split('\r\n').filter((l) => l.endsWith(',ok'))).toHaveLength(8);
    const reportHtml = await runCli(['review', 'report', 'Q1-2027', '-c', config, '--format', 'html']);
    expect(reportHtml.stderr).toBe('');
    expect(reportHtml.stdout).toMatch(/^<!DOCTYPE html>/);
    expect(reportHtml.stdout.match(/<tr data-row-id="/g)).toHaveLength(8);
    expect(reportHtml.stdout).toContain('<dd id="journal-verify"><span class="ok">OK</span>');
  });

  it('start reads AWS unless --no-aws: an account that cannot be read is a warning naming it and the reason, and the campaign starts', async () => {
    const { config } = setup('{region: eu-west-1, endpoint: "http://127.0.0.1:9", maxAttempts: 1}');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAREVIEWCLITEST000');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-secret');
    try {
      const s = await runCli(['review', 'start', '-c', config, '--name', 'Q1-2027']);
      expect(s.code).toBe(0);
      expect(s.stdout).toMatch(/^Campaign Q1-2027 started: 8 grants of 7 people/);
      const lines = s.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^warning: account dev \(333333333333\) not read: .+; its rows have no last use and its linked IAM users are not in the campaign$/);
      expect(lines[1]).toMatch(/^warning: account prod \(222222222222\) not read: .+; its rows have no last use and its linked IAM users are not in the campaign$/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
