/**
 * Held references: a role-map group reference that stopped resolving (desired/unresolved.ts) holds
 * its mapping's current state. Every change to its Identity Center group, the group's memberships and
 * assignments, and the deletion of an Identity Center user who is a member of it, is dropped from the
 * plan: a renamed AD group must never become deletions. The group is found by the objectGUID the
 * journal's history gives, else by the name the reference gives (its Identity Center display name).
 */
import type { Resource } from '../model/resources.js';
import type { DraftChange } from './draft.js';
import { subject } from './draft.js';
import type { PlanPolicy } from './policies.js';

export const heldPolicy: PlanPolicy = (plan, ctx) => {
  const refs = ctx.desired.unresolved ?? [];
  if (refs.length === 0) return plan;
  const held = new Set<string>();
  for (const r of refs) if (r.groupGuid !== undefined) held.add(r.groupGuid);
  const names = new Set(refs.filter((r) => r.groupGuid === undefined && r.groupName !== undefined).map((r) => r.groupName as string));
  if (names.size > 0) for (const g of ctx.actualByKey.ofKind('identitystore_group')) if (g.owned && names.has(g.name.toLowerCase())) held.add(g.id);
  if (held.size === 0) return plan;
  // Identity Center users who are members of a held group now (their deletion would be for it).
  const heldUsers = new Set<string>();
  for (const m of ctx.actualByKey.ofKind('identitystore_membership')) {
    const slash = m.id.indexOf('/');
    if (held.has(m.id.slice(0, slash))) heldUsers.add(m.id.slice(slash + 1));
  }
  const touchesHeld = (c: DraftChange, r: Resource): boolean => {
    switch (r.kind) {
      case 'identitystore_group':
        return held.has(r.id);
      case 'identitystore_membership':
        return held.has(r.id.slice(0, r.id.indexOf('/')));
      case 'sso_account_assignment': {
        const principal = r.id.slice(r.id.lastIndexOf('/') + 1);
        return principal.startsWith('GROUP:') && held.has(principal.slice('GROUP:'.length));
      }
      case 'identitystore_user':
        return c.action === 'delete' && heldUsers.has(r.id);
      default:
        return false;
    }
  };
  let dropped = 0;
  const changes = plan.changes.filter((c) => {
    if (!touchesHeld(c, subject(c))) return true;
    dropped++;
    return false;
  });
  const warnings = dropped > 0 ? [...plan.warnings, `${dropped} change${dropped === 1 ? '' : 's'} held for AD group references that no longer resolve (see above)`] : plan.warnings;
  return { ...plan, changes, warnings };
};
