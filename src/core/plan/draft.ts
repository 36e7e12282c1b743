/**
 * A change while the plan is being worked out: no seq, no dependsOn, no address yet. `order.ts`
 * turns drafts into numbered `Change`s once the filters have decided which ones stay.
 */
import type { Guid } from '../model/directory.js';
import type { PrincipalRef, Resource, ResourceKey, ResourceKind } from '../model/resources.js';
import type { LeaverReason } from '../model/state.js';
import type { Action } from './action.js';
import type { AttrDiff } from './change.js';

export interface DraftChange {
  readonly action: Action;
  readonly kind: ResourceKind;
  readonly key: ResourceKey;
  readonly before: Resource | null;
  readonly after: Resource | null;
  readonly diffs: readonly AttrDiff[];
  readonly reason: string;
  readonly principal?: PrincipalRef | undefined;
  readonly leaver?: { readonly guid: Guid; readonly name: string; readonly reason: LeaverReason } | undefined;
  /** An update AWS cannot make in place: the target destroys and creates the object (replacements.ts). */
  readonly replace?: true | undefined;
  /** Leavers this change is about (a revocation may add several); used for ordering and the summary. */
  readonly concerns?: readonly Guid[] | undefined;
}

/** The resource a draft is about: what it will be, or what it was for a delete. */
export function subject(d: DraftChange): Resource {
  return (d.after ?? d.before) as Resource;
}
