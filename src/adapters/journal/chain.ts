/**
 * The hash chains that make the journal tamper-evident.
 *
 * `change_events`: row n stores `prev_hash` = hash of row n-1 (GENESIS for row 1) and
 * `hash` = sha256(prev_hash + "\n" + canonical JSON of its columns, its id included; the fencing columns
 * epoch and node_id only when set). Ids run 1, 2, 3, ...
 * without gaps, so a deleted row leaves a hole, an edited row no longer matches its hash, and a row
 * rewritten with a fresh hash breaks the link of the row after it. `entitlement_snapshots` is a second
 * chain of the same form whose content includes the digest of the snapshot's entitlement rows.
 *
 * A chain cannot by itself show that its last rows were cut off; each finished run records the chain
 * head (`runs.chain_head_id/hash`) and verify checks those anchors. Keep the head printed by
 * `rolemap journal verify` outside the host (a ticket, the SIEM) for an external anchor.
 */
import { createHash } from 'node:crypto';

export const GENESIS = '0'.repeat(64);

/** change_events columns in the order they are hashed (prev_hash and hash excluded). */
export const CHANGE_EVENT_COLUMNS = [
  'id',
  'run_id',
  'seq',
  'at',
  'status',
  'action',
  'kind',
  'resource_key',
  'address',
  'account',
  'principal_guid',
  'principal_name',
  'group_guid',
  'group_name',
  'leaver_reason',
  'before_json',
  'after_json',
  'diffs_json',
  'reason',
  'error',
  'request_ids',
  'detail_json',
] as const;
export type ChangeEventColumn = (typeof CHANGE_EVENT_COLUMNS)[number];
/**
 * Added by the fencing migration (009) to change_events and runs: the S3 lease's epoch and the node that
 * held it when the row was written. Hashed after the other columns only when one of them is set, so
 * rows written before (NULL) hash as they always did.
 */
export const FENCING_COLUMNS = ['epoch', 'node_id'] as const;
export interface Fencing {
  readonly epoch?: number | null | undefined;
  readonly node_id?: string | null | undefined;
}
export type ChangeEventContent = { readonly [C in ChangeEventColumn]: C extends 'id' | 'seq' ? number : C extends 'run_id' | 'at' | 'status' | 'action' | 'kind' | 'resource_key' | 'address' | 'account' ? string : string | null } & Fencing;

/** The fencing values a row's hash covers: none for a row without them (every row before schema 9). */
export function fencingTail(row: Fencing): (number | string | null)[] {
  const epoch = row.epoch ?? null;
  const node = row.node_id ?? null;
  return epoch === null && node === null ? [] : [epoch, node];
}
export type ChangeEventRow = ChangeEventContent & { readonly prev_hash: string; readonly hash: string };

export const SNAPSHOT_COLUMNS = ['id', 'run_id', 'at', 'entitlements', 'digest'] as const;
export interface SnapshotContent {
  readonly id: number;
  readonly run_id: string;
  readonly at: string;
  readonly entitlements: number;
  readonly digest: string;
}
export type SnapshotRow = SnapshotContent & { readonly prev_hash: string; readonly hash: string };

export const ENTITLEMENT_COLUMNS = ['user_guid', 'user_name', 'account', 'kind', 'target', 'via_group_guid', 'via_group_name'] as const;
/** Added by the session-names migration; NULL in rows written before it. */
export const ENTITLEMENT_NAME_COLUMNS = ['user_principal_name', 'mail', 'seen_at'] as const;
export type EntitlementRow = { readonly [C in (typeof ENTITLEMENT_COLUMNS)[number]]: string } & { readonly [C in (typeof ENTITLEMENT_NAME_COLUMNS)[number]]?: string | null | undefined };

export function chainHash(prevHash: string, content: readonly unknown[]): string {
  return createHash('sha256').update(prevHash).update('\n').update(JSON.stringify(content)).digest('hex');
}

export function changeEventHash(prevHash: string, row: ChangeEventContent): string {
  return chainHash(prevHash, [...CHANGE_EVENT_COLUMNS.map((c) => row[c]), ...fencingTail(row)]);
}

export function snapshotHash(prevHash: string, row: SnapshotContent): string {
  return chainHash(prevHash, SNAPSHOT_COLUMNS.map((c) => row[c]));
}

/**
 * sha256 over a snapshot's rows in canonical (sorted) order: independent of insertion order. The name
 * columns are part of a row's line only when one of them is set, so rows written before they existed
 * hash as they always did.
 */
export function entitlementsDigest(rows: readonly EntitlementRow[]): string {
  const lines = rows
    .map((r) => {
      const base: (string | null)[] = ENTITLEMENT_COLUMNS.map((c) => r[c]);
      const names = ENTITLEMENT_NAME_COLUMNS.map((c) => r[c] ?? null);
      return JSON.stringify(names.some((n) => n !== null) ? [...base, ...names] : base);
    })
    .sort();
  const h = createHash('sha256');
  for (const l of lines) h.update(l).update('\n');
  return h.digest('hex');
}

/** `runs` columns in the order a run seal hashes them: every column of the finished run's row. */
export const RUN_COLUMNS = [
  'id',
  'trigger',
  'mode',
  'host',
  'version',
  'config_hash',
  'directory_users',
  'directory_groups',
  'started_at',
  'finished_at',
  'outcome',
  'error',
  'plan_created_at',
  'plan_summary',
  'plan_refusal',
  'plan_warnings',
  'chain_head_id',
  'chain_head_hash',
] as const;
export type RunRowContent = { readonly [C in (typeof RUN_COLUMNS)[number]]: string | number | null } & Fencing;
export interface RunSealRow {
  readonly id: number;
  readonly run_id: string;
  readonly prev_hash: string;
  readonly hash: string;
}

/** A run seal's hash: its own id and run id, then the sealed run's columns. */
export function runSealHash(prevHash: string, sealId: number, run: RunRowContent): string {
  return chainHash(prevHash, [sealId, run.id, ...RUN_COLUMNS.map((c) => run[c]), ...fencingTail(run)]);
}
