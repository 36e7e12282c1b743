/**
 * Dependency order. Changes are numbered (seq) so that everything a change needs comes before it,
 * and within that freedom in a fixed order (phase, kind, address) so the same inputs always give
 * the same plan text:
 *
 *   phase 0  revocations and credential disables: first, and depending on nothing (AWS's order for a
 *            leaver is deny first, then remove access; a failure anywhere else, say an Identity Center
 *            throttle, never holds back a deny, and a failed deny never holds back a removal of access)
 *   phase 1  create/update roles, permission sets, groups, users
 *   phase 2  create/update memberships and assignments (after their user, group and permission set)
 *   phase 3  delete memberships, assignments, revocation policies
 *   phase 4  delete users, groups, permission sets, roles (after what hangs on them; an Identity Center
 *            user also after the denies on its UserId, which a later run could not write without it)
 *
 * A create whose name is freed by a delete in the same plan waits for that delete.
 */
import type { ResourceKey, ResourceKind } from '../model/resources.js';
import type { Change } from './change.js';
import type { DraftChange } from './draft.js';
import { subject } from './draft.js';
import { MinHeap } from './min-heap.js';

const KIND_ORDER: readonly ResourceKind[] = [
  'iam_role',
  'sso_permission_set',
  'identitystore_group',
  'identitystore_user',
  'identitystore_membership',
  'sso_account_assignment',
  'iam_role_revocations',
  'sso_permission_set_revocations',
  'iam_user_credentials',
];
const PARENT_KINDS: ReadonlySet<ResourceKind> = new Set(['iam_role', 'sso_permission_set', 'identitystore_group', 'identitystore_user']);

/** Revocations (revoke, and prune-only updates) and credential disables: they go first and wait for nothing. */
function isCut(c: DraftChange): boolean {
  return c.action === 'revoke' || c.action === 'disable' || ((c.kind === 'iam_role_revocations' || c.kind === 'sso_permission_set_revocations') && c.action !== 'delete');
}

function phase(c: DraftChange): number {
  if (isCut(c)) return 0;
  if (c.action === 'delete') return PARENT_KINDS.has(c.kind) ? 4 : 3;
  return PARENT_KINDS.has(c.kind) ? 1 : 2;
}

/** Keys of the resources a resource hangs on, from its declared dependsOn and from its id's shape. */
export function references(kind: ResourceKind, id: string, declared: readonly ResourceKey[] = []): readonly ResourceKey[] {
  let derived: ResourceKey[];
  if (kind === 'identitystore_membership') {
    const slash = id.indexOf('/');
    derived = slash < 0 ? [] : [`identitystore_group:${id.slice(0, slash)}`, `identitystore_user:${id.slice(slash + 1)}`];
  } else if (kind === 'sso_account_assignment') {
    const parts = id.split('/');
    derived = [`sso_permission_set:${parts[0] ?? ''}`];
    const principal = parts.slice(2).join('/');
    if (principal.startsWith('GROUP:')) derived.push(`identitystore_group:${principal.slice(6)}`);
    if (principal.startsWith('USER:')) derived.push(`identitystore_user:${principal.slice(5)}`);
  } else if (kind === 'iam_role_revocations') {
    derived = [`iam_role:${id}`];
  } else if (kind === 'sso_permission_set_revocations') {
    derived = [`sso_permission_set:${id}`];
  } else {
    return declared;
  }
  if (declared.length === 0) return derived;
  return [...new Set([...declared, ...derived])];
}

/** Kinds that hang on others (memberships, assignments, revocations); the rest reference nothing. */
export const DEPENDENT_KINDS: ReadonlySet<ResourceKind> = new Set(['identitystore_membership', 'sso_account_assignment', 'iam_role_revocations', 'sso_permission_set_revocations']);

interface Node {
  readonly draft: DraftChange;
  readonly address: string;
  readonly rank: number;
  readonly prereqs: Set<number>; // indices into nodes
}

export function orderChanges(drafts: readonly DraftChange[], addressOf: (d: DraftChange) => string): Change[] {
  const sorted = drafts
    .map((draft) => ({ draft, address: addressOf(draft), phase: phase(draft), kind: KIND_ORDER.indexOf(draft.kind) }))
    .sort((a, b) => a.phase - b.phase || a.kind - b.kind || cmp(a.address, b.address) || cmp(a.draft.key, b.draft.key));
  const nodes: Node[] = sorted.map((s, rank) => ({ draft: s.draft, address: s.address, rank, prereqs: new Set<number>() }));

  const makingByKey = new Map<ResourceKey, number>();
  const deletingByKey = new Map<ResourceKey, number>();
  const deletingByName = new Map<string, number>();
  const deletesReferencing = new Map<ResourceKey, number[]>();
  const revocationsOfLeaver = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    const d = n.draft;
    const r = subject(d);
    if (d.action === 'delete') {
      deletingByKey.set(d.key, i);
      deletingByName.set(`${r.kind}|${r.account}|${r.name.toLowerCase()}`, i);
      for (const ref of references(r.kind, r.id, r.dependsOn)) {
        const list = deletesReferencing.get(ref);
        if (list) list.push(i);
        else deletesReferencing.set(ref, [i]);
      }
    } else if (d.action !== 'disable') {
      makingByKey.set(d.key, i);
    }
    if (d.kind === 'sso_permission_set_revocations' && d.action === 'revoke') {
      for (const g of d.concerns ?? []) {
        const list = revocationsOfLeaver.get(g);
        if (list) list.push(i);
        else revocationsOfLeaver.set(g, [i]);
      }
    }
  });

  nodes.forEach((n, i) => {
    const d = n.draft;
    const r = subject(d);
    if (d.action === 'delete') {
      for (const j of deletesReferencing.get(d.key) ?? []) if (j !== i) n.prereqs.add(j);
      if (d.kind === 'identitystore_user') for (const j of revocationsOfLeaver.get(r.id) ?? []) n.prereqs.add(j);
    } else if (!isCut(d)) {
      for (const ref of references(r.kind, r.id, r.dependsOn)) {
        const j = makingByKey.get(ref);
        if (j !== undefined && j !== i) n.prereqs.add(j);
      }
      // A new name (create, or a rename) that a delete in this plan frees waits for that delete.
      if (d.action === 'create' || (d.action === 'update' && d.before !== null && d.before.name.toLowerCase() !== r.name.toLowerCase())) {
        const j = deletingByName.get(`${r.kind}|${r.account}|${r.name.toLowerCase()}`);
        if (j !== undefined) n.prereqs.add(j);
      }
    }
  });

  // Kahn's algorithm, always taking the ready node of lowest rank: the sort order, bent only by dependencies.
  const dependents = nodes.map(() => [] as number[]);
  const waiting = nodes.map((n) => n.prereqs.size);
  nodes.forEach((n, i) => n.prereqs.forEach((p) => (dependents[p] as number[]).push(i)));
  const heap = new MinHeap();
  waiting.forEach((w, i) => w === 0 && heap.push(i));
  const seqOf = new Array<number>(nodes.length).fill(0);
  const order: number[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(i);
    seqOf[i] = order.length;
    for (const j of dependents[i] as number[]) {
      waiting[j] = (waiting[j] as number) - 1;
      if (waiting[j] === 0) heap.push(j);
    }
  }
  // A cycle cannot come out of the rules above; if one ever did, keep the changes in sort order rather than lose them.
  nodes.forEach((_n, i) => {
    if (seqOf[i] === 0) {
      order.push(i);
      seqOf[i] = order.length;
    }
  });
  return order.map((i) => {
    const n = nodes[i] as Node;
    const seq = seqOf[i] as number;
    const dependsOn: number[] = [];
    for (const p of n.prereqs) {
      const s = seqOf[p] as number;
      if (s < seq) dependsOn.push(s);
    }
    dependsOn.sort((a, b) => a - b);
    return toChange(n.draft, seq, n.address, dependsOn);
  });
}

/**
 * The draft as a numbered change: its own fields (those it has, in its order; `concerns` only when set), then
 * address, account and dependsOn. Written out rather than with object rest and spread, which copy generically.
 */
function toChange(d: DraftChange, seq: number, address: string, dependsOn: readonly number[]): Change {
  const c: Record<string, unknown> = { seq };
  for (const k in d) if (Object.hasOwn(d, k) && d[k as keyof DraftChange] !== undefined) c[k] = d[k as keyof DraftChange];
  c['address'] = address;
  c['account'] = subject(d).account;
  c['dependsOn'] = dependsOn;
  return c as unknown as Change;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
