/**
 * Golden tests of the plan for people and for machines. Regenerate after an intended change with
 *   UPDATE_GOLDEN=1 npx vitest run test/core/render.test.ts
 * and read the diff of test/core/golden/ before committing it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Plan, Resource } from '../../src/core/index.js';
import { InvalidInputError, planDifference, planFromJson, planHash, planToJson, renderPlan } from '../../src/core/index.js';
import { savedPlanFromJson, savedPlanToJson } from '../../src/core/render/json.js';
import { acmeMap, acmeSnapshot, alice, bob, carol, dave, erin, frank } from '../support/acme.js';
import { actual, converged, history, NO_HISTORY, planFor, PROD, role, SSO } from '../support/builders.js';

const goldenDir = join(dirname(fileURLToPath(import.meta.url)), 'golden');

function golden(name: string, text: string): void {
  const file = join(goldenDir, name);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, text);
  if (!existsSync(file)) throw new Error(`golden ${name} is missing; run with UPDATE_GOLDEN=1 and review it`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

/** A busy morning at Acme: a joiner, a leaver, a drifted role, a stranger's user, a legacy IAM user. */
async function busyMorning(maxDeletes = 1000): Promise<Plan> {
  const before = await converged(acmeSnapshot(), acmeMap());
  const entitlements = planFor(acmeSnapshot(), acmeMap(), actual([])).desired.entitlements;
  const resources = [...before.resources.values()].map((r) =>
    r.kind === 'iam_role' && r.name === 'Developer'
      ? { ...r, attrs: { ...r.attrs, description: 'edited in the console', managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'], inlinePolicies: { extra: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] } } } }
      : r,
  ) as Resource[];
  const stranger: Resource = { kind: 'identitystore_user', id: 'unowned:u-frank', account: SSO, name: 'frank@example.com', owned: false, awsId: 'u-frank', attrs: { userName: 'frank@example.com', displayName: 'Frank (manual)', givenName: 'Frank', familyName: 'Example', email: null } };
  const legacy: Resource = { kind: 'iam_user_credentials', id: `${PROD}/carol-legacy`, account: PROD, name: 'carol-legacy', owned: false, awsId: 'AIDACAROL', principal: { guid: '', name: 'carol' }, attrs: { accessKeys: { AKIAEXAMPLE1: 'Active' }, loginProfile: true } };
  const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, dave, erin, frank], groups: { developers: [bob, carol, frank] } });
  return planFor(snap, acmeMap({ safety: { maxDeletes } }), actual([...resources, stranger, legacy], ['iam: role dev/Legacy has a trust policy rolemap cannot read']), { history: history(entitlements) }).plan;
}

describe('human plan', () => {
  it('matches the golden for a busy morning', async () => {
    golden('busy-morning.txt', renderPlan(await busyMorning(), { color: false }));
  });

  it('matches the golden for a refused plan', async () => {
    golden('refused.txt', renderPlan(await busyMorning(1), { color: false }));
  });

  it('matches the golden for a joiner (creates)', async () => {
    const before = await converged(acmeSnapshot(), acmeMap());
    const snap = acmeSnapshot({ groups: { developers: [bob, carol, frank] } });
    const { plan } = planFor(snap, acmeMap(), before.state(), { history: NO_HISTORY });
    golden('joiner.txt', renderPlan(plan, { color: false }));
  });

  it('says No changes when there are none', async () => {
    const target = await converged(acmeSnapshot(), acmeMap());
    const { plan } = planFor(acmeSnapshot(), acmeMap(), target.state(), { history: NO_HISTORY });
    golden('no-changes.txt', renderPlan(plan, { color: false }));
  });

  it("prints rolemap's standard SAML trust policy once, then names the change that showed it", () => {
    const map = acmeMap({ federatedRoles: [role('AWS-Admins', PROD, 'Admin'), role('Developers', PROD, 'Developer')] });
    const { plan } = planFor(acmeSnapshot(), map, actual([]));
    const text = renderPlan(plan, { color: false });
    const roles = plan.changes.filter((c) => c.kind === 'iam_role' && c.action === 'create');
    const admin = roles.find((c) => c.address === 'iam_role.prod.Admin');
    const developer = roles.find((c) => c.address === 'iam_role.prod.Developer');
    // Admin and Developer have the same trust (the pattern rule's Billing has another, printed in full too).
    expect(admin && developer && admin.seq < developer.seq).toBe(true);
    expect(text.match(/\+ trustPolicy = <<POLICY/g)?.length).toBe(roles.length - 1);
    expect(text).toContain(`+ trustPolicy = rolemap's standard SAML trust of saml-provider/ADFS, as shown in #${admin?.seq}`);
  });

  it('compact (an apply of a plan already read): one line per change with its reason, no attribute bodies', async () => {
    const plan = await busyMorning();
    const compact = renderPlan(plan, { color: false, compact: true });
    expect(compact).not.toContain('<<POLICY');
    expect(compact).not.toContain('entries[');
    for (const c of plan.changes) expect(compact).toContain(`#${c.seq} `);
    expect(compact.split('\n').length).toBeLessThan(renderPlan(plan, { color: false }).split('\n').length);
    expect(compact).not.toMatch(/^ {6}[+~-] /m);
    expect(compact).toContain('Plan: 0 to add, 1 to change, 2 to destroy;');
  });

  it('colours only when asked', async () => {
    const plan = await busyMorning();
    expect(renderPlan(plan, { color: false })).not.toContain('\u001b[');
    expect(renderPlan(plan, { color: true })).toContain('\u001b[32m+\u001b[0m');
  });

  it('marks leavers distinctly', async () => {
    const text = renderPlan(await busyMorning(), { color: false });
    expect(text).toContain(`! iam_role_revocations.dev.Developer will be revoked`);
    expect(text).toContain(`x iam_user_credentials.prod.carol-legacy will be disabled`);
    // A permission set's revocation entries are keyed by Identity Store UserId: the reason names whose it is.
    expect(text).toMatch(/# carol disabled in AD, seen [^(]+ \(UserId mem-9\): live sessions on permission set PowerUser denied from/);
    expect(text).toContain("Plan: 0 to add, 1 to change, 2 to destroy; 2 session revocations, 1 IAM user's credentials disabled.");
    expect(text).toContain("1 leaver (carol): 2 session revocations, 1 IAM user's credentials disabled, 1 membership removed, 1 Identity Center user deleted.");
  });
});

describe('JSON plan', () => {
  it('matches the golden and reads back to the same plan', async () => {
    const plan = await busyMorning();
    const json = planToJson(plan);
    golden('busy-morning.json', json);
    expect(planToJson(planFromJson(json))).toBe(json);
    expect(JSON.parse(json).formatVersion).toBe(1);
  });

  it('is stable: the same inputs give the same bytes', async () => {
    expect(planToJson(await busyMorning())).toBe(planToJson(await busyMorning()));
  });

  it('a handed-out plan carries planHash, the sha256 of its canonical JSON, which survives the round trip', async () => {
    const plan = await busyMorning();
    const text = savedPlanToJson(plan);
    const { plan: read, carriedHash } = savedPlanFromJson(text);
    expect(carriedHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(carriedHash).toBe(planHash(plan));
    expect(planHash(read)).toBe(planHash(plan));
    expect(planToJson(read)).toBe(planToJson(plan));
    expect(savedPlanFromJson(planToJson(plan)).carriedHash).toBeNull();
    expect(planDifference(read, plan)).toBeNull();
  });

  it('planDifference names the first thing a saved plan has that the plan made now has not', async () => {
    const plan = await busyMorning();
    const edit = (f: (p: { changes: Array<Record<string, unknown>>; refusal: unknown }) => void): Plan => {
      const copy = JSON.parse(planToJson(plan)) as { changes: Array<Record<string, unknown>>; refusal: unknown };
      f(copy);
      return planFromJson(JSON.stringify(copy));
    };
    const first = plan.changes[0];
    expect(planDifference(edit((p) => (p.refusal = { code: 'deletion-threshold', message: 'x' })), plan)).toBe('refusal is deletion-threshold in the saved plan, none (not refused) in the plan made now');
    expect(planDifference(edit((p) => (p.changes[0] = { ...p.changes[0], reason: 'edited' })), plan)).toMatch(new RegExp(`^change #1 ${first?.address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: reason is "edited" in the saved plan, ".+ in the plan made now$`));
    const fewer: Plan = { ...plan, changes: plan.changes.slice(1) };
    expect(planDifference(plan, fewer)).toBe(`change #1 ${first?.address} (${first?.action}) is in the saved plan, but the plan made now has no such change`);
    expect(planDifference(fewer, plan)).toBe(`the plan made now has change #1 ${first?.address} (${first?.action}), which the saved plan lacks`);
  });

  it('rejects what is not a plan, naming the problem', async () => {
    const good = JSON.parse(planToJson(await busyMorning())) as Record<string, unknown>;
    const bad = (p: unknown): string => JSON.stringify(p);
    expect(() => planFromJson('{not json', 'saved.plan')).toThrow(/saved\.plan: not a rolemap plan/);
    expect(() => planFromJson(bad({ ...good, formatVersion: 2 }))).toThrow(/plan format version 2 is not supported \(this rolemap reads version 1\)/);
    expect(() => planFromJson(bad({ ...good, actualDigest: 'md5:x' }))).toThrow(/actualDigest/);
    const changes = good['changes'] as Record<string, unknown>[];
    expect(() => planFromJson(bad({ ...good, changes: [{ ...changes[0], action: 'explode' }, ...changes.slice(1)] }))).toThrow(/changes\.0\.action/);
    expect(() => planFromJson(bad({ ...good, changes: [changes[1], changes[0], ...changes.slice(2)] }))).toThrow(/changes\.0\.seq is 2, expected 1/);
    expect(() => planFromJson(bad({ ...good, extra: true }))).toThrow(InvalidInputError);
  });
});
