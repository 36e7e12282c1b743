import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { planHash } from '../../../src/core/plan/plan-hash.js';
import { PlanMismatchError } from '../../../src/shell/reconcile/errors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../../src/shell/daemon/daemon.js';
import type { DaemonOptions } from '../../../src/shell/daemon/daemon.js';
import { ApprovalStore } from '../../../src/shell/daemon/approvals.js';
import { InvalidInputError } from '../../../src/core/errors.js';
import type { DaemonSettings } from '../../../src/shell/daemon/settings.js';
import { FakeRun, captureLogger, plan, settings, sleep, waitFor } from './fake-run.js';
import type { TestConfig } from './fake-run.js';

let dir: string;
let journal: string;
const daemons: Daemon<TestConfig>[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolemap-daemon-'));
  journal = join(dir, 'journal.db');
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop('test end')));
  rmSync(dir, { recursive: true, force: true });
});

/** A daemon over the fake run; `now` is a clock the test moves. */
function build(over: Partial<DaemonSettings> = {}, options: Partial<DaemonOptions> = {}) {
  const fake = new FakeRun();
  const { log, lines } = captureLogger();
  const clock = { now: new Date('2026-03-01T10:00:00.000Z') };
  let config: TestConfig | Error = { name: 'v1', settings: settings(journal, over) };
  const daemon = new Daemon<TestConfig>({
    loadConfig: () => {
      if (config instanceof Error) throw config;
      return config;
    },
    settingsOf: (c) => c.settings,
    run: fake.run,
    log,
    clock: () => clock.now,
    options,
    command: 'rolemap daemon (test)',
  });
  daemons.push(daemon);
  const setConfig = (c: TestConfig | Error): void => {
    config = c;
  };
  const advance = (ms: number): void => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  return { daemon, fake, lines, clock, setConfig, advance };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function messages(lines: Record<string, unknown>[]): string[] {
  return lines.map((l) => String(l['msg']));
}

describe('scheduling', () => {
  it('never overlaps runs: a one-second schedule with a slow run skips ticks, logs and counts each skip', async () => {
    const { daemon, fake, lines } = build({ schedule: '* * * * * *', runAtStart: true });
    fake.fallback = { delayMs: 2_600, changes: 1 };
    await daemon.start();
    await waitFor(() => lines.some((l) => l['skipped'] === 'overlap'), 5_000, 'an overlap skip');
    expect(fake.calls).toHaveLength(1);
    const skips = lines.filter((l) => l['skipped'] === 'overlap');
    expect(skips[0]).toMatchObject({ level: 'warn', running: daemon.lastRun?.runId ?? fake.calls[0]?.options.runId });
    const metrics = await daemon.metrics.text();
    const counted = Number(/^rolemap_skipped_runs_total\{reason="overlap"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(counted).toBe(skips.length);
    expect(counted).toBeGreaterThanOrEqual(1);
  });

  it('gives every run its own id, passes it to the run and puts it on every log line of the run', async () => {
    const { daemon, fake, lines } = build();
    await daemon.start();
    await daemon.trigger('manual');
    await daemon.trigger('manual');
    const ids = fake.calls.map((c) => c.options.runId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(fake.calls[0]?.options).toMatchObject({ mode: 'apply', trigger: 'daemon' });
    // The fake logs through the logger it was given: that line carries the run id.
    const fakeLines = lines.filter((l) => l['fake'] === true);
    expect(fakeLines.map((l) => l['runId'])).toEqual(ids);
    for (const msg of ['run summary']) expect(lines.filter((l) => l['msg'] === msg).map((l) => l['runId'])).toEqual(ids);
  });

  it('backs off after consecutive failures (exponential, capped) and resets on success', async () => {
    const { daemon, fake, lines, advance } = build({}, { backoffInitialMs: 10_000, backoffMaxMs: 25_000 });
    fake.fallback = { throws: 'directory unreachable' };
    await daemon.start();
    await daemon.trigger('schedule'); // failure 1 -> 10 s
    expect(daemon.trigger('schedule')).toBeNull();
    advance(9_000);
    expect(daemon.trigger('schedule')).toBeNull();
    advance(1_001);
    await daemon.trigger('schedule'); // failure 2 -> 20 s
    advance(19_000);
    expect(daemon.trigger('schedule')).toBeNull();
    advance(1_001);
    await daemon.trigger('schedule'); // failure 3 -> capped at 25 s
    advance(24_000);
    expect(daemon.trigger('schedule')).toBeNull();
    advance(1_001);
    fake.fallback = { changes: 2 };
    const ok = await daemon.trigger('schedule');
    expect(ok?.outcome).toBe('applied');
    expect(fake.calls).toHaveLength(4);
    const backoffLines = lines.filter((l) => l['msg'] === 'backing off: scheduled runs before this time are skipped');
    expect(backoffLines.map((l) => l['backoffMs'])).toEqual([10_000, 20_000, 25_000]);
    const metrics = await daemon.metrics.text();
    expect(metrics).toMatch(/^rolemap_skipped_runs_total\{reason="backoff"\} 4$/m);
    expect(metrics).toMatch(/^rolemap_consecutive_failures 0$/m);
    // After the success there is no backoff: the next tick runs at once.
    expect(daemon.trigger('schedule')).not.toBeNull();
  });
});

describe('health', () => {
  it('goes never-ran -> failed (with the error) -> healthy -> stale, over HTTP', async () => {
    const { daemon, fake, advance } = build({ schedule: '*/5 * * * *' }, { backoffInitialMs: 1 });
    await daemon.start();
    expect(daemon.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    let h = await getJson(`${daemon.url}/healthz`);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ status: 'unhealthy', reason: 'never-ran' });

    fake.steps.push({ throws: 'LDAP bind failed: data 52e' });
    await daemon.trigger('manual');
    h = await getJson(`${daemon.url}/healthz`);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ reason: 'failed', error: 'LDAP bind failed: data 52e', consecutiveFailures: 1 });

    fake.steps.push({ outcome: 'partial', changes: 3 });
    await daemon.trigger('manual');
    h = await getJson(`${daemon.url}/healthz`);
    expect(h.body).toMatchObject({ reason: 'failed', consecutiveFailures: 2 });
    expect(String(h.body['message'])).toContain('ended partial');

    fake.steps.push({ changes: 3 });
    await daemon.trigger('manual');
    h = await getJson(`${daemon.url}/healthz`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ healthy: true, status: 'healthy', consecutiveFailures: 0 });

    // Three intervals of five minutes without a success: stale.
    advance(14 * 60_000);
    expect((await getJson(`${daemon.url}/healthz`)).status).toBe(200);
    advance(2 * 60_000);
    h = await getJson(`${daemon.url}/healthz`);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ reason: 'stale' });
    expect((await fetch(`${daemon.url}/nope`)).status).toBe(404);
  });

  it('serves /metrics as Prometheus text with the run, change, refusal and directory metrics', async () => {
    const { daemon, fake } = build();
    await daemon.start();
    fake.steps.push({ changes: 3 }, { outcome: 'partial', changes: 2 }, { refusal: { code: 'deletion-threshold', message: 'too many deletes' }, changes: 40 });
    await daemon.trigger('manual');
    await daemon.trigger('manual');
    await daemon.trigger('manual');
    daemon.metrics.observeDirectory({ users: 1234, groups: 56 });
    daemon.metrics.onThrottleRetry('iam');
    daemon.metrics.onThrottleRetry('iam');
    daemon.metrics.onThrottleRetry('identitystore');

    const res = await fetch(`${daemon.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const samples = parsePrometheus(text);
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;

    expect(value('rolemap_runs_total', { outcome: 'applied' })).toBe(1);
    expect(value('rolemap_runs_total', { outcome: 'partial' })).toBe(1);
    expect(value('rolemap_runs_total', { outcome: 'refused' })).toBe(1);
    expect(value('rolemap_run_duration_seconds_count', { outcome: 'applied' })).toBe(1);
    expect(value('rolemap_run_duration_seconds_bucket', { outcome: 'applied', le: '+Inf' })).toBe(1);
    // 3 applied in the first run, 1 applied + 1 failed in the partial one.
    expect(value('rolemap_changes_applied_total', { action: 'create', kind: 'iam_role' })).toBe(4);
    expect(value('rolemap_changes_failed_total', { action: 'create', kind: 'iam_role' })).toBe(1);
    expect(value('rolemap_refused_plans_total', { code: 'deletion-threshold' })).toBe(1);
    expect(value('rolemap_refusal_pending')).toBe(1);
    expect(value('rolemap_directory_users')).toBe(1234);
    expect(value('rolemap_directory_groups')).toBe(56);
    expect(value('rolemap_aws_throttle_retries_total', { service: 'iam' })).toBe(2);
    expect(value('rolemap_aws_throttle_retries_total', { service: 'identitystore' })).toBe(1);
    expect(value('rolemap_last_success_timestamp_seconds')).toBe(new Date('2026-03-01T10:00:00.000Z').getTime() / 1000);
    expect(value('rolemap_process_resident_memory_bytes')).toBeGreaterThan(0);
    // Every metric has HELP and TYPE.
    const names = new Set(samples.map((s) => s.family));
    for (const n of names) {
      expect(text).toContain(`# HELP ${n} `);
      expect(text).toContain(`# TYPE ${n} `);
    }
  });
});

interface Sample {
  name: string;
  family: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The Prometheus text exposition format, strictly: every line is a comment, blank, or a sample.
 * Values as Prometheus reads them (Go's ParseFloat: NaN and Inf in any case; prom-client writes `Nan`
 * for an event-loop gauge not yet measured).
 */
function parsePrometheus(text: string): Sample[] {
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? ([+-]?(?:[0-9.]+(?:e[+-]?[0-9]+)?|[Nn][Aa][Nn]|[Ii][Nn][Ff]))( -?\d+)?$/;
  const comment = /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/;
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line, 'comment line').toMatch(comment);
      const t = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (t?.[1] && t[2]) types.set(t[1], t[2]);
      continue;
    }
    const m = sampleLine.exec(line);
    expect(m, `sample line: ${line}`).not.toBeNull();
    if (!m?.[1] || m[4] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) if (l[1]) labels[l[1]] = l[2] ?? '';
    const name = m[1];
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(family), `TYPE declared before ${name}`).toBe(true);
    samples.push({ name, family, labels, value: Number(m[4]) });
  }
  return samples;
}

describe('config reload (SIGHUP)', () => {
  it('keeps the running config when the new one is invalid, and says why', async () => {
    const { daemon, fake, lines, setConfig } = build();
    await daemon.start();
    setConfig(new InvalidInputError('rolemap.yaml:12:3: accounts.prod: expected a 12-digit account id'));
    const r = await daemon.reload();
    expect(r).toEqual({ ok: false, error: 'rolemap.yaml:12:3: accounts.prod: expected a 12-digit account id' });
    expect(daemon.config.name).toBe('v1');
    const line = lines.find((l) => String(l['msg']).startsWith('config reload failed; keeping the running config'));
    expect(line).toMatchObject({ level: 'error' });
    expect(String(line?.['msg'])).toContain('rolemap.yaml:12:3');
    await daemon.trigger('manual');
    expect(fake.calls[0]?.config.name).toBe('v1');
  });

  it('rejects a reload with an invalid schedule or a moved journal, and takes a valid one', async () => {
    const { daemon, fake, setConfig } = build();
    await daemon.start();
    setConfig({ name: 'bad-cron', settings: settings(journal, { schedule: '61 * * * *' }) });
    expect((await daemon.reload()).error).toContain('schedule "61 * * * *" is not a cron expression');
    setConfig({ name: 'moved', settings: settings(join(dir, 'other.db')) });
    expect((await daemon.reload()).error).toContain('restart the daemon to move to another journal');
    expect(daemon.config.name).toBe('v1');

    setConfig({ name: 'v2', settings: settings(journal, { schedule: '*/10 * * * *', logLevel: 'warn' }) });
    expect(await daemon.reload()).toEqual({ ok: true });
    expect(daemon.settings.schedule).toBe('*/10 * * * *');
    expect(daemon.log.level).toBe('warn');
    expect(daemon.intervalMs()).toBe(600_000);
    await daemon.trigger('manual');
    expect(fake.calls[0]?.config.name).toBe('v2');
  });

  it('refuses to start on an invalid config', async () => {
    const { daemon, setConfig } = build();
    setConfig(new InvalidInputError('rolemap.yaml:1:1: not a mapping'));
    await expect(daemon.start()).rejects.toThrow('not a mapping');
    expect(existsSync(`${journal}.lock`)).toBe(false);
  });
});

describe('refused plans and approval', () => {
  const refusal = { code: 'deletion-threshold' as const, message: '40 deletions exceed the threshold of 10' };
  const alice = { uid: 1001, user: 'alice', sudoUser: null, host: 'bastion' };

  it('stays refused on later runs until approved, then applies exactly the approved plan once', async () => {
    const { daemon, fake, lines } = build();
    await daemon.start();
    fake.fallback = { refusal, changes: 40, actualDigest: 'A' };
    await daemon.trigger('manual');
    const refusedRun = fake.calls[0]?.options.runId ?? '';
    await daemon.trigger('manual'); // the same plan again: still refused, now awaiting as the later run
    const laterRun = fake.calls[1]?.options.runId ?? '';
    expect(daemon.pendingRefusal).toMatchObject({ runId: laterRun, firstRunId: refusedRun, changes: 40 });
    expect(lines.filter((l) => l['msg'] === 'the plan awaits an operator approval')).toHaveLength(1);

    let h = await getJson(`${daemon.url}/healthz`);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ reason: 'refused', refusal: { runId: laterRun, firstRunId: refusedRun, code: 'deletion-threshold', changes: 40, approved: false } });
    expect(String(h.body['message'])).toContain(`rolemap approve ${laterRun}`);

    // The operator: an unknown run is refused; the first refused run is approved, by its plan's hash.
    expect(() => operator((s) => s.approve('20200101T000000Z-000000', alice))).toThrow(/has no run 20200101T000000Z-000000/);
    const { approval } = operator((s) => s.approve(refusedRun, alice));
    expect(approval).toMatchObject({ runId: refusedRun, planHash: planHash(plan(40, refusal, 'A')), approvedBy: 'alice (uid 1001)' });
    h = await getJson(`${daemon.url}/healthz`);
    expect(h.body).toMatchObject({ reason: 'refused', refusal: { approved: true } });

    fake.fallback = { changes: 0 };
    await daemon.trigger('manual');
    const approvedCall = fake.calls[2];
    expect(approvedCall?.options).toMatchObject({ mode: 'saved-plan', approvedRefusal: true });
    // Exactly the first refused run's plan, as the journal holds it.
    expect(approvedCall?.options.savedPlan).toEqual(plan(40, refusal, 'A'));
    expect(planHash(approvedCall?.options.savedPlan ?? plan(0))).toBe(approval.planHash);
    expect(daemon.pendingRefusal).toBeNull();
    expect((await getJson(`${daemon.url}/healthz`)).status).toBe(200);

    // Used up: the next run is an ordinary one.
    await daemon.trigger('manual');
    expect(fake.calls[3]?.options).toMatchObject({ mode: 'apply' });
    expect(fake.calls[3]?.options.approvedRefusal).toBeUndefined();
    // The journal keeps the record, hash-chained.
    const events = operatorRows().map((r) => [r['event'], r['run_id']]);
    expect(events).toEqual([
      ['refused', refusedRun],
      ['refused', laterRun],
      ['approved', refusedRun],
      ['used', refusedRun],
      ['cleared', laterRun],
    ]);
  });

  it('does not carry an approval over to a different plan: approve names one run\'s plan, and a superseded one is refused', async () => {
    const { daemon, fake } = build();
    await daemon.start();
    fake.steps.push({ refusal, changes: 40, actualDigest: 'A' }, { refusal, changes: 40, actualDigest: 'B' });
    await daemon.trigger('manual');
    await daemon.trigger('manual');
    const [first, second] = [fake.calls[0]?.options.runId ?? '', fake.calls[1]?.options.runId ?? ''];
    // Same number of changes, same code, other content (another AWS state): the first run's plan is superseded.
    expect(daemon.pendingRefusal?.runId).toBe(second);
    expect(() => operator((s) => s.approve(first, alice))).toThrow(new RegExp(`run ${first}'s plan is not the one awaiting approval: run ${second} was refused since with other changes`));
    const { approval } = operator((s) => s.approve(second, alice));
    expect(approval.planHash).toBe(planHash(plan(40, refusal, 'B')));
    await daemon.trigger('manual');
    expect(fake.calls[2]?.options.savedPlan).toEqual(plan(40, refusal, 'B'));
  });

  it('an approved plan that no longer matches is refused by the run: not a failure, the approval used up, the next run plans afresh', async () => {
    const { daemon, fake, lines } = build();
    await daemon.start();
    fake.steps.push({ refusal, changes: 40, actualDigest: 'A' });
    await daemon.trigger('manual');
    operator((s) => s.approve(fake.calls[0]?.options.runId ?? '', alice));
    fake.steps.push({ throws: 'stale' });
    fake.throwsAs = (m) => new PlanMismatchError(`the saved plan is not the plan that the same directory and AWS state give now: ${m}`);
    const summary = await daemon.trigger('manual');
    expect(summary).toMatchObject({ outcome: 'refused' });
    expect(fake.calls[1]?.options.mode).toBe('saved-plan');
    expect(lines.some((l) => String(l['msg']).startsWith(`the approved plan of run ${fake.calls[0]?.options.runId} was not applied: it no longer matches`))).toBe(true);
    expect(daemon.health()).toMatchObject({ consecutiveFailures: 0, reason: 'refused', refusal: { approved: false } });
    fake.steps.push({ refusal, changes: 41, actualDigest: 'C' });
    await daemon.trigger('manual');
    expect(fake.calls[2]?.options.mode).toBe('apply');
    expect(daemon.pendingRefusal?.runId).toBe(fake.calls[2]?.options.runId);
  });

  it('clears the refusal when a later plan is no longer refused, and survives a restart while pending', async () => {
    const first = build();
    await first.daemon.start();
    first.fake.steps.push({ refusal: { code: 'directory-too-small', message: '3 users < 100' }, changes: 500 });
    await first.daemon.trigger('manual');
    await first.daemon.stop('test');
    // A new daemon on the same journal remembers the refusal.
    const second = build();
    await second.daemon.start();
    expect(second.daemon.pendingRefusal?.refusal.code).toBe('directory-too-small');
    expect((await getJson(`${second.daemon.url}/healthz`)).body).toMatchObject({ reason: 'refused' });
    second.fake.steps.push({ changes: 0 });
    await second.daemon.trigger('manual');
    expect(second.daemon.pendingRefusal).toBeNull();
    expect(operatorRows().at(-1)).toMatchObject({ event: 'cleared', by_run_id: second.fake.calls[0]?.options.runId });
  });

  it('warns about, and ignores, the JSON files of earlier versions', async () => {
    writeFileSync(`${journal}.refusal.json`, '{"runId": "old"}');
    writeFileSync(`${journal}.approvals.json`, '{"approvals": [{"runId": "old"}]}');
    const { daemon, fake, lines } = build();
    await daemon.start();
    expect(lines.filter((l) => String(l['msg']).includes('ignored: refused plans and approvals now live in the journal'))).toHaveLength(2);
    expect(daemon.pendingRefusal).toBeNull();
    await daemon.trigger('manual');
    expect(fake.calls[0]?.options.mode).toBe('apply');
  });
});

/** The operator's side, from another process: its own connection to the journal. */
function operator<T>(fn: (store: ApprovalStore) => T): T {
  const store = ApprovalStore.open(journal);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** plan_records rows of the test journal, in order. */
function operatorRows(): Record<string, unknown>[] {
  const db = new Database(journal, { readonly: true });
  try {
    return db.prepare('SELECT * FROM plan_records ORDER BY id').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

describe('bookkeeping failures', () => {
  it('keeps a refusal in memory (health still refused) when the journal cannot record it, and goes on', async () => {
    const { daemon, fake, lines } = build();
    await daemon.start();
    // Another writer holds the journal's write lock for longer than the busy timeout.
    const blocker = new Database(journal);
    blocker.pragma('busy_timeout = 0');
    blocker.exec('BEGIN EXCLUSIVE');
    try {
      fake.steps.push({ refusal: { code: 'deletion-threshold', message: 'too many' }, changes: 30 });
      const summary = await daemon.trigger('manual');
      expect(summary?.outcome).toBe('refused');
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    expect(lines.some((l) => String(l['msg']).startsWith('could not record the run\'s refusal state in the journal'))).toBe(true);
    expect((await getJson(`${daemon.url}/healthz`)).body).toMatchObject({ reason: 'refused', refusal: { changes: 30 } });
    expect(await daemon.metrics.text()).toMatch(/^rolemap_refusal_pending 1$/m);
    expect(daemon.trigger('manual')).not.toBeNull();
  }, 20_000);
});

describe('an approval whose stored plan was altered', () => {
  it('counts as no approval: the plan stays refused and the error is logged', async () => {
    const { daemon, fake, lines } = build();
    await daemon.start();
    fake.fallback = { refusal: { code: 'deletion-threshold', message: 'too many' }, changes: 30 };
    await daemon.trigger('manual');
    operator((s) => s.approve(fake.calls[0]?.options.runId ?? '', { uid: 0, user: 'root', sudoUser: 'mallory', host: 'h' }));
    // Someone edits the stored plan in the database (journal verify reports it too).
    const db = new Database(journal);
    db.prepare("UPDATE plan_records SET plan_json = replace(plan_json, '\"refusal\":{', '\"refusal\":null,\"x\":{') WHERE event = 'refused'").run();
    db.close();
    expect((await getJson(`${daemon.url}/healthz`)).body).toMatchObject({ reason: 'refused', refusal: { approved: false } });
    await daemon.trigger('manual');
    expect(fake.calls[1]?.options.mode).toBe('apply');
    const logged = lines.find((l) => l['msg'] === 'cannot read the approval from the journal; the refused plan stays refused');
    expect(JSON.stringify(logged)).toContain('does not match its hash');
  });
});

describe('stop', () => {
  it('aborts the run in progress, waits for it, releases the lock', async () => {
    const { daemon, fake } = build();
    fake.fallback = { delayMs: 60_000, changes: 3 };
    await daemon.start();
    const run = daemon.trigger('manual');
    await waitFor(() => fake.calls.length === 1);
    const t0 = Date.now();
    const r = await daemon.stop('SIGTERM');
    expect(r).toEqual({ graceful: true });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(fake.calls[0]?.aborted).toBe(true);
    expect((await run)?.outcome).toBe('interrupted');
    expect(existsSync(`${journal}.lock`)).toBe(false);
    expect(daemon.trigger('manual')).toBeNull();
  });

  it('gives up waiting after the grace period', async () => {
    const { daemon, fake, lines } = build({}, { shutdownGraceMs: 300 });
    fake.fallback = { delayMs: 3_000, ignoreAbort: true };
    await daemon.start();
    void daemon.trigger('manual');
    await waitFor(() => fake.calls.length === 1);
    expect(await daemon.stop('SIGTERM')).toEqual({ graceful: false });
    expect(messages(lines)).toContain('the run did not stop within the grace period; exiting anyway (the next run marks its unfinished changes interrupted)');
    await sleep(10);
  });
});
