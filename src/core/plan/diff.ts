/**
 * Attribute-level comparison, driven by `ATTR_SCHEMA`: policies by meaning, sets without order,
 * maps as maps. Each attribute that differs is one `AttrDiff` (one line, or one block, in the plan).
 */
import type { PolicyDocument } from '../model/policy.js';
import { policiesEqual } from '../model/policy.js';
import type { AttrType, Resource, ResourceKind } from '../model/resources.js';
import { RESOURCE_KINDS, attrEntries, resourceKey } from '../model/resources.js';
import type { AttrDiff } from './change.js';
import { canonicalJson } from './canonical-json.js';
import type { DraftChange } from './draft.js';
import type { ResourceIndex } from './resource-index.js';

/** Policies by meaning; the same document with keys in another order is settled without normalising it. */
function samePolicy(a: PolicyDocument | null, b: PolicyDocument | null): boolean {
  if (a === null || b === null) return a === b;
  return canonicalJson(a) === canonicalJson(b) || policiesEqual(a, b);
}

export function attrEqual(type: AttrType, a: unknown, b: unknown): boolean {
  switch (type) {
    case 'scalar':
      return (a ?? null) === (b ?? null);
    case 'set': {
      const sa = new Set(a as readonly string[]);
      const sb = new Set(b as readonly string[]);
      if (sa.size !== sb.size) return false;
      for (const x of sa) if (!sb.has(x)) return false;
      return true;
    }
    case 'policy':
      return samePolicy((a ?? null) as PolicyDocument | null, (b ?? null) as PolicyDocument | null);
    case 'stringMap':
    case 'policyMap': {
      const ma = (a ?? {}) as Record<string, unknown>;
      const mb = (b ?? {}) as Record<string, unknown>;
      const ka = Object.keys(ma);
      if (ka.length !== Object.keys(mb).length) return false;
      for (const k of ka) {
        if (!Object.hasOwn(mb, k)) return false;
        const equal = type === 'stringMap' ? ma[k] === mb[k] : samePolicy(ma[k] as PolicyDocument, mb[k] as PolicyDocument);
        if (!equal) return false;
      }
      return true;
    }
  }
}

/** The attributes of one kind that differ between two resources of that kind, in schema order. */
export function diffAttrs(kind: ResourceKind, before: Resource['attrs'], after: Resource['attrs']): AttrDiff[] {
  const b = before as unknown as Readonly<Record<string, unknown>>;
  const a = after as unknown as Readonly<Record<string, unknown>>;
  const out: AttrDiff[] = [];
  for (const [name, type] of attrEntries(kind)) {
    const x = b[name];
    const y = a[name];
    // Scalars inline (most attributes of 100,000 users); the rest by type.
    const equal = type === 'scalar' ? (x ?? null) === (y ?? null) : attrEqual(type, x, y);
    if (!equal) out.push({ name, type, before: x ?? null, after: y ?? null });
  }
  return out;
}

/** Kinds without attributes in `ATTR_SCHEMA`: two of them with one key are always equal. */
const NO_ATTRS_KINDS: ReadonlySet<ResourceKind> = new Set(RESOURCE_KINDS.filter((kind) => attrEntries(kind).length === 0));

/** Kinds the generic diff leaves alone: leavers' revocations and linked IAM users have passes of their own (leavers.ts). */
const LEAVER_KINDS: ReadonlySet<ResourceKind> = new Set(['iam_role_revocations', 'sso_permission_set_revocations', 'iam_user_credentials']);

export interface DiffOptions {
  /** `leavers.identityCenter === 'remove-access'`: owned Identity Center users are stripped, never deleted. */
  readonly keepIdentityCenterUsers: boolean;
}

/**
 * Desired vs actual, matched by resource key. Unowned actual objects are compared too (so that the
 * ownership policy can see collisions and adoption), but only owned ones are ever deleted.
 */
export function diffStates(
  desired: readonly Resource[],
  actual: ResourceIndex,
  options: DiffOptions,
): DraftChange[] {
  const matched = new Uint8Array(actual.size); // by slot: no key strings, no Set of 100,000 objects
  const out: DraftChange[] = [];
  for (const d of desired) {
    const slot = actual.slotOf(d.kind, d.id);
    if (slot < 0) {
      out.push({ action: 'create', kind: d.kind, key: resourceKey(d), before: null, after: d, diffs: [], reason: createReason(d), principal: d.principal });
      continue;
    }
    matched[slot] = 1;
    const a = actual.at(slot);
    if (NO_ATTRS_KINDS.has(d.kind)) continue; // memberships, assignments: they exist or not
    const diffs = diffAttrs(d.kind, a.attrs, d.attrs);
    if (diffs.length === 0) continue;
    const key = resourceKey(d);
    const after = { ...d, awsId: a.awsId } as Resource;
    out.push({ action: 'update', kind: d.kind, key, before: a, after, diffs, reason: updateReason(d, diffs), principal: d.principal ?? a.principal });
  }
  const all = actual.values();
  for (let slot = 0; slot < all.length; slot++) {
    const a = all[slot] as Resource;
    if (matched[slot] === 1 || !a.owned || LEAVER_KINDS.has(a.kind)) continue;
    if (a.kind === 'identitystore_user' && options.keepIdentityCenterUsers) continue;
    out.push({ action: 'delete', kind: a.kind, key: resourceKey(a), before: a, after: null, diffs: [], reason: deleteReason(a), principal: a.principal });
  }
  return out;
}

function createReason(r: Resource): string {
  const p = r.principal?.name ?? '?';
  switch (r.kind) {
    case 'iam_role':
      // A role kept for a role-map group the directory does not have (see the warning): declared, entitling no one.
      return r.principal === undefined
        ? 'declared in the role map; its AD group is not in the directory (see Warnings), so no one can use the role until it is'
        : `AD group ${p} is mapped to this role`;
    case 'identitystore_group':
      return `AD group ${p} has permission set assignments`;
    case 'identitystore_user':
      return `${p} is an active member of a group with permission set assignments`;
    case 'identitystore_membership':
      return `${p} is an active (direct or nested) member of the AD group`;
    case 'sso_permission_set':
      return 'permission set in the role map';
    case 'sso_account_assignment':
      return `the role map assigns this permission set to AD group ${p}`;
    default:
      return 'wanted by the role map';
  }
}

function updateReason(r: Resource, diffs: readonly AttrDiff[]): string {
  const names = diffs.map((d) => d.name);
  const renamed = (r.kind === 'identitystore_user' && names.includes('userName')) || (r.kind === 'identitystore_group' && names.includes('displayName'));
  if (renamed) return `renamed in AD (same objectGUID ${r.id}); ${names.join(', ')} changed`;
  return `differs from the role map and directory: ${names.join(', ')}`;
}

function deleteReason(r: Resource): string {
  switch (r.kind) {
    case 'iam_role':
      return 'no longer in the role map (or its AD group is gone)';
    case 'identitystore_user':
      return 'no longer an active member of any group with assignments';
    case 'identitystore_membership':
      return 'no longer an active member of the AD group';
    case 'identitystore_group':
      return 'AD group no longer assigned (or gone from AD)';
    default:
      return 'no longer in the role map';
  }
}
