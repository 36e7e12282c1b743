/**
 * Each finding kind from a fixture whose expected findings are written out by hand, and the story of
 * findings over time (opened, resolved, open as of a day).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POSTURE_SETTINGS, computeFindings, diffFindings, leaverLinks, openAsOf, parseCredentialReport } from '../../../src/core/posture/index.js';
import type { AccountPostureInput, CredentialReportRow, Finding } from '../../../src/core/posture/index.js';

const NOW = new Date('2026-12-02T12:00:00Z');
const ACCT = '222222222222';
const HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';
const ROOT_OK = `<root_account>,arn:aws:iam::${ACCT}:root,2020-01-01T00:00:00+00:00,not_supported,2025-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`;

/** A user row: password?, mfa?, key1 [active, rotated, lastUsed], key2. */
function row(name: string, opts: { password?: boolean; mfa?: boolean; k1?: [boolean, string, string]; k2?: [boolean, string, string] } = {}): string {
  const key = (k?: [boolean, string, string]): string => (k ? `${String(k[0])},${k[1]},${k[2]},us-east-1,s3` : 'false,N/A,N/A,N/A,N/A');
  const pw = opts.password === true;
  return `${name},arn:aws:iam::${ACCT}:user/${name},2024-01-01T00:00:00+00:00,${String(pw)},${pw ? 'no_information' : 'N/A'},${pw ? '2024-01-01T00:00:00+00:00' : 'N/A'},N/A,${String(opts.mfa === true)},${key(opts.k1)},${key(opts.k2)},false,N/A,false,N/A`;
}

function report(...rows: string[]): CredentialReportRow[] {
  return parseCredentialReport([HEADER, ...rows].join('\n'), ACCT);
}

const GOOD_POLICY = { minimumLength: 14, requireSymbols: false, requireNumbers: false, requireUppercase: false, requireLowercase: false, maxAgeDays: null, reusePrevention: 24 };
const TWO_ADMINS = [
  { principal: 'role/Admin', via: 'AdministratorAccess' },
  { principal: 'role/BreakGlass', via: 'AdministratorAccess' },
];

function input(over: Partial<AccountPostureInput> = {}): AccountPostureInput {
  return { account: ACCT, alias: 'prod', rootMfaEnabled: true, rootAccessKeysPresent: false, report: report(ROOT_OK), passwordPolicy: GOOD_POLICY, admins: TWO_ADMINS, leaverLinks: [], ...over };
}

const ids = (fs: readonly Finding[]): string[] => fs.map((f) => `${f.id} ${f.severity}`);

describe('computeFindings', () => {
  it('finds nothing in an account that follows the practices', () => {
    expect(computeFindings(input(), DEFAULT_POSTURE_SETTINGS, NOW)).toEqual([]);
  });

  it('root: MFA off and access keys present (GetAccountSummary) are critical', () => {
    const fs = computeFindings(input({ rootMfaEnabled: false, rootAccessKeysPresent: true }), DEFAULT_POSTURE_SETTINGS, NOW);
    expect(ids(fs)).toEqual([`root-access-keys:${ACCT}:root critical`, `root-mfa-off:${ACCT}:root critical`]);
    expect(fs[1]).toMatchObject({ principal: 'root', detail: `the root user of account prod (${ACCT}) has no MFA device` });
    expect(fs[1]?.fix).toMatch(/MFA device/);
  });

  it('root used within rootUseDays (the report\'s password or key last use) is high; 31 days ago is not', () => {
    const recent = ROOT_OK.replace('2025-01-01T00:00:00+00:00', '2026-11-20T09:00:00+00:00');
    const fs = computeFindings(input({ report: report(recent) }), DEFAULT_POSTURE_SETTINGS, NOW);
    expect(ids(fs)).toEqual([`root-used-recently:${ACCT}:root high`]);
    expect(fs[0]?.detail).toContain('2026-11-20');
    const old = ROOT_OK.replace('2025-01-01T00:00:00+00:00', '2026-11-01T11:00:00+00:00');
    expect(computeFindings(input({ report: report(old) }), DEFAULT_POSTURE_SETTINGS, NOW)).toEqual([]);
  });

  it('an active key older than maxKeyAgeDays, and one unused for unusedDays; inactive keys are not judged', () => {
    const fs = computeFindings(
      input({
        report: report(
          ROOT_OK,
          // key 1: 100 days old, used yesterday -> too old only
          row('ann', { k1: [true, '2026-08-24T00:00:00+00:00', '2026-12-01T00:00:00+00:00'] }),
          // key 1: 30 days old, never used -> fine; key 2: inactive and ancient -> fine
          row('ben', { k1: [true, '2026-11-02T00:00:00+00:00', 'N/A'], k2: [false, '2019-01-01T00:00:00+00:00', 'N/A'] }),
          // key 1: 60 days old, last used 95 days ago -> impossible in AWS but judged: unused
          row('cat', { k1: [true, '2026-10-03T00:00:00+00:00', '2026-08-29T00:00:00+00:00'] }),
          // key 1: 200 days old, never used -> both
          row('dan', { k1: [true, '2026-05-16T00:00:00+00:00', 'N/A'] }),
        ),
      }),
      DEFAULT_POSTURE_SETTINGS,
      NOW,
    );
    expect(ids(fs)).toEqual([
      `access-key-too-old:${ACCT}:user/ann/key1 medium`,
      `access-key-too-old:${ACCT}:user/dan/key1 medium`,
      `access-key-unused:${ACCT}:user/cat/key1 medium`,
      `access-key-unused:${ACCT}:user/dan/key1 medium`,
    ]);
    expect(fs[0]?.detail).toBe(`access key 1 of IAM user ann in account prod (${ACCT}) was created 2026-08-24, 100 days ago (more than 90)`);
    expect(fs[3]?.detail).toContain('has never been used since 2026-05-16');
  });

  it('a console password without MFA is high; two active keys is low while the newer is unused, and the older is rotation-ready once the newer is used', () => {
    const fs = computeFindings(
      input({
        report: report(
          ROOT_OK,
          row('eve', { password: true }),
          row('fay', { password: true, mfa: true }),
          // gus: the overlap rotation is done (key 2, created 11-30, used 12-01): key 1 can go.
          row('gus', { k1: [true, '2026-11-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00'], k2: [true, '2026-11-30T00:00:00+00:00', '2026-12-01T00:00:00+00:00'] }),
          // hal: key 2 was made but never used: the rotation is under way, key 1 is still needed.
          row('hal', { k1: [true, '2026-11-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00'], k2: [true, '2026-11-30T00:00:00+00:00', 'N/A'] }),
          // ida: key 1 is the newer one (created after key 2) and is in use: key 2 can go.
          row('ida', { k1: [true, '2026-11-30T00:00:00+00:00', '2026-12-01T00:00:00+00:00'], k2: [true, '2026-11-01T00:00:00+00:00', '2026-11-29T00:00:00+00:00'] }),
        ),
      }),
      DEFAULT_POSTURE_SETTINGS,
      NOW,
    );
    expect(ids(fs)).toEqual([
      `console-without-mfa:${ACCT}:user/eve high`,
      `rotation-ready:${ACCT}:user/gus/key1 medium`,
      `rotation-ready:${ACCT}:user/ida/key2 medium`,
      `two-active-keys:${ACCT}:user/hal low`,
    ]);
    expect(fs.find((f) => f.principal === 'user/gus/key1')?.detail).toBe(
      `IAM user gus in account prod (${ACCT}): access key 2 (created 2026-11-30) has been used since (last 2026-12-01), so key 1 is no longer needed`,
    );
  });

  it('an IAM user linked to an AD leaver with live credentials is high; one whose credentials are off is not', () => {
    const links = leaverLinks(
      [
        { userName: 'hal-legacy', adName: 'hal' },
        { userName: 'ivy-legacy', adName: 'ivy@corp.example' },
        { userName: 'jon-legacy', adName: 'jon' },
        { userName: 'kim-legacy', adName: 'kim' },
        { userName: 'lea-legacy', adName: 'lea' },
      ],
      [
        { guid: 'g-hal', dn: 'CN=hal', sAMAccountName: 'hal', disabled: true },
        { guid: 'g-ivy', dn: 'CN=ivy', sAMAccountName: 'ivy', userPrincipalName: 'ivy@corp.example', disabled: false, expiresAt: '2026-11-01T00:00:00Z' },
        { guid: 'g-kim', dn: 'CN=kim', sAMAccountName: 'kim', disabled: false },
        { guid: 'g-lea', dn: 'CN=lea', sAMAccountName: 'lea', disabled: true },
      ],
      NOW,
    );
    expect(links.map((l) => `${l.userName} ${l.why}`)).toEqual(['hal-legacy disabled', 'ivy-legacy expired (2026-11-01)', 'jon-legacy not in the directory', 'lea-legacy disabled']);
    const live: [boolean, string, string] = [true, '2026-11-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00'];
    const fs = computeFindings(
      input({
        leaverLinks: links,
        report: report(ROOT_OK, row('hal-legacy', { k1: live }), row('ivy-legacy', { password: true, mfa: true }), row('jon-legacy', { k1: live }), row('kim-legacy', { k1: live }), row('lea-legacy', { k1: [false, '2026-11-01T00:00:00+00:00', 'N/A'] })),
      }),
      DEFAULT_POSTURE_SETTINGS,
      NOW,
    );
    expect(ids(fs)).toEqual([`leaver-iam-user:${ACCT}:user/hal-legacy high`, `leaver-iam-user:${ACCT}:user/ivy-legacy high`, `leaver-iam-user:${ACCT}:user/jon-legacy high`]);
    expect(fs[0]?.detail).toBe(`IAM user hal-legacy in account prod (${ACCT}) is linked to AD account hal, which is disabled, and still has credentials`);
  });

  it('no password policy, and one below the configured minimum, with what falls short', () => {
    expect(ids(computeFindings(input({ passwordPolicy: null }), DEFAULT_POSTURE_SETTINGS, NOW))).toEqual([`password-policy-missing:${ACCT}:account medium`]);
    const settings = { ...DEFAULT_POSTURE_SETTINGS, passwordPolicy: { ...DEFAULT_POSTURE_SETTINGS.passwordPolicy, requireSymbols: true, maxAgeDays: 90 } };
    const fs = computeFindings(input({ passwordPolicy: { ...GOOD_POLICY, minimumLength: 8, reusePrevention: 5 } }), settings, NOW);
    expect(ids(fs)).toEqual([`password-policy-weak:${ACCT}:account medium`]);
    expect(fs[0]?.detail).toBe(`the password policy of account prod (${ACCT}) is below the minimum: minimum length 8 < 14; symbols not required; passwords expire after never (at most 90); 5 previous passwords remembered (at least 24)`);
  });

  it('administrators counted against admins.min and admins.max; not judged when not read', () => {
    const one = [{ principal: 'role/Admin', via: 'AdministratorAccess' }];
    const four = [...TWO_ADMINS, { principal: 'user/ops', via: 'inline policy all allows * on *' }, { principal: 'permission-set/Admin/GROUP:g-1', via: 'permission set Admin: AdministratorAccess' }];
    expect(ids(computeFindings(input({ admins: one }), DEFAULT_POSTURE_SETTINGS, NOW))).toEqual([`too-few-admins:${ACCT}:account medium`]);
    const fs = computeFindings(input({ admins: four }), DEFAULT_POSTURE_SETTINGS, NOW);
    expect(ids(fs)).toEqual([`too-many-admins:${ACCT}:account medium`]);
    expect(fs[0]?.detail).toBe(`account prod (${ACCT}) has 4 administrators (at most 3): role/Admin, role/BreakGlass, user/ops, permission-set/Admin/GROUP:g-1`);
    expect(computeFindings(input({ admins: null }), DEFAULT_POSTURE_SETTINGS, NOW)).toEqual([]);
  });
});

describe('parseCredentialReport', () => {
  it('finds columns by name, reads N/A and no_information as absent, and quoted names with commas', () => {
    const csv = ['arn,user,mfa_active,password_enabled,access_key_1_active,access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated,extra', `"arn:aws:iam::${ACCT}:user/a,b","a,b",TRUE,false,true,2026-01-01T00:00:00+00:00,false,N/A,x`].join('\r\n');
    const [r] = parseCredentialReport(csv, ACCT);
    expect(r).toMatchObject({ user: 'a,b', isRoot: false, mfaActive: true, passwordEnabled: false, passwordLastUsed: null });
    expect(r?.keys[0]).toEqual({ active: true, lastRotated: new Date('2026-01-01T00:00:00Z'), lastUsed: null });
    expect(r?.keys[1]).toEqual({ active: false, lastRotated: null, lastUsed: null });
  });

  it('refuses a report without the columns it needs, naming the account', () => {
    expect(() => parseCredentialReport('user,arn\nx,y', ACCT)).toThrow(/credential report of account 222222222222: columns missing: password_enabled/);
  });
});

describe('findings over time', () => {
  const f = (kind: Finding['kind'], account: string, principal: string): Finding => ({ id: `${kind}:${account}:${principal}`, kind, severity: 'medium', account, accountAlias: 'a', principal, detail: '', fix: '' });
  const a = f('two-active-keys', '1', 'user/a');
  const b = f('two-active-keys', '1', 'user/b');
  const c = f('two-active-keys', '2', 'user/c');

  it('opens new findings and resolves absent ones only in accounts the run read', () => {
    const open = new Map([a, c].map((x) => [x.id, x]));
    const events = diffFindings(open, [b], new Set(['1']));
    expect(events.map((e) => `${e.event} ${e.finding.id}`)).toEqual([`opened ${b.id}`, `resolved ${a.id}`]);
  });

  it('says what was open as of a moment, since when, and when it was resolved afterwards', () => {
    const events = [
      { at: '2026-11-01T00:00:00Z', event: 'opened' as const, finding: a },
      { at: '2026-11-01T00:00:00Z', event: 'opened' as const, finding: b },
      { at: '2026-11-10T00:00:00Z', event: 'resolved' as const, finding: a },
      { at: '2026-11-20T00:00:00Z', event: 'resolved' as const, finding: b },
      { at: '2026-11-25T00:00:00Z', event: 'opened' as const, finding: a },
    ];
    expect(openAsOf(events, '2026-11-15T23:59:59Z')).toEqual([{ finding: b, openedAt: '2026-11-01T00:00:00Z', resolvedAt: '2026-11-20T00:00:00Z' }]);
    expect(openAsOf(events, '2026-11-05T00:00:00Z').map((h) => [h.finding.id, h.resolvedAt])).toEqual([
      [a.id, '2026-11-10T00:00:00Z'],
      [b.id, '2026-11-20T00:00:00Z'],
    ]);
    expect(openAsOf(events, '2026-12-01T00:00:00Z')).toEqual([{ finding: a, openedAt: '2026-11-25T00:00:00Z', resolvedAt: null }]);
  });
});
