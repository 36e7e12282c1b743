/**
 * What an AWS failure looks like to an operator, through the real command line against the
 * emulator: every target's error names the service and operation, the HTTP status, AWS's error
 * code and the request id; an answer that is not AWS's (an HTML page from a proxy) says so instead
 * of showing a JSON parser's SyntaxError.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

let world: World;
let restoreEnv: () => void;

beforeEach(async () => {
  world = await startWorld();
  restoreEnv = useProcessEnv(awsEnv(world));
});

afterEach(async () => {
  restoreEnv();
  await world.stop();
});

/** The error text the journal kept for each failed change. */
function journalErrors(): string[] {
  const db = new Database(world.journal, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT error FROM change_events WHERE status = 'failed' ORDER BY id").all() as { error: string }[]).map((r) => r.error);
  } finally {
    db.close();
  }
}

describe('AWS errors', () => {
  it('an HTML 500 from Identity Store and from IAM: service:operation, HTTP status and "non-JSON body", never a SyntaxError', async () => {
    const first = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(first.code, first.stderr).toBe(2);
    // Juergen's display name changes in AD (an identitystore:UpdateUser), PlatformAdmin's description in the role map (an iam:UpdateRole).
    writeFileSync(world.ldif, readFileSync(world.ldif, 'utf8').replace('displayName:: SsO8cmdlbiBNw7xsbGVy', 'displayName: Juergen Mueller'));
    writeFileSync(world.config, readFileSync(world.config, 'utf8').replace('description: Production platform administrators (AD group Platform-Admins)', 'description: Platform administrators of prod'));
    world.emulator.injectFault({ kind: 'html500', operation: 'UpdateUser' });
    world.emulator.injectFault({ kind: 'html500', operation: 'UpdateRole' });

    const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/failed {3}identitystore_user\.juergen\.mueller@example\.com: identitystore:UpdateUser for identitystore_user\.juergen\.mueller@example\.com in account 111111111111 answered HTTP 500 with a non-JSON body \(text\/html\)/);
    expect(r.stderr).toMatch(/failed {3}iam_role\.prod\.PlatformAdmin: iam:UpdateRole for iam_role\.prod\.PlatformAdmin in account 222222222222 answered HTTP 500 with a body without an AWS error \(text\/html\)/);
    expect(r.stderr + r.stdout).not.toMatch(/SyntaxError|Unexpected token|Deserialization error/);

    expect(readJournal(world.journal).runs.at(-1)?.outcome).toBe('failed');
    const errors = journalErrors();
    expect(errors).toHaveLength(2);
    expect(errors.join('\n')).toContain('identitystore:UpdateUser for identitystore_user.juergen.mueller@example.com in account 111111111111 answered HTTP 500 with a non-JSON body');
    expect(errors.join('\n')).not.toMatch(/SyntaxError|Unexpected token/);
  });

  it('an AWS error answer names service:operation, HTTP status, AWS code and request id, for Identity Center as for IAM', async () => {
    const first = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(first.code, first.stderr).toBe(2);
    writeFileSync(world.ldif, readFileSync(world.ldif, 'utf8').replace('displayName:: SsO8cmdlbiBNw7xsbGVy', 'displayName: Juergen Mueller'));
    world.emulator.injectFault({ kind: 'error', operation: 'UpdateUser', code: 'AccessDeniedException', status: 403, message: 'not allowed' });

    const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(r.code, r.stderr).toBe(1);
    const answered = world.exchanges.filter((x) => x.operation === 'UpdateUser').at(-1);
    expect(answered?.status).toBe(403);
    expect(r.stderr).toContain(`identitystore:UpdateUser for identitystore_user.juergen.mueller@example.com in account 111111111111 answered HTTP 403 AccessDeniedException: not allowed (request id ${answered?.requestId})`);
  });

  it('AWS stops answering mid-apply: after a few connection failures nothing more is sent, the rest is skipped with the cause once, and the output is short', { timeout: 60_000 }, async () => {
    writeFileSync(world.config, readFileSync(world.config, 'utf8').replace('maxAttempts: 5', 'maxAttempts: 2'));
    // The emulator goes away as soon as the first change has been answered.
    const killer = setInterval(() => {
      if (world.exchanges.some((x) => x.operation === 'CreateRole' && x.status === 200)) {
        clearInterval(killer);
        void world.emulator.stop();
      }
    }, 1);
    const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    clearInterval(killer);
    expect(r.code, r.stderr).toBe(1);

    const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    const last = lines.at(-1) ?? '';
    expect(last).toMatch(/^Stopped sending to AWS: (iam|identitystore|sso|sts) is unreachable \(3 consecutive calls got no answer; the last: .*(ECONNREFUSED|ECONNRESET|socket hang up).*\)\. \d+ changes were not sent; run again when it answers\.$/);
    // A few failures (the calls that found it down), the rest skipped: a short report, not one line per change.
    expect(lines.length, lines.join('\n')).toBeLessThan(25);

    const db = new Database(world.journal, { readonly: true, fileMustExist: true });
    try {
      const run = db.prepare('SELECT id, outcome FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1').get() as { id: string; outcome: string };
      expect(run.outcome).toBe('partial');
      const final = db.prepare("SELECT status, error FROM change_events WHERE run_id = ? AND status IN ('applied', 'failed', 'skipped')").all(run.id) as { status: string; error: string | null }[];
      expect(final).toHaveLength(33);
      const count = (s: string): number => final.filter((e) => e.status === s).length;
      expect(count('applied')).toBeGreaterThan(0);
      // At most the threshold per endpoint group, and the calls already in flight.
      expect(count('failed')).toBeLessThanOrEqual(12);
      expect(count('skipped')).toBeGreaterThan(15);
      // Skipped for the unreachable endpoint, or because a change they depend on failed on it.
      const causes = final.filter((e) => e.status === 'skipped').map((e) => e.error ?? '');
      expect(causes.filter((c) => !/not sent: \w+ is unreachable|^#\d+ \S+ failed$/.test(c)), causes.join('\n')).toEqual([]);
    } finally {
      db.close();
    }
  });
});
