/**
 * `npm run demo` is the README's first command: it runs here exactly as a newcomer runs it
 * (`node --import tsx scripts/demo.ts`), and its output must tell the whole story.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJournal, ROOT } from './world.js';

async function runDemo(dir: string): Promise<{ code: number; out: string }> {
  return await new Promise((resolveRun, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ROLEMAP_DEMO_DIR: dir, NO_COLOR: '1' };
    delete env['AWS_PROFILE'];
    delete env['AWS_ENDPOINT_URL'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code: code ?? -1, out }));
  });
}

/** The demo's output cut at its `━━ N. title` step headings. */
function steps(out: string): Map<string, string> {
  const parts = out.split(/^━━ /m).slice(1);
  return new Map(parts.map((p) => [p.slice(0, p.indexOf('\n')), p]));
}

function step(all: Map<string, string>, prefix: string): string {
  const found = [...all].find(([title]) => title.startsWith(prefix));
  if (!found) throw new Error(`the demo printed no step "${prefix}..."; steps: ${[...all.keys()].join(' | ')}`);
  return found[1];
}

describe('npm run demo', () => {
  it('validates, plans, applies, finds no changes, handles a leaver and verifies the journal', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rolemap-demo-'));
    const { code, out } = await runDemo(dir);
    expect(code, out).toBe(0);
    expect(out).not.toContain('\u001b['); // NO_COLOR: no escape codes
    expect(out).not.toMatch(/Internal error|Error:|did not go as it should/);
    const all = steps(out);

    expect(step(all, '1.')).toMatch(/Configuration OK: .*rolemap\.yaml\n[\s\S]*\(exit code 0\)/);

    const dryRun = step(all, '2.');
    const planned = /Plan: (\d+) to add, 0 to change, 0 to destroy\./.exec(dryRun);
    expect(planned, dryRun).not.toBeNull();
    const adds = Number(planned?.[1]);
    expect(adds).toBeGreaterThan(0);
    expect(dryRun).toContain('+ iam_role.prod.PlatformAdmin will be created');
    expect(dryRun).toContain('(exit code 2)');
    expect(dryRun).not.toContain('Apply complete');

    const apply = step(all, '3.');
    expect(apply).toContain(`Apply complete! Resources: ${adds} added, 0 changed, 0 destroyed.`);
    expect(apply).toContain('(exit code 2)');

    const again = step(all, '4.');
    expect(again).toContain('No changes.');
    expect(again).toContain('(exit code 0)');
    expect(again).not.toMatch(/will be (created|destroyed|updated)/);

    const leaver = step(all, '5.');
    // The dry-run plan and the apply both show the leaver's revocations and the one leaver.
    expect(leaver.match(/\n1 leaver \(juergen\.mueller\): \d+ session revocations?, /g)).toHaveLength(2);
    expect(leaver).toContain('! revoke sessions');
    expect(leaver).toMatch(/! iam_role_revocations\.management\.Admin will be revoked \(live sessions denied\)/);
    expect(leaver).toMatch(/! iam_role_revocations\.prod\.PlatformAdmin will be revoked/);
    expect(leaver).toMatch(/! sso_permission_set_revocations\.PlatformAdmin will be revoked/);
    expect(leaver).toContain('+ entries["juergen.mueller@example.com"]');
    expect(leaver).toContain('- identitystore_user.juergen.mueller@example.com will be destroyed');
    expect(leaver).toMatch(/Apply complete! Resources: 0 added, 0 changed, 2 destroyed; 3 session revocations\. 1 leaver \(juergen\.mueller\): 3 session revocations, 1 membership removed, 1 Identity Center user deleted\./);

    const journalStep = step(all, '6.');
    expect(journalStep).toContain('OK: every row is intact and linked.');
    expect(journalStep).toContain('SQLite integrity check: ok.');
    expect(journalStep).not.toMatch(/\(exit code [^0]\)/);
    expect(journalStep).toMatch(/applied\s+create\s+identitystore_user\.juergen\.mueller@example\.com/);
    expect(journalStep).toMatch(/applied\s+delete\s+identitystore_user\.juergen\.mueller@example\.com/);

    const journal = join(dir, 'journal.db');
    expect(step(all, 'Done')).toContain(`The journal is ${journal}`);
    expect(existsSync(journal)).toBe(true);
    // The journal the demo points at holds what the output said: five runs, in this order.
    const { runs } = readJournal(journal);
    expect(runs.map((r) => `${r.mode}:${r.outcome}`)).toEqual(['dry-run:planned', 'apply:applied', 'dry-run:no-changes', 'dry-run:planned', 'apply:applied']);
  });
});
