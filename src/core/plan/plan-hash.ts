/**
 * A plan's identity, for plans applied later (`--plan FILE`, the daemon's approved refusals):
 *
 * - `planHash(plan)`: sha256 of the plan's canonical JSON (keys sorted at every level, no spaces).
 *   The journal records it when a plan is saved or refused awaiting approval, and an approval is of
 *   exactly one hash; a plan whose hash the journal never recorded was not made by rolemap as it is.
 * - `planDifference(saved, fresh)`: the first place where a saved plan differs from the plan the same
 *   directory and AWS state give now (re-planned at the saved plan's time), in words, or null.
 *   Only what is applied is compared: the changes, the refusal and the owner id.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { Change, Plan } from './change.js';

export const PLAN_HASH = /^sha256:[0-9a-f]{64}$/;

export function planHash(plan: Plan): string {
  return `sha256:${createHash('sha256').update(canonicalJson(plan)).digest('hex')}`;
}

/** `sha256:1a2b3c4d5e6f…`, for messages. */
export function shortHash(hash: string): string {
  return hash.length > 19 ? `${hash.slice(0, 19)}…` : hash;
}

/** The first path where `a` and `b` differ (canonical JSON values), with both values; null when equal. */
function firstDifference(a: unknown, b: unknown, path: string): { path: string; a: unknown; b: unknown } | null {
  if (a === b) return null;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return { path: `${path}[${i}]`, a: a[i], b: b[i] };
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[k], b[k], path === '' ? k : `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return canonicalJson(a) === canonicalJson(b) ? null : { path, a, b };
}

const shown = (v: unknown): string => {
  if (v === undefined) return 'absent';
  const s = canonicalJson(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** Plain data as canonical JSON would write it (undefined fields dropped), so both sides compare alike. */
const plain = (v: unknown): unknown => JSON.parse(canonicalJson(v)) as unknown;

function changeDifference(saved: Change, fresh: Change): string | null {
  const d = firstDifference(plain(saved), plain(fresh), '');
  if (!d) return null;
  return `change #${saved.seq} ${saved.address}: ${d.path} is ${shown(d.a)} in the saved plan, ${shown(d.b)} in the plan made now`;
}

/**
 * Where `saved` differs from `fresh` (the plan the same directory and AWS state give now), or null
 * when what would be applied is the same. Names the owner id, the refusal, or the first change that
 * differs and the attribute path inside it (changes first: a refusal's message follows from them).
 */
export function planDifference(saved: Plan, fresh: Plan): string | null {
  if (saved.ownerId !== fresh.ownerId) return `the owner id is ${saved.ownerId} in the saved plan, ${fresh.ownerId} now`;
  // Changes one side has and the other lacks first: they say more than the numbering they shift.
  const byKey = new Map(fresh.changes.map((c) => [c.key, c]));
  const missing = saved.changes.find((c) => !byKey.has(c.key));
  if (missing) return `change #${missing.seq} ${missing.address} (${missing.action}) is in the saved plan, but the plan made now has no such change`;
  const savedKeys = new Set(saved.changes.map((c) => c.key));
  const extra = fresh.changes.find((c) => !savedKeys.has(c.key));
  if (extra) return `the plan made now has change #${extra.seq} ${extra.address} (${extra.action}), which the saved plan lacks`;
  for (const c of saved.changes) {
    const d = changeDifference(c, byKey.get(c.key) as Change);
    if (d) return d;
  }
  const refusal = firstDifference(plain(saved.refusal), plain(fresh.refusal), 'refusal');
  if (refusal) {
    const what = (r: Plan['refusal']): string => (r === null ? 'none (not refused)' : r.code);
    return `refusal is ${what(saved.refusal)} in the saved plan, ${what(fresh.refusal)} in the plan made now${saved.refusal?.code === fresh.refusal?.code ? ` (${refusal.path} differs)` : ''}`;
  }
  return null;
}
