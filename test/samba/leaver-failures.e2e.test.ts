/**
 * Issue 12, "What it must show", failure tests, end to end (Samba AD, the judging emulator with rolemap as
 * its least-privilege principal, the real CLI): Identity Center throttled or failing during a layoff still
 * cuts the leavers' IAM-role sessions in the same run, and what failed is retried on the next run until
 * it succeeds (then the permission-set session is cut too). The shared-revocation retry at the run-once
 * level is test/shell/reconcile/leavers.test.ts ("defect 2").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samba } from './helpers.js';
import { ALLOWED, DENIED, startLeaverWorld, type LeaverWorld, type Sessions } from './leaver-world.js';

const KINDS = ['throttled', 'failing', 'stays'] as const;
type Kind = (typeof KINDS)[number];

/** The Identity Center writes a layoff makes: memberships and users deleted, the permission-set deny and its provisioning. */
const IC_WRITES = [
  ['identitystore', 'DeleteGroupMembership'],
  ['identitystore', 'DeleteUser'],
  ['sso', 'PutInlinePolicyToPermissionSet'],
  ['sso', 'ProvisionPermissionSet'],
] as const;

describe.skipIf(!samba)('Identity Center throttled or failing during a layoff (Samba AD + judging emulator + rolemap CLI)', () => {
  let w: LeaverWorld<Kind>;
  const s: Partial<Record<Kind, Sessions>> = {};
  beforeAll(async () => {
    w = await startLeaverWorld('lf', KINDS);
    expect((await w.reconcile()).code).toBe(2);
    for (const k of KINDS) s[k] = await w.login(w.sam(k));
    for (const k of KINDS) expect({ who: k, ...(await w.judged(s[k]!)) }).toEqual({ who: k, ...ALLOWED });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('Identity Center throttles every write: the IAM-role sessions are cut in the same run; the next run finishes the rest', async () => {
    await w.ou.disable(w.dn.throttled);
    for (const [service, operation] of IC_WRITES) w.emulator.injectFault({ kind: 'throttle', service, operation });
    const run = await w.reconcile();
    expect(run.code, run.stdout + run.stderr).toBe(1); // changes failed
    expect({ ...(await w.judged(s.throttled!)) }).toEqual({ admin: 'denied', dev: 'denied', analyst: 'allowed' });
    expect(await w.judged(s.stays!)).toEqual(ALLOWED);
    const failed = (await w.journalOf(w.sam('throttled'))).filter((l) => l.status === 'failed');
    expect(failed.map((l) => l.address)).toContain('sso_permission_set_revocations.StoryAnalyst');
    for (const l of failed) expect(l.error ?? '').toMatch(/Throttl|TooManyRequests|Rate exceeded/i);

    // Identity Center recovers: the next run retries what failed, and the portal session goes too.
    w.emulator.clearFaults();
    expect((await w.reconcile()).code).toBe(2);
    expect(await w.judged(s.throttled!)).toEqual(DENIED);
    expect(await w.judged(s.stays!)).toEqual(ALLOWED);
    const story = await w.journalOf(w.sam('throttled'));
    expect(story.filter((l) => l.action === 'revoke' && l.status === 'applied').map((l) => l.address).sort()).toEqual([
      'iam_role_revocations.management.StoryDev',
      'iam_role_revocations.prod.StoryAdmin',
      'sso_permission_set_revocations.StoryAnalyst',
    ]);
  }, 120_000);

  it('Identity Center answers every call with a 500 (reads too): the IAM-role sessions are cut anyway; the next run finishes the rest', async () => {
    await w.ou.disable(w.dn.failing);
    for (const service of ['identitystore', 'sso']) w.emulator.injectFault({ kind: 'http500', service });
    const run = await w.reconcile();
    expect(run.code, run.stdout + run.stderr).not.toBe(0);
    expect({ who: 'failing', ...(await w.judged(s.failing!)) }).toEqual({ who: 'failing', admin: 'denied', dev: 'denied', analyst: 'allowed' });
    expect(await w.judged(s.stays!)).toEqual(ALLOWED);

    w.emulator.clearFaults();
    expect((await w.reconcile()).code).toBe(2);
    expect(await w.judged(s.failing!)).toEqual(DENIED);
    expect(await w.judged(s.stays!)).toEqual(ALLOWED);
  }, 120_000);
});
