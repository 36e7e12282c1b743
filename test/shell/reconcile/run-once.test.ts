import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../../src/adapters/journal/sqlite-journal.js';
import { InvalidInputError } from '../../../src/core/errors.js';
import { groupSelection, runOnce, targetResolver } from '../../../src/shell/reconcile/run-once.js';
import { StalePlanError, TamperedPlanError } from '../../../src/shell/reconcile/errors.js';
import { planHash } from '../../../src/core/plan/plan-hash.js';
import { MemoryTarget } from '../../support/fake-ports.js';
import { loadTestConfig, NOW, world } from './fixtures.js';

class DirectoryDown extends InvalidInputError {}

describe('run-once without the core', () => {
  it('asks the directory for exactly the groups the role map names, and the pattern rules', () => {
    const sel = groupSelection(loadTestConfig().roleMap);
    expect(sel.refs).toEqual([
      { by: 'sAMAccountName', value: 'AWS-Prod-Admins' },
      { by: 'sAMAccountName', value: 'AWS-Prod-Readers' },
    ]);
    expect(sel.namePatterns).toEqual(['^AWS-(?<account>\\d{12})-(?<role>[\\w+=,.@-]+)$']);
  });

  it('maps each kind to the target that claims it, and refuses a kind claimed twice or by none', () => {
    const iam = new MemoryTarget('iam', ['iam_role']);
    const ic = new MemoryTarget('ic', ['identitystore_user']);
    const targetFor = targetResolver([iam, ic]);
    expect(targetFor('iam_role')).toBe(iam);
    expect(targetFor('identitystore_user')).toBe(ic);
    expect(() => targetFor('sso_permission_set')).toThrow('no target applies resource kind sso_permission_set (targets: iam, ic)');
    expect(() => targetResolver([iam, new MemoryTarget('iam2', ['iam_role'])])).toThrow('resource kind iam_role is claimed by two targets: iam and iam2');
  });

  it('journals a run whose directory read fails as failed, with the error, and reads nothing else', async () => {
    const w = world();
    w.source.failWith = new DirectoryDown('LDAP bind failed: data 52e (bad password) for svc@example.com');
    let read = false;
    w.iam.readActual = async () => {
      read = true;
      return { resources: [], warnings: [] };
    };
    await expect(runOnce(w.runtime, { mode: 'apply', trigger: 'test', runId: 'run-1' })).rejects.toBeInstanceOf(DirectoryDown);
    expect(read).toBe(false);
    expect(w.journal.types()).toEqual(['startRun', 'finishRun']);
    expect(w.journal.finish()).toEqual({ type: 'finishRun', runId: 'run-1', outcome: 'failed', error: 'LDAP bind failed: data 52e (bad password) for svc@example.com' });
    expect(w.iam.applied).toEqual([]);
  });

  it('journals a run whose AWS read fails as failed', async () => {
    const w = world();
    w.iam.readFailure = new Error('AccessDenied: iam:GetAccountAuthorizationDetails');
    await expect(runOnce(w.runtime, { mode: 'dry-run', trigger: 'test' })).rejects.toThrow('AccessDenied');
    expect(w.journal.finish()?.outcome).toBe('failed');
  });

  it('gives every run an id (a UUID unless given) that is on each log line and journal row', async () => {
    const w = world();
    w.source.failWith = new DirectoryDown('down');
    await expect(runOnce(w.runtime, { mode: 'dry-run', trigger: 'cli' })).rejects.toThrow('down');
    const start = w.journal.events[0];
    expect(start?.type).toBe('startRun');
    const runId = start?.type === 'startRun' ? start.run.runId : '';
    expect(runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(start).toMatchObject({ run: { trigger: 'cli', mode: 'dry-run', configHash: w.config.hash, startedAt: '2026-03-02T10:00:00.000Z' } });
    expect(w.log.lines.length).toBeGreaterThan(1);
    for (const line of w.log.lines) expect(line['runId']).toBe(runId);
    expect(w.log.lines.at(-1)).toMatchObject({ level: 'info', outcome: 'failed', msg: 'run finished' });
  });
  it('refuses a saved plan made for another owner id before reading anything', async () => {
    const w = world();
    const foreign = { formatVersion: 1, createdAt: '2026-03-01T00:00:00Z', ownerId: 'someone-else', changes: [], warnings: [], refusal: null, actualDigest: 'x', summary: { add: 0, change: 0, destroy: 0, leavers: 0 } } as const;
    await expect(runOnce(w.runtime, { mode: 'saved-plan', trigger: 'test', savedPlan: foreign })).rejects.toThrow(
      "the saved plan was made for owner id someone-else, but this configuration's owner id is test-owner",
    );
    expect(w.source.selections).toEqual([]);
    expect(w.journal.finish()?.outcome).toBe('refused');
  });
});

describe('run-once with the core', () => {
  it('a dry run plans, journals the plan as planned, and changes nothing', async () => {
    const w = world();
    const result = await runOnce(w.runtime, { mode: 'dry-run', trigger: 'test', runId: 'dry' });
    expect(result.outcome).toBe('planned');
    expect(result.report).toBeNull();
    expect(result.plan.changes.map((c) => [c.action, c.kind, c.key])).toEqual(
      expect.arrayContaining([
        ['create', 'iam_role', 'iam_role:123456789012/Admin'],
        ['create', 'iam_role', 'iam_role:123456789012/ReadOnly'],
      ]),
    );
    expect(w.iam.applied).toEqual([]);
    expect(w.iam.resources.size).toBe(0);
    expect(w.journal.types()).toEqual(['startRun', 'recordPlan', 'finishRun']);
    expect(w.journal.finish()?.outcome).toBe('planned');
  });

  it('applies the plan with journal hooks, records entitlements, and the next run has no changes', async () => {
    const w = world();
    const first = await runOnce(w.runtime, { mode: 'apply', trigger: 'test', runId: 'one' });
    expect(first.outcome).toBe('applied');
    expect(first.report?.applied).toBe(first.plan.changes.length);
    expect(w.iam.resources.has('iam_role:123456789012/Admin')).toBe(true);
    const types = w.journal.types();
    expect(types.filter((t) => t === 'preApply')).toHaveLength(first.plan.changes.length);
    expect(types.filter((t) => t === 'postApply')).toHaveLength(first.plan.changes.length);
    expect(types.at(-2)).toBe('recordEntitlements');
    expect(w.journal.last?.map((e) => `${e.userName}:${e.target}`).sort()).toEqual(['alice:Admin', 'alice:ReadOnly', 'bob:ReadOnly']);

    const second = await runOnce(w.runtime, { mode: 'apply', trigger: 'test', runId: 'two' });
    expect(second.outcome).toBe('no-changes');
    expect(second.plan.changes).toEqual([]);
  });

  it('refuses when the directory is smaller than the minimum, and applies nothing', async () => {
    const w = world({ minDirectoryUsers: 50 });
    const result = await runOnce(w.runtime, { mode: 'apply', trigger: 'test' });
    expect(result.outcome).toBe('refused');
    expect(result.plan.refusal?.code).toBe('directory-too-small');
    expect(w.iam.applied).toEqual([]);
    expect(w.journal.finish()?.outcome).toBe('refused');
  });

  it('applies nothing when the confirmation is declined', async () => {
    const w = world();
    const seen: number[] = [];
    const result = await runOnce(w.runtime, {
      mode: 'apply',
      trigger: 'test',
      confirm: async (plan) => {
        seen.push(plan.changes.length);
        return false;
      },
    });
    expect(seen).toEqual([result.plan.changes.length]);
    expect(result).toMatchObject({ outcome: 'planned', declined: true, report: null });
    expect(w.iam.applied).toEqual([]);
  });

  it('applies a saved plan exactly when AWS has not changed since', async () => {
    const w = world();
    const dry = await runOnce(w.runtime, { mode: 'dry-run', trigger: 'test' });
    w.journal.recordSavedPlan(dry.runId, planHash(dry.plan), dry.plan.changes.length);
    const result = await runOnce(w.runtime, { mode: 'saved-plan', trigger: 'test', savedPlan: dry.plan });
    expect(result.outcome).toBe('applied');
    expect(result.plan).toBe(dry.plan);
    expect(w.iam.applied.map((c) => c.key)).toEqual(dry.plan.changes.map((c) => c.key));
  });

  it('refuses a saved plan whose hash the journal never recorded, before applying anything', async () => {
    const w = world();
    const dry = await runOnce(w.runtime, { mode: 'dry-run', trigger: 'test' });
    await expect(runOnce(w.runtime, { mode: 'saved-plan', trigger: 'test', savedPlan: dry.plan, runId: 'unsaved' })).rejects.toThrow(TamperedPlanError);
    expect(w.iam.applied).toEqual([]);
    expect(w.journal.finish()).toMatchObject({ runId: 'unsaved', outcome: 'refused' });
  });

  it('applies an approved refused plan, its refusal lifted (the daemon after rolemap approve RUN); unapproved it stays refused', async () => {
    const w = world({ minDirectoryUsers: 100 });
    const refused = await runOnce(w.runtime, { mode: 'apply', trigger: 'test' });
    expect(refused.outcome).toBe('refused');
    expect(refused.plan.refusal?.code).toBe('directory-too-small');
    w.journal.recordSavedPlan(refused.runId, planHash(refused.plan), refused.plan.changes.length);
    const again = await runOnce(w.runtime, { mode: 'saved-plan', trigger: 'test', savedPlan: refused.plan });
    expect(again.outcome).toBe('refused');
    expect(w.iam.applied).toEqual([]);
    const approved = await runOnce(w.runtime, { mode: 'saved-plan', trigger: 'test', savedPlan: refused.plan, approvedRefusal: true });
    expect(approved.outcome).toBe('applied');
    expect(approved.plan.refusal).toBeNull();
    expect(approved.plan.changes).toEqual(refused.plan.changes);
    expect(w.iam.applied.map((c) => c.key)).toEqual(refused.plan.changes.map((c) => c.key));
  });

  it('refuses a saved plan with StalePlanError when AWS changed since it was made', async () => {
    const w = world();
    const dry = await runOnce(w.runtime, { mode: 'dry-run', trigger: 'test' });
    // Someone creates a role by hand between plan and apply.
    w.iam.resources.set('iam_role:123456789012/Manual', {
      kind: 'iam_role',
      id: '123456789012/Manual',
      account: '123456789012',
      name: 'Manual',
      owned: false,
      attrs: { path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, trustPolicy: { Version: '2012-10-17', Statement: [] }, managedPolicyArns: [], inlinePolicies: {}, tags: {} },
    });
    await expect(runOnce(w.runtime, { mode: 'saved-plan', trigger: 'test', savedPlan: dry.plan, runId: 'stale' })).rejects.toBeInstanceOf(StalePlanError);
    expect(w.iam.applied).toEqual([]);
    expect(w.journal.finish()).toMatchObject({ runId: 'stale', outcome: 'refused' });
  });

  it('reports a partial run when one change fails, and still journals the entitlements', async () => {
    const w = world();
    w.iam.failOn.add('iam_role:123456789012/Admin');
    const result = await runOnce(w.runtime, { mode: 'apply', trigger: 'test' });
    expect(result.outcome).toBe('partial');
    expect(result.report?.failed).toBeGreaterThanOrEqual(1);
    expect(w.journal.types()).toContain('applyFailed');
    expect(w.journal.finish()?.outcome).toBe('partial');
  });

  it('an aborted run applies nothing and is interrupted', async () => {
    const w = world();
    const controller = new AbortController();
    controller.abort();
    const result = await runOnce(w.runtime, { mode: 'apply', trigger: 'test', signal: controller.signal });
    expect(result.outcome).toBe('interrupted');
    expect(w.iam.applied).toEqual([]);
  });

  it('remembers who holds what when AD changed but AWS did not, so a later leaver can be revoked', async () => {
    const w = world();
    await runOnce(w.runtime, { mode: 'apply', trigger: 'test' });
    const snap = w.source.snapshot;
    w.source.snapshot = { ...snap, groups: snap.groups.map((g) => (g.name === 'AWS-Prod-Admins' ? { ...g, members: [...g.members, '00000000-0000-4000-8000-000000000002'] } : g)) };
    const before = w.journal.types().filter((t) => t === 'recordEntitlements').length;
    const result = await runOnce(w.runtime, { mode: 'apply', trigger: 'test' });
    expect(result.outcome).toBe('no-changes');
    expect(w.journal.types().filter((t) => t === 'recordEntitlements')).toHaveLength(before + 1);
    expect(w.journal.last?.map((e) => `${e.userName}:${e.target}`).sort()).toEqual(['alice:Admin', 'alice:ReadOnly', 'bob:Admin', 'bob:ReadOnly']);

    // Unchanged since: nothing more is written.
    await runOnce(w.runtime, { mode: 'apply', trigger: 'test' });
    expect(w.journal.types().filter((t) => t === 'recordEntitlements')).toHaveLength(before + 1);
  });

  it('logs the journal chain head with the end of each run, an anchor outside the database', async () => {
    const w = world();
    const dir = mkdtempSync(join(tmpdir(), 'rolemap-anchor-'));
    const journal = SqliteJournal.open(join(dir, 'journal.db'), { clock: () => NOW });
    try {
      await runOnce({ ...w.runtime, journal }, { mode: 'apply', trigger: 'test', runId: 'anchored' });
      const head = journal.chainHead();
      expect(head).not.toBeNull();
      expect(w.log.lines.at(-1)).toMatchObject({ msg: 'run finished', runId: 'anchored', journalChainHead: head });
    } finally {
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a dry run never writes entitlements', async () => {
    const w = world();
    await runOnce(w.runtime, { mode: 'dry-run', trigger: 'test' });
    expect(w.journal.types()).not.toContain('recordEntitlements');
    expect(w.journal.last).toBeNull();
  });
});
