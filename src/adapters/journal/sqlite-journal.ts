/**
 * The SQLite journal: `RunJournal` (runs, plans, intent/outcome rows, entitlement snapshots) and
 * `OwnershipRegistry` (Identity Center users rolemap created) over one better-sqlite3 connection.
 *
 * Every method is synchronous and is one IMMEDIATE transaction; none is open across an await.
 * Change rows are append-only and hash-chained (see chain.ts): a change that is planned, then
 * attempted, then applied is three rows (pending, intent, applied); the `changes` view shows one line
 * per change with its final status.
 */
import { compareFormerNames, LONGEST_SESSION_SECONDS } from '../../core/model/session-name.js';
import type { Entitlement, FormerNames } from '../../core/model/state.js';
import type { Guid } from '../../core/model/directory.js';
import type { Entitlements } from '../../core/model/entitlements.js';
import { groupEntitlements } from '../../core/model/entitlements.js';
import type { CampaignRecord } from '../../core/review/effect.js';
import { loadCampaigns } from './review-journal.js';
import type { Change, Plan } from '../../core/plan/change.js';
import type { ApplyHooks, ApplyOutcome, EntitlementHistory, FormerNamesLookup, OwnershipRegistry, PrincipalAlias, RunJournal, RunOutcome, RunStart } from '../../core/ports.js';
import {
  CHANGE_EVENT_COLUMNS,
  FENCING_COLUMNS,
  GENESIS,
  RUN_COLUMNS,
  chainHash,
  entitlementsDigest,
  fencingTail,
  runSealHash,
  snapshotHash,
  type ChangeEventColumn,
  type ChangeEventContent,
  type EntitlementRow,
  type RunRowContent,
} from './chain.js';
import { InvalidInputError } from '../../core/errors.js';
import { JournalError, JournalRunError, JournalWriteError } from './errors.js';
import { loadMigrations, migrate, type Migration } from './migrations.js';
import { appendPlanRecord, isPlanRecorded, lastRowOf, pendingRefusalRow, refusedRowOf, unusedApprovalRow, type PlanRecordEvent, type PlanRecordInput, type PlanRecordRow } from './plan-records.js';
import { makeRedactor, secretsFromEnv, type Redactor } from './redact.js';
import { inTransaction, openForWrite, openReadOnly, SCAN_CACHE_KIB, type SqliteDatabase, type SqliteStatement } from './sqlite.js';

export type ChangeStatus = 'planned' | 'pending' | 'intent' | 'applied' | 'failed' | 'skipped' | 'interrupted' | 'refused';

/** Every status a change row can carry, for the query filters. */
export const CHANGE_STATUSES: readonly ChangeStatus[] = ['planned', 'pending', 'intent', 'applied', 'failed', 'skipped', 'interrupted', 'refused'];

export interface SqliteJournalOptions {
  /** Time of each row; the daemon and tests pass their clock. */
  readonly clock?: (() => Date) | undefined;
  /** The migrations to apply at open (default: `migrations/` shipped with the code). */
  readonly migrations?: readonly Migration[] | undefined;
  /** Secrets to mask in any free text written (bind password...); secret-looking env values are always masked. */
  readonly secrets?: readonly string[] | undefined;
  /** How long a write waits for another writer's lock (default 5 s). */
  readonly busyTimeoutMs?: number | undefined;
  /**
   * The S3 lease this daemon holds (active/standby): its epoch and node id go into every run and change
   * row written (schema 9). Absent or null: the columns stay NULL (one daemon, the CLI).
   */
  readonly fencing?: (() => { readonly epoch: number; readonly nodeId: string } | null) | undefined;
}

/** Why a change recorded as interrupted or skipped by recovery. */
export const INTERRUPTED_MESSAGE =
  'the process ended after the intent was written and before the outcome: the AWS call may or may not have taken effect; the next plan reads the actual state';
export const NEVER_STARTED_MESSAGE = 'never started: the run was interrupted before this change';
export const REFUSED_MESSAGE = 'not applied: the safety checks refused the plan';

type EventInput = Omit<ChangeEventContent, 'id'>;

interface Head {
  readonly id: number;
  readonly hash: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The AD group a change concerns, from its kind and id (see the id table in docs/ARCHITECTURE.md).
 * A federated role's principal is the AD group mapped to it, so its changes are the group's too.
 */
function groupOf(change: Change): { guid: string | null; name: string | null } {
  const id = change.key.slice(change.kind.length + 1);
  const name = (change.after ?? change.before)?.name ?? null;
  switch (change.kind) {
    case 'identitystore_group':
      return GUID.test(id) ? { guid: id.toLowerCase(), name } : { guid: null, name };
    case 'identitystore_membership': {
      const g = id.split('/')[0] ?? '';
      const cut = name?.lastIndexOf('/') ?? -1;
      return { guid: GUID.test(g) ? g.toLowerCase() : null, name: name !== null && cut > 0 ? name.slice(0, cut) : null };
    }
    case 'sso_account_assignment': {
      const last = id.split('/').at(-1) ?? '';
      if (!last.startsWith('GROUP:')) return { guid: null, name: null };
      return { guid: last.slice('GROUP:'.length).toLowerCase(), name: name?.split('/').slice(2).join('/') || null };
    }
    case 'iam_role': {
      const p = change.principal;
      return p !== undefined && GUID.test(p.guid) ? { guid: p.guid.toLowerCase(), name: p.name } : { guid: null, name: null };
    }
    default:
      return { guid: null, name: null };
  }
}

/**
 * The person a change concerns: the change's own principal, its leaver, or, for a membership (whose
 * actual state read from AWS carries no principal), the user half of its id `<groupGuid>/<userGuid>`
 * and of its name `<group name>/<user name>`. Null when the change concerns a group only.
 */
function principalOf(change: Change): { guid: string; name: string; type: 'user' | 'group' } | null {
  const groupPrincipal = change.kind === 'identitystore_group' || change.kind === 'iam_role' || change.key.includes('/GROUP:');
  if (change.principal !== undefined) return { guid: change.principal.guid.toLowerCase(), name: change.principal.name, type: groupPrincipal ? 'group' : 'user' };
  if (change.leaver !== undefined) return { guid: change.leaver.guid.toLowerCase(), name: change.leaver.name, type: 'user' };
  if (change.kind === 'identitystore_membership') {
    const userGuid = change.key.slice(change.kind.length + 1).split('/')[1] ?? '';
    const name = (change.after ?? change.before)?.name ?? '';
    const userName = name.slice(name.lastIndexOf('/') + 1);
    if (GUID.test(userGuid) && userName !== '') return { guid: userGuid.toLowerCase(), name: userName, type: 'user' };
  }
  return null;
}

/** Whether a process with this pid exists on this host (EPERM: it does, as another user's). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Every AWS request id a failed change leaves behind: first the mutating calls that succeeded before
 * the failure (they took effect, so an auditor must be able to find them in CloudTrail), then the
 * failing call's own. The targets' errors carry them as `completedRequestIds` (IAM) or `requestIds`
 * (Identity Center) plus `requestId`; a raw SDK error has `$metadata.requestId`.
 */
function requestIdsOf(error: unknown): string[] {
  if (typeof error !== 'object' || error === null) return [];
  const e = error as { requestId?: unknown; requestIds?: unknown; completedRequestIds?: unknown; $metadata?: { requestId?: unknown } };
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : []);
  const failing = typeof e.requestId === 'string' ? e.requestId : typeof e.$metadata?.requestId === 'string' ? e.$metadata.requestId : undefined;
  return [...new Set([...strings(e.completedRequestIds), ...strings(e.requestIds), ...(failing ? [failing] : [])])];
}

export class SqliteJournal implements RunJournal, OwnershipRegistry {
  readonly file: string;
  /** Migrations this open applied (empty when the schema was already current). */
  readonly migrated: readonly string[];
  readonly #db: SqliteDatabase;
  /** The history's reader (see `#historyReader`), opened when first asked for. */
  #reader: SqliteDatabase | undefined;
  readonly #clock: () => Date;
  readonly #redact: Redactor;
  readonly #fencing: () => { readonly epoch: number; readonly nodeId: string } | null;
  /** Whether the schema has the fencing columns (schema 9; a journal opened with older migrations has not). */
  readonly #fenced: boolean;
  readonly #stmt: {
    readonly head: SqliteStatement;
    readonly insertEvent: SqliteStatement;
    readonly alias: SqliteStatement;
    readonly concern: SqliteStatement;
  };

  private constructor(file: string, db: SqliteDatabase, options: SqliteJournalOptions, migrated: readonly string[]) {
    this.file = file;
    this.migrated = migrated;
    this.#db = db;
    this.#clock = options.clock ?? (() => new Date());
    this.#redact = makeRedactor([...secretsFromEnv(), ...(options.secrets ?? [])]);
    this.#fencing = options.fencing ?? (() => null);
    this.#fenced = (db.prepare("SELECT count(*) AS n FROM pragma_table_info('change_events') WHERE name IN ('epoch', 'node_id')").get() as { n: number }).n === FENCING_COLUMNS.length;
    const eventColumns = [...CHANGE_EVENT_COLUMNS, ...(this.#fenced ? FENCING_COLUMNS : [])];
    this.#stmt = {
      head: db.prepare('SELECT id, hash FROM change_events ORDER BY id DESC LIMIT 1'),
      insertEvent: db.prepare(`INSERT INTO change_events (${eventColumns.join(', ')}, prev_hash, hash) VALUES (${eventColumns.map(() => '?').join(', ')}, ?, ?)`),
      alias: db.prepare('INSERT OR IGNORE INTO principal_aliases (alias, guid, type) VALUES (?, ?, ?)'),
      concern: db.prepare('INSERT OR IGNORE INTO change_concerns (guid, run_id, seq) VALUES (?, ?, ?)'),
    };
  }

  /**
   * Opens (creating it with mode 0600 when absent) and migrates the journal for writing.
   * Throws the migration errors of migrations.ts when the history is corrupted or newer than the code.
   */
  static open(file: string, options: SqliteJournalOptions = {}): SqliteJournal {
    const db = openForWrite(file, { busyTimeoutMs: options.busyTimeoutMs });
    try {
      const migrated = migrate(db, file, options.migrations ?? loadMigrations(), options.clock);
      return new SqliteJournal(file, db, options, migrated);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  close(): void {
    this.#reader?.close();
    this.#reader = undefined;
    this.#db.close();
  }

  /**
   * A read-only connection of its own for the entitlement history: it scans the last snapshot once
   * (~440,000 rows at 100,000 people) and then seeks one person at a time, so it gets a small page cache
   * (SCAN_CACHE_KIB) instead of the writer's, whose 64 MiB the scan would fill with pages never read
   * again. It reads what is committed, which is all there is: no write transaction stays open across calls.
   */
  #historyReader(): SqliteDatabase {
    this.#reader ??= openReadOnly(this.file, { cacheKib: SCAN_CACHE_KIB });
    return this.#reader;
  }

  /** The connection, for the read-side queries in tests and tools that already hold the writer. */
  get database(): SqliteDatabase {
    return this.#db;
  }

  #now(): string {
    return this.#clock().toISOString();
  }

  #text(s: string | null | undefined): string | null {
    return s === null || s === undefined ? null : this.#redact(s);
  }

  #json(v: unknown): string | null {
    return v === null || v === undefined ? null : this.#redact(JSON.stringify(v));
  }

  readonly #runEpochs = new Map<string, { epoch: number | null; node_id: string | null }>();
  #runFencing(runId: string): { epoch: number | null; node_id: string | null } {
    let f = this.#runEpochs.get(runId);
    if (f === undefined) {
      f = (this.#db.prepare('SELECT epoch, node_id FROM runs WHERE id = ?').get(runId) as { epoch: number | null; node_id: string | null } | undefined) ?? { epoch: null, node_id: null };
      if (this.#runEpochs.size > 1000) this.#runEpochs.clear();
      this.#runEpochs.set(runId, f);
    }
    return f;
  }

  /** Appends rows to the chain. Call inside a transaction. */
  #append(rows: Iterable<EventInput>): Head | null {
    const head = (this.#stmt.head.get() as Head | undefined) ?? { id: 0, hash: GENESIS };
    let id = head.id;
    let hash = head.hash;
    const values: unknown[] = new Array<unknown>(CHANGE_EVENT_COLUMNS.length + 4);
    for (const r of rows) {
      id++;
      // Every row carries the lease its run started under (none: NULL, and not hashed): a row written
      // after the lease was lost (the fenced changes) still says which epoch's run it belongs to.
      const tail = this.#fenced ? fencingTail(this.#runFencing(r.run_id)) : [];
      for (let i = 0; i < CHANGE_EVENT_COLUMNS.length; i++) {
        const c = CHANGE_EVENT_COLUMNS[i] as ChangeEventColumn;
        values[i] = c === 'id' ? id : r[c];
      }
      values.length = CHANGE_EVENT_COLUMNS.length;
      values.push(...tail);
      const prev = hash;
      hash = chainHash(prev, values);
      if (this.#fenced && tail.length === 0) values.push(null, null);
      values.push(prev, hash);
      this.#stmt.insertEvent.run(...values);
    }
    return id === 0 ? null : { id, hash };
  }

  #event(runId: string, change: Change, status: ChangeStatus, at: string, extra: { content: boolean; error?: string | null; requestIds?: readonly string[] | null; detail?: unknown }): EventInput {
    const p = principalOf(change);
    const g = groupOf(change);
    return {
      run_id: runId,
      seq: change.seq,
      at,
      status,
      action: change.action,
      kind: change.kind,
      resource_key: change.key,
      address: change.address,
      account: change.account,
      principal_guid: p?.guid ?? null,
      principal_name: p?.name ?? null,
      group_guid: g.guid,
      group_name: g.name,
      leaver_reason: change.leaver?.reason ?? null,
      before_json: extra.content ? this.#json(change.before) : null,
      after_json: extra.content ? this.#json(change.after) : null,
      diffs_json: extra.content && change.diffs.length > 0 ? this.#json(change.diffs) : null,
      reason: extra.content ? this.#text(change.reason) : null,
      error: this.#text(extra.error),
      request_ids: extra.requestIds === null || extra.requestIds === undefined ? null : this.#json(extra.requestIds),
      detail_json: this.#json(extra.detail),
    };
  }

  /** Names the principal was seen under, for `--user` / `--group` lookups by UPN, email or name. */
  #aliases(changes: readonly Change[]): void {
    const seen = new Set<string>();
    const add = (alias: string | null | undefined, guid: string | null, type: 'user' | 'group'): void => {
      if (alias === null || alias === undefined || alias === '' || guid === null) return;
      const k = `${alias}\u0000${guid}`;
      if (seen.has(k)) return;
      seen.add(k);
      this.#stmt.alias.run(alias, guid, type);
    };
    for (const c of changes) {
      const p = principalOf(c);
      const g = groupOf(c);
      add(p?.name, p?.guid ?? null, p?.type === 'group' || (p !== null && p.guid === g.guid) ? 'group' : 'user');
      add(g.name, g.guid, 'group');
      for (const r of [c.before, c.after]) {
        if (r?.kind === 'identitystore_user' && p !== null) {
          add(r.attrs.userName, p.guid, 'user');
          add(r.attrs.email, p.guid, 'user');
        }
      }
    }
  }

  /**
   * The mode of a run that is still open. A finished run takes no more rows: its chain head is
   * recorded, and verify would report a later row of it as inserted.
   */
  #mode(runId: string): string {
    const row = this.#db.prepare('SELECT mode, outcome FROM runs WHERE id = ?').get(runId) as { mode: string; outcome: string | null } | undefined;
    if (row === undefined) throw new JournalRunError(this.file, runId, 'is not in the journal (startRun first)');
    if (row.outcome !== null) throw new JournalRunError(this.file, runId, `has already finished (${row.outcome}); it takes no more rows`);
    return row.mode;
  }

  /** Instants are stored as `toISOString()` so that they compare correctly as text (`--since`, `--as-of`). */
  #instant(what: string, value: string): string {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new InvalidInputError(`journal ${this.file}: ${what} "${value}" is not an ISO 8601 time`);
    return new Date(ms).toISOString();
  }

  /** One write transaction; failures other than the journal's own typed errors become a JournalWriteError. */
  #write<T>(what: string, fn: () => T): T {
    try {
      return inTransaction(this.#db, fn);
    } catch (e) {
      if (e instanceof JournalError || e instanceof InvalidInputError) throw e;
      throw new JournalWriteError(this.file, what, { cause: e });
    }
  }

  startRun(run: RunStart): void {
    // Only an applying run holds the journal lock; a dry run must not close a run that may be live.
    if (run.mode !== 'dry-run') this.recoverInterrupted();
    // Any run may close the open dry runs of dead processes on its own host.
    this.recoverDeadDryRuns(run.host);
    this.#write('run start', () => {
      if (this.#db.prepare('SELECT 1 FROM runs WHERE id = ?').get(run.runId) !== undefined) {
        throw new JournalRunError(this.file, run.runId, 'was already started');
      }
      this.#db
        .prepare('INSERT INTO runs (id, trigger, mode, host, pid, version, config_hash, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(run.runId, run.trigger, run.mode, run.host, run.pid ?? null, run.version, run.configHash, this.#instant('startedAt', run.startedAt));
      const f = this.#fenced ? this.#fencing() : null;
      if (f !== null) this.#db.prepare('UPDATE runs SET epoch = ?, node_id = ? WHERE id = ?').run(f.epoch, f.nodeId, run.runId);
    });
  }

  /**
   * Closes the dry runs a killed process left open: an open dry run on `host` whose process (runs.pid)
   * no longer exists becomes `interrupted`. Its planned rows stay as they are (a dry run changes
   * nothing). A dry run of a live process, of another host, or without a pid is left alone.
   */
  recoverDeadDryRuns(host: string): readonly string[] {
    const open = this.#db
      .prepare("SELECT id, pid FROM runs WHERE finished_at IS NULL AND outcome IS NULL AND mode = 'dry-run' AND host = ? AND pid IS NOT NULL ORDER BY started_at")
      .all(host) as { id: string; pid: number }[];
    const dead = open.filter((r) => r.pid !== process.pid && !processExists(r.pid));
    if (dead.length === 0) return [];
    return this.#write('the recovery of dead dry runs', () => {
      const at = this.#now();
      const closed: string[] = [];
      for (const r of dead) {
        const done = this.#db
          .prepare("UPDATE runs SET outcome = 'interrupted', error = ? WHERE id = ? AND outcome IS NULL")
          .run(`the process (pid ${r.pid} on ${host}) ended before the dry run finished; found and closed at ${at}`, r.id);
        if (done.changes > 0) {
          this.#seal(r.id);
          closed.push(r.id);
        }
      }
      return closed;
    });
  }

  recordPlan(runId: string, plan: Plan): void {
    this.#write('the plan', () => {
      const status: ChangeStatus = this.#mode(runId) === 'dry-run' ? 'planned' : 'pending';
      const at = this.#now();
      this.#db
        .prepare('UPDATE runs SET plan_created_at = ?, plan_summary = ?, plan_refusal = ?, plan_warnings = ? WHERE id = ?')
        .run(plan.createdAt, JSON.stringify(plan.summary), this.#json(plan.refusal), this.#json(plan.warnings), runId);
      const changes = plan.changes;
      const event = (c: Change): EventInput => this.#event(runId, c, status, at, { content: true });
      this.#append((function* () {
        for (const c of changes) yield event(c);
      })());
      this.#aliases(plan.changes);
      // Everyone a shared revocation cuts, so `--user` finds it under each of them.
      for (const c of changes) for (const guid of c.concerns ?? []) this.#stmt.concern.run(guid.toLowerCase(), runId, c.seq);
    });
  }

  hooks(runId: string): ApplyHooks {
    this.#mode(runId);
    const write = (row: EventInput, change?: Change): void => {
      this.#write(`the ${row.status} row of change ${row.seq}`, () => {
        this.#mode(runId);
        this.#append([row]);
        if (change !== undefined) this.#aliases([change]);
      });
    };
    return {
      preApply: (change) => write(this.#event(runId, change, 'intent', this.#now(), { content: true }), change),
      postApply: (change, outcome: ApplyOutcome) =>
        write(this.#event(runId, change, 'applied', this.#now(), { content: false, requestIds: outcome.requestIds, detail: outcome.detail })),
      applyFailed: (change, error) => {
        const ids = requestIdsOf(error);
        write(this.#event(runId, change, 'failed', this.#now(), { content: false, error: errorText(error), requestIds: ids.length === 0 ? null : ids }));
      },
      skipped: (change, why) => write(this.#event(runId, change, 'skipped', this.#now(), { content: false, error: why })),
    };
  }

  recordEntitlements(runId: string, at: string, entitlements: Entitlements, aliases: readonly PrincipalAlias[] = []): void {
    const rows: EntitlementRow[] = Array.from(entitlements, (e) => ({
      user_guid: e.userGuid.toLowerCase(),
      user_name: e.userName,
      account: e.account,
      kind: e.kind,
      target: e.target,
      via_group_guid: e.viaGroupGuid.toLowerCase(),
      via_group_name: e.viaGroupName,
      user_principal_name: e.userPrincipalName ?? null,
      mail: e.mail ?? null,
      seen_at: e.seenAt === undefined ? null : this.#instant('entitlement seenAt', e.seenAt),
    }));
    const instant = this.#instant('entitlement snapshot time', at);
    this.#write('the entitlement snapshot', () => {
      this.#mode(runId);
      const prev = (this.#db.prepare('SELECT id, hash FROM entitlement_snapshots ORDER BY id DESC LIMIT 1').get() as Head | undefined) ?? { id: 0, hash: GENESIS };
      const content = { id: prev.id + 1, run_id: runId, at: instant, entitlements: rows.length, digest: entitlementsDigest(rows) };
      this.#db
        .prepare('INSERT INTO entitlement_snapshots (id, run_id, at, entitlements, digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(content.id, runId, instant, content.entitlements, content.digest, prev.hash, snapshotHash(prev.hash, content));
      const insert = this.#db.prepare(
        'INSERT INTO entitlements (snapshot_id, user_guid, user_name, account, kind, target, via_group_guid, via_group_name, user_principal_name, mail, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const seen = new Set<string>();
      for (const r of rows) {
        insert.run(content.id, r.user_guid, r.user_name, r.account, r.kind, r.target, r.via_group_guid, r.via_group_name, r.user_principal_name ?? null, r.mail ?? null, r.seen_at ?? null);
        for (const [alias, guid, type] of [[r.user_name, r.user_guid, 'user'], [r.via_group_name, r.via_group_guid, 'group']] as const) {
          if (seen.has(`${alias}\u0000${guid}`)) continue;
          seen.add(`${alias}\u0000${guid}`);
          this.#stmt.alias.run(alias, guid, type);
        }
      }
      for (const a of aliases) {
        if (a.alias === '' || seen.has(`${a.alias}\u0000${a.guid}`)) continue;
        seen.add(`${a.alias}\u0000${a.guid}`);
        this.#stmt.alias.run(a.alias, a.guid, 'user');
      }
    });
  }

  finishRun(
    runId: string,
    end: { readonly outcome: RunOutcome; readonly finishedAt: string; readonly error?: string | undefined; readonly directory?: { readonly users: number; readonly groups: number } | undefined },
  ): void {
    this.#write('the end of the run', () => {
      this.#mode(runId);
      // A refused apply's changes end as refused, as the run does, instead of pending for ever.
      if (end.outcome === 'refused') this.#append(this.#closeOpenChanges(runId, () => ({ status: 'refused', error: REFUSED_MESSAGE }), this.#now()));
      const head = (this.#stmt.head.get() as Head | undefined) ?? null;
      this.#db
        .prepare(
          'UPDATE runs SET finished_at = ?, outcome = ?, error = ?, directory_users = ?, directory_groups = ?, chain_head_id = ?, chain_head_hash = ? WHERE id = ?',
        )
        .run(this.#instant('finishedAt', end.finishedAt), end.outcome, this.#text(end.error), end.directory?.users ?? null, end.directory?.groups ?? null, head?.id ?? null, head?.hash ?? null, runId);
      this.#seal(runId);
    });
  }

  /**
   * Rows that close every change of a run whose last row is still open (pending or intent), with the
   * status and message `close` gives. Content columns stay null: the first row of the change has them.
   */
  #closeOpenChanges(runId: string, close: (status: string) => { status: ChangeStatus; error: string }, at: string): EventInput[] {
    const rows = this.#db
      .prepare(
        `SELECT l.* FROM change_events AS l WHERE l.run_id = ?
           AND l.id = (SELECT max(x.id) FROM change_events AS x WHERE x.run_id = l.run_id AND x.seq = l.seq)
           AND l.status IN ('intent', 'pending') ORDER BY l.seq`,
      )
      .all(runId) as ChangeEventContent[];
    return rows.map((r): EventInput => {
      const { status, error } = close(r.status);
      return { ...r, at, status, before_json: null, after_json: null, diffs_json: null, reason: null, error, request_ids: null, detail_json: null };
    });
  }

  /** Seals a finished run's row (see migrations/*_run_seals.sql): call inside the transaction that finished it. */
  #seal(runId: string): void {
    const run = this.#db.prepare(`SELECT ${[...RUN_COLUMNS, ...(this.#fenced ? FENCING_COLUMNS : [])].join(', ')} FROM runs WHERE id = ?`).get(runId) as RunRowContent;
    const last = this.#db.prepare('SELECT id, hash FROM run_seals ORDER BY id DESC LIMIT 1').get() as Head | undefined;
    const id = (last?.id ?? 0) + 1;
    const prev = last?.hash ?? GENESIS;
    this.#db.prepare('INSERT INTO run_seals (id, run_id, prev_hash, hash) VALUES (?, ?, ?, ?)').run(id, runId, prev, runSealHash(prev, id, run));
  }

  /** The last change row (id and hash): log it after each run as an external anchor for `verify`. */
  chainHead(): { readonly id: number; readonly hash: string } | null {
    return (this.#stmt.head.get() as Head | undefined) ?? null;
  }

  /** Every access-review campaign with its population and decisions (see `review-journal.ts`). */
  reviewCampaigns(): readonly CampaignRecord[] {
    return loadCampaigns(this.#db);
  }

  /**
   * The snapshot written last (by row id: a clock stepped back must not make an older snapshot look newer),
   * and every set of names each person was journaled under in the snapshots that may matter for a session
   * still live at `now` (see `sessionNames`).
   */
  entitlementHistory(now: Date = this.#clock()): EntitlementHistory {
    const db = this.#historyReader();
    const snap = db.prepare('SELECT id, at FROM entitlement_snapshots ORDER BY id DESC LIMIT 1').get() as { id: number; at: string } | undefined;
    if (snap === undefined) return { last: null, at: null, names: new Map() };
    const rows = db
      .prepare('SELECT user_guid, user_name, account, kind, target, via_group_guid, via_group_name, user_principal_name, mail, seen_at FROM entitlements WHERE snapshot_id = ? ORDER BY rowid')
      .iterate(snap.id) as IterableIterator<EntitlementRow>;
    // Grouped per grant as the rows are read (core/model/entitlements.ts): ~440,000 rows at 100,000 users.
    function* entitlements(): Generator<Entitlement> {
      for (const r of rows) {
        yield {
          userGuid: r.user_guid,
          userName: r.user_name,
          ...(typeof r.user_principal_name === 'string' ? { userPrincipalName: r.user_principal_name } : {}),
          ...(typeof r.mail === 'string' ? { mail: r.mail } : {}),
          account: r.account,
          kind: r.kind as Entitlement['kind'],
          target: r.target,
          viaGroupGuid: r.via_group_guid,
          viaGroupName: r.via_group_name,
          ...(typeof r.seen_at === 'string' ? { seenAt: r.seen_at } : {}),
        };
      }
    }
    // Read to the end before the next query: the connection is busy while a statement iterates.
    const last = groupEntitlements(entitlements());
    return { at: snap.at, names: this.#sessionNames(db, now, snap.id), last };
  }


  /**
   * Per person, each distinct (sAMAccountName, UPN, mail) the snapshots journaled them under, with
   * `until`: the time of the first snapshot after the last one that showed it (the names changed, or the
   * grants ended, before then), absent when the latest snapshot shows it. Only snapshots whose successor
   * was written within LONGEST_SESSION_SECONDS before `now` are read (plus the latest): a name replaced
   * earlier can be on no live session. Order: the latest first, then by `until` descending and name,
   * so plans built from it are the same every run.
   *
   * Read per person when asked (the core asks for leavers and movers only: ~4,000 of 100,000 people in
   * the core bench), one indexed query each (~0.1 ms), instead of every person's names up front (~28 MB
   * at 100,000 people). The
   * snapshots are fixed now, up to `latest`: one written afterwards (this run's) is not read. Valid while
   * the journal is open.
   */
  #sessionNames(db: SqliteDatabase, now: Date, latest: number): FormerNamesLookup {
    const cutoff = new Date(now.getTime() - LONGEST_SESSION_SECONDS * 1000).toISOString();
    // The last snapshot written before the window: its successor (if any) is inside it. By id, as above.
    const from = db.prepare('SELECT max(id) AS id FROM entitlement_snapshots WHERE at < ? AND id <= ?').get(cutoff, latest) as { id: number | null } | undefined;
    const firstId = from?.id ?? 0;
    const snaps = db.prepare('SELECT id, at FROM entitlement_snapshots WHERE id >= ? AND id <= ? ORDER BY id').all(firstId, latest) as { id: number; at: string }[];
    const nextAt = new Map<number, string>();
    for (let i = 0; i + 1 < snaps.length; i++) nextAt.set((snaps[i] as { id: number }).id, (snaps[i + 1] as { at: string }).at);
    const ids = JSON.stringify(snaps.map((x) => x.id));
    // One index seek per snapshot (entitlements_snapshot_user: snapshot_id, user_guid), not a scan.
    const query = db.prepare(
      `SELECT user_name, user_principal_name, mail, max(snapshot_id) AS last_id FROM entitlements
         WHERE snapshot_id IN (SELECT value FROM json_each(?)) AND user_guid = ?
         GROUP BY user_name, user_principal_name, mail`,
    );
    const memo = new Map<Guid, readonly FormerNames[] | undefined>();
    return {
      get(guid: Guid): readonly FormerNames[] | undefined {
        if (memo.has(guid)) return memo.get(guid);
        const rows = query.all(ids, guid) as { user_name: string; user_principal_name: string | null; mail: string | null; last_id: number }[];
        const list: FormerNames[] = [];
        for (const r of rows) {
          const until = nextAt.get(r.last_id);
          // A snapshot before the window whose successor is inside it is read whole: only what it showed last counts.
          if (until !== undefined && until < cutoff) continue;
          list.push({
            sAMAccountName: r.user_name,
            ...(r.user_principal_name !== null ? { userPrincipalName: r.user_principal_name } : {}),
            ...(r.mail !== null ? { mail: r.mail } : {}),
            ...(until !== undefined ? { until } : {}),
          });
        }
        const out = list.length > 0 ? list.sort(compareFormerNames) : undefined;
        memo.set(guid, out);
        return out;
      },
    };
  }

  /**
   * Closes runs a killed process left open: a change whose last row is an intent becomes
   * `interrupted` (the AWS call may or may not have happened), one still pending becomes `skipped`,
   * and the run's outcome becomes `interrupted`. Appends rows, never rewrites them, so the chain stays
   * valid. Called by startRun of an applying run, which holds rolemap's journal lock, so no other
   * applying run is live. Open dry runs are left alone: they run without the lock, so one may be
   * live in another process right now (and a dead one changed nothing).
   */
  recoverInterrupted(): { readonly runs: readonly string[]; readonly interrupted: number; readonly skipped: number } {
    return this.#write('the recovery of interrupted runs', () => {
      const open = (
        this.#db.prepare("SELECT id FROM runs WHERE finished_at IS NULL AND outcome IS NULL AND mode <> 'dry-run' ORDER BY started_at").all() as { id: string }[]
      ).map((r) => r.id);
      let interrupted = 0;
      let skipped = 0;
      const at = this.#now();
      for (const runId of open) {
        const rows = this.#closeOpenChanges(
          runId,
          (status) => {
            if (status === 'intent') {
              interrupted++;
              return { status: 'interrupted', error: INTERRUPTED_MESSAGE };
            }
            skipped++;
            return { status: 'skipped', error: NEVER_STARTED_MESSAGE };
          },
          at,
        );
        const head = this.#append(rows);
        this.#db
          .prepare("UPDATE runs SET outcome = 'interrupted', error = ?, chain_head_id = ?, chain_head_hash = ? WHERE id = ?")
          .run(`the process ended before the run finished; found and closed at ${at}`, head?.id ?? null, head?.hash ?? null, runId);
        this.#seal(runId);
      }
      return { runs: open, interrupted, skipped };
    });
  }

  // Plans handed out and approvals (plan_records, see plan-records.ts)

  recordSavedPlan(runId: string, planHash: string, changes: number): void {
    this.recordPlanEvent({ event: 'saved', run_id: runId, plan_hash: planHash, changes });
  }

  isPlanRecorded(planHash: string): boolean {
    return isPlanRecorded(this.#db, planHash);
  }

  /** Appends a plan_records row (its own transaction); free text is redacted, the plan itself is stored as given. */
  recordPlanEvent(input: PlanRecordInput): PlanRecordRow {
    return this.#write(`the ${input.event} plan record of run ${input.run_id}`, () =>
      appendPlanRecord(this.#db, this.#now(), { ...input, detail: this.#text(input.detail) }),
    );
  }

  /** The refused plan awaiting approval (the last `refused` row not `cleared` since), if any. */
  pendingRefusal(): PlanRecordRow | null {
    return pendingRefusalRow(this.#db);
  }

  refusedPlanOf(runId: string): PlanRecordRow | null {
    return refusedRowOf(this.#db, runId);
  }

  unusedApproval(): PlanRecordRow | null {
    return unusedApprovalRow(this.#db);
  }

  lastPlanRecord(event: PlanRecordEvent): PlanRecordRow | null {
    return lastRowOf(this.#db, event);
  }

  /** A run's row (id, mode, trigger, outcome), or null when the journal has no such run. */
  runInfo(runId: string): { readonly id: string; readonly mode: string; readonly trigger: string; readonly outcome: string | null; readonly started_at: string } | null {
    return (this.#db.prepare('SELECT id, mode, trigger, outcome, started_at FROM runs WHERE id = ?').get(runId) as { id: string; mode: string; trigger: string; outcome: string | null; started_at: string } | undefined) ?? null;
  }

  // OwnershipRegistry

  /**
   * Creates of `kind` that were sent (an intent row) and never answered in the journal: the last row
   * of the change is its intent, or the `interrupted` row recovery appended after it. A process killed
   * between CreateUser and recording ownership leaves exactly this; the target recovers ownership of
   * the object AWS has under that name (users.ts). The AD guid is the change's resource key, the name
   * the one the create carried (its planned row's `after`).
   */
  unconfirmedCreates(kind: string): readonly { readonly guid: string; readonly name: string; readonly runId: string; readonly seq: number }[] {
    const rows = this.#db
      .prepare(
        `SELECT l.run_id, l.seq, l.resource_key, l.address,
                (SELECT p.after_json FROM change_events AS p WHERE p.run_id = l.run_id AND p.seq = l.seq AND p.after_json IS NOT NULL ORDER BY p.id LIMIT 1) AS after_json
           FROM change_events AS l
          WHERE l.kind = ? AND l.action = 'create' AND l.status IN ('intent', 'interrupted')
            AND l.id = (SELECT max(x.id) FROM change_events AS x WHERE x.run_id = l.run_id AND x.seq = l.seq)
          ORDER BY l.id`,
      )
      .all(kind) as { run_id: string; seq: number; resource_key: string; address: string; after_json: string | null }[];
    return rows.flatMap((r) => {
      const after = r.after_json === null ? null : (JSON.parse(r.after_json) as { id?: unknown; name?: unknown } | null);
      const guid = typeof after?.id === 'string' ? after.id : r.resource_key.slice(r.resource_key.indexOf(':') + 1);
      const name = typeof after?.name === 'string' ? after.name : undefined;
      return name === undefined ? [] : [{ guid, name, runId: r.run_id, seq: r.seq }];
    });
  }

  owned(scope: string): ReadonlyMap<string, string> {
    const rows = this.#db.prepare('SELECT aws_id, guid FROM owned_objects WHERE scope = ? AND removed_at IS NULL').all(scope) as { aws_id: string; guid: string }[];
    return new Map(rows.map((r) => [r.aws_id, r.guid]));
  }

  record(scope: string, awsId: string, guid: string): void {
    this.#write('an owned object', () => {
      const now = this.#now();
      const active = this.#db.prepare('SELECT guid FROM owned_objects WHERE scope = ? AND aws_id = ? AND removed_at IS NULL').get(scope, awsId) as { guid: string } | undefined;
      if (active?.guid === guid) return;
      if (active !== undefined) this.#db.prepare('UPDATE owned_objects SET removed_at = ? WHERE scope = ? AND aws_id = ? AND removed_at IS NULL').run(now, scope, awsId);
      this.#db.prepare('INSERT INTO owned_objects (scope, aws_id, guid, created_at) VALUES (?, ?, ?, ?)').run(scope, awsId, guid, now);
    });
  }

  forget(scope: string, awsId: string): void {
    this.#write('the removal of an owned object', () => {
      this.#db.prepare('UPDATE owned_objects SET removed_at = ? WHERE scope = ? AND aws_id = ? AND removed_at IS NULL').run(this.#now(), scope, awsId);
    });
  }
}
