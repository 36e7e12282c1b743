/**
 * The audit queries behind `rolemap journal list|runs|show|access|verify`. They open the journal
 * read-only (auditors query while the daemon writes, or a copied file with no config at hand), check
 * that its schema is exactly the code's, and never migrate. Times are ISO 8601 or relative to `now`.
 */
import { InvalidInputError } from '../../core/errors.js';
import { ACTIONS } from '../../core/plan/action.js';
import { CHANGE_STATUSES } from './sqlite-journal.js';
import { assertMigrated, loadMigrations, type Migration } from './migrations.js';
import { openReadOnly, type SqliteDatabase } from './sqlite.js';

/** Opens a journal for queries: read-only, and refuses one that is unmigrated, corrupted or newer. */
export function openJournalForQuery(file: string, migrations: readonly Migration[] = loadMigrations()): SqliteDatabase {
  const db = openReadOnly(file);
  try {
    assertMigrated(db, file, migrations);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** For `verify`: the same checks as a query (the chains span every migration), read-only. */
export function openJournalForVerify(file: string, migrations: readonly Migration[] = loadMigrations()): SqliteDatabase {
  return openJournalForQuery(file, migrations);
}

/**
 * The guids a `--user` / `--group` value names: the value itself as an objectGUID, or every guid seen
 * under that name (sAMAccountName, UPN, email, group name; any case). Every principal name the journal
 * writes is also recorded as an alias, so one indexed `IN` covers all three forms.
 */
function resolve(param: 'user' | 'group'): string {
  return `(SELECT lower(@${param}) UNION SELECT guid FROM principal_aliases WHERE alias = @${param} AND type = '${param}')`;
}

/** The actions the journal stores (the plan's words, `destroy` and `add`, are said apart). */
const ACTION_NAMES = Object.keys(ACTIONS);
const ACTION_HINTS: Readonly<Record<string, string>> = { destroy: 'delete', destroyed: 'delete', add: 'create', change: 'update', revoked: 'revoke', disabled: 'disable' };

function checkChoice(option: string, value: string, valid: readonly string[], hints: Readonly<Record<string, string>> = {}): void {
  if (valid.includes(value)) return;
  const hint = hints[value.toLowerCase()];
  throw new InvalidInputError(
    `${option} "${value}" matches nothing the journal records${hint !== undefined ? ` (the journal calls it "${hint}")` : ''}: use one of ${valid.join(', ')}`,
  );
}

/**
 * A run named by its id or by a unique prefix of it, as git takes commits. Throws naming the
 * candidates when the prefix is ambiguous, and when no run matches.
 */
export function resolveRunId(db: SqliteDatabase, idOrPrefix: string): string {
  const id = findRunId(db, idOrPrefix);
  if (id === null) throw new InvalidInputError(`no run ${idOrPrefix} in the journal (\`rolemap journal runs\` lists them)`);
  return id;
}

/** The run an id or unique prefix names; null when none matches; throws when the prefix is ambiguous. */
function findRunId(db: SqliteDatabase, idOrPrefix: string): string | null {
  const exact = db.prepare('SELECT id FROM runs WHERE id = ?').get(idOrPrefix) as { id: string } | undefined;
  if (exact !== undefined) return exact.id;
  if (idOrPrefix === '') return null;
  const escaped = idOrPrefix.replace(/[\\%_]/g, (c) => `\\${c}`);
  const found = (db.prepare("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY started_at DESC LIMIT 6").all(`${escaped}%`) as { id: string }[]).map((r) => r.id);
  if (found.length <= 1) return found[0] ?? null;
  throw new InvalidInputError(`run ${idOrPrefix} is ambiguous: it begins ${found.length > 5 ? 'more than 5 runs' : `${found.length} runs`} (${found.slice(0, 5).join(', ')}); give more of the id`);
}

const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `2026-03-01`, `2026-03-01T12:00:00Z`, `now`, or relative to now: `90s`, `30m`, `12h`, `7d`, `2w`. */
export function parseTime(text: string, now: Date): Date {
  const t = text.trim();
  if (t === 'now') return now;
  const rel = /^(\d+)\s*([smhdw])$/.exec(t);
  if (rel !== null) return new Date(now.getTime() - Number(rel[1]) * (UNITS[rel[2] ?? 's'] ?? 0));
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  throw new InvalidInputError(`cannot read the time "${text}": use an ISO time (2026-03-01, 2026-03-01T12:00:00Z) or a relative one (90s, 30m, 12h, 7d, 2w)`);
}

export interface ChangeFilter {
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  /** sAMAccountName, UPN / Identity Center user name / email, or objectGUID. */
  readonly user?: string | undefined;
  /** Group name or objectGUID. */
  readonly group?: string | undefined;
  readonly account?: string | undefined;
  readonly action?: string | undefined;
  readonly status?: string | undefined;
  readonly run?: string | undefined;
  readonly limit?: number | undefined;
}

export interface ChangeLine {
  readonly eventId: number;
  readonly runId: string;
  readonly seq: number;
  /** When the change was first recorded (plan or intent). */
  readonly recordedAt: string;
  /** When its final status was recorded. */
  readonly at: string;
  readonly status: string;
  readonly action: string;
  readonly kind: string;
  readonly key: string;
  readonly address: string;
  readonly account: string;
  readonly principalGuid: string | null;
  readonly principalName: string | null;
  readonly groupGuid: string | null;
  readonly groupName: string | null;
  readonly leaverReason: string | null;
  readonly reason: string | null;
  readonly error: string | null;
  readonly requestIds: readonly string[];
  readonly before: unknown;
  readonly after: unknown;
  readonly diffs: unknown;
}

interface ChangeViewRow {
  event_id: number;
  run_id: string;
  seq: number;
  recorded_at: string;
  at: string;
  status: string;
  action: string;
  kind: string;
  resource_key: string;
  address: string;
  account: string;
  principal_guid: string | null;
  principal_name: string | null;
  group_guid: string | null;
  group_name: string | null;
  leaver_reason: string | null;
  before_json: string | null;
  after_json: string | null;
  diffs_json: string | null;
  reason: string | null;
  error: string | null;
  request_ids: string | null;
}

const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

function toLine(r: ChangeViewRow): ChangeLine {
  return {
    eventId: r.event_id,
    runId: r.run_id,
    seq: r.seq,
    recordedAt: r.recorded_at,
    at: r.at,
    status: r.status,
    action: r.action,
    kind: r.kind,
    key: r.resource_key,
    address: r.address,
    account: r.account,
    principalGuid: r.principal_guid,
    principalName: r.principal_name,
    groupGuid: r.group_guid,
    groupName: r.group_name,
    leaverReason: r.leaver_reason,
    reason: r.reason,
    error: r.error,
    requestIds: (parse(r.request_ids) as string[] | null) ?? [],
    before: parse(r.before_json),
    after: parse(r.after_json),
    diffs: parse(r.diffs_json),
  };
}

/** One line per change with its final status, in the order the changes were first recorded (run by run, by seq). */
export function listChanges(db: SqliteDatabase, filter: ChangeFilter, now: Date): ChangeLine[] {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.since !== undefined) {
    where.push('at >= @since');
    params['since'] = parseTime(filter.since, now).toISOString();
  }
  if (filter.until !== undefined) {
    where.push('at <= @until');
    params['until'] = parseTime(filter.until, now).toISOString();
  }
  if (filter.user !== undefined) {
    // Its own changes, and the shared revocations that cut them (a change's `concerns`).
    where.push(`(principal_guid IN ${resolve('user')} OR EXISTS (SELECT 1 FROM change_concerns k WHERE k.run_id = changes.run_id AND k.seq = changes.seq AND k.guid IN ${resolve('user')}))`);
    params['user'] = filter.user;
  }
  if (filter.group !== undefined) {
    // The group's own changes (its Identity Center group, memberships, assignments) and the federated
    // roles mapped to it, whose principal is the group.
    where.push(`(group_guid IN ${resolve('group')} OR principal_guid IN (SELECT guid FROM principal_aliases WHERE type = 'group' AND (alias = @group OR guid = lower(@group))))`);
    params['group'] = filter.group;
  }
  if (filter.action !== undefined) checkChoice('--action', filter.action, ACTION_NAMES, ACTION_HINTS);
  if (filter.status !== undefined) checkChoice('--status', filter.status, CHANGE_STATUSES);
  if (filter.account !== undefined && !/^\d{12}$/.test(filter.account)) {
    throw new InvalidInputError(`--account "${filter.account}" is not a 12-digit AWS account id; give the id, or --config FILE to resolve the config's account aliases`);
  }
  const run = filter.run === undefined ? undefined : resolveRunId(db, filter.run);
  for (const [key, column] of [
    ['account', 'account'],
    ['action', 'action'],
    ['status', 'status'],
    ['run', 'run_id'],
  ] as const) {
    const v = key === 'run' ? run : filter[key];
    if (v !== undefined) {
      where.push(`${column} = @${key}`);
      params[key] = v;
    }
  }
  const sql =
    `SELECT * FROM changes${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY first_event_id` +
    (filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '');
  return (db.prepare(sql).all(params) as ChangeViewRow[]).map(toLine);
}

export interface RunLine {
  readonly id: string;
  readonly trigger: string;
  readonly mode: string;
  readonly host: string;
  readonly version: string;
  readonly configHash: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly outcome: string | null;
  readonly error: string | null;
  readonly directory: { readonly users: number | null; readonly groups: number | null };
  readonly plan: { readonly createdAt: string | null; readonly summary: unknown; readonly refusal: unknown; readonly warnings: unknown };
  /** Changes by final status. */
  readonly counts: Readonly<Record<string, number>>;
  readonly changes: number;
}

interface RunRow {
  id: string;
  trigger: string;
  mode: string;
  host: string;
  version: string;
  config_hash: string;
  started_at: string;
  finished_at: string | null;
  outcome: string | null;
  error: string | null;
  directory_users: number | null;
  directory_groups: number | null;
  plan_created_at: string | null;
  plan_summary: string | null;
  plan_refusal: string | null;
  plan_warnings: string | null;
}

function runLine(db: SqliteDatabase, r: RunRow): RunLine {
  const counts: Record<string, number> = {};
  let total = 0;
  for (const c of db.prepare('SELECT status, count(*) AS n FROM changes WHERE run_id = ? GROUP BY status ORDER BY status').all(r.id) as { status: string; n: number }[]) {
    counts[c.status] = c.n;
    total += c.n;
  }
  return {
    id: r.id,
    trigger: r.trigger,
    mode: r.mode,
    host: r.host,
    version: r.version,
    configHash: r.config_hash,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    outcome: r.outcome,
    error: r.error,
    directory: { users: r.directory_users, groups: r.directory_groups },
    plan: { createdAt: r.plan_created_at, summary: parse(r.plan_summary), refusal: parse(r.plan_refusal), warnings: parse(r.plan_warnings) },
    counts,
    changes: total,
  };
}

/** Recent runs, newest first, with their changes counted by final status. */
export function listRuns(db: SqliteDatabase, filter: { readonly since?: string | undefined; readonly until?: string | undefined; readonly limit?: number | undefined }, now: Date): RunLine[] {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.since !== undefined) {
    where.push('started_at >= @since');
    params['since'] = parseTime(filter.since, now).toISOString();
  }
  if (filter.until !== undefined) {
    where.push('started_at <= @until');
    params['until'] = parseTime(filter.until, now).toISOString();
  }
  const limit = Math.max(1, Math.floor(filter.limit ?? 20));
  const rows = db.prepare(`SELECT * FROM runs${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT ${limit}`).all(params) as RunRow[];
  return rows.map((r) => runLine(db, r));
}

export interface RunEvent {
  readonly id: number;
  readonly seq: number;
  readonly at: string;
  readonly status: string;
  readonly address: string;
  readonly error: string | null;
  readonly requestIds: readonly string[];
}

/** One run (by id or unique prefix) with its changes (final status each) and every row written for them, in order. Null when absent. */
export function showRun(db: SqliteDatabase, idOrPrefix: string): { readonly run: RunLine; readonly changes: readonly ChangeLine[]; readonly events: readonly RunEvent[] } | null {
  const runId = findRunId(db, idOrPrefix);
  if (runId === null) return null;
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as RunRow | undefined;
  if (r === undefined) return null;
  const changes = (db.prepare('SELECT * FROM changes WHERE run_id = ? ORDER BY seq').all(runId) as ChangeViewRow[]).map(toLine);
  const events = (
    db.prepare('SELECT id, seq, at, status, address, error, request_ids FROM change_events WHERE run_id = ? ORDER BY id').all(runId) as {
      id: number;
      seq: number;
      at: string;
      status: string;
      address: string;
      error: string | null;
      request_ids: string | null;
    }[]
  ).map((e) => ({ id: e.id, seq: e.seq, at: e.at, status: e.status, address: e.address, error: e.error, requestIds: (parse(e.request_ids) as string[] | null) ?? [] }));
  return { run: runLine(db, r), changes, events };
}

export interface AccessLine {
  readonly userGuid: string;
  readonly userName: string;
  readonly account: string;
  readonly kind: string;
  readonly target: string;
  readonly viaGroupGuid: string;
  readonly viaGroupName: string;
}

export interface AccessAnswer {
  readonly asOf: string;
  /** The snapshot that describes that moment: the latest at or before it. Null when none is that old. */
  readonly snapshot: { readonly id: number; readonly runId: string; readonly at: string } | null;
  readonly entitlements: readonly AccessLine[];
}

/** Who held which access at `asOf`, from the latest entitlement snapshot at or before it. */
export function accessAsOf(
  db: SqliteDatabase,
  query: { readonly asOf: string; readonly user?: string | undefined; readonly account?: string | undefined },
  now: Date,
): AccessAnswer {
  const asOf = parseTime(query.asOf, now).toISOString();
  const snap = db.prepare('SELECT id, run_id, at FROM entitlement_snapshots WHERE at <= ? ORDER BY at DESC, id DESC LIMIT 1').get(asOf) as
    | { id: number; run_id: string; at: string }
    | undefined;
  if (snap === undefined) return { asOf, snapshot: null, entitlements: [] };
  const where = ['snapshot_id = @snapshot'];
  const params: Record<string, unknown> = { snapshot: snap.id };
  if (query.user !== undefined) {
    where.push(`user_guid IN ${resolve('user')}`);
    params['user'] = query.user;
  }
  if (query.account !== undefined) {
    where.push('account = @account');
    params['account'] = query.account;
  }
  const rows = db
    .prepare(
      `SELECT user_guid, user_name, account, kind, target, via_group_guid, via_group_name FROM entitlements WHERE ${where.join(' AND ')}
       ORDER BY user_name, account, kind, target, via_group_name`,
    )
    .all(params) as { user_guid: string; user_name: string; account: string; kind: string; target: string; via_group_guid: string; via_group_name: string }[];
  return {
    asOf,
    snapshot: { id: snap.id, runId: snap.run_id, at: snap.at },
    entitlements: rows.map((r) => ({
      userGuid: r.user_guid,
      userName: r.user_name,
      account: r.account,
      kind: r.kind,
      target: r.target,
      viaGroupGuid: r.via_group_guid,
      viaGroupName: r.via_group_name,
    })),
  };
}
