/**
 * Per-account isolation: a part of AWS that could not be read (see `UnreadableScope`) has an
 * unknown actual state, so every change there is held (nothing created over what may exist,
 * nothing deleted or revoked on a guess), with one warning per scope. Everything else goes ahead:
 * a leaver's revocations in the other accounts are not held back by an account that failed.
 */
import type { UnreadableScope } from '../model/state.js';
import { scopeCovers } from '../model/state.js';
import type { DraftChange } from './draft.js';
import { subject } from './draft.js';
import type { PlanPolicy } from './policies.js';

/** The warning a plan carries for a scope it could not read. */
export function unreadableWarning(scope: UnreadableScope, held: number): string {
  return `${scope.name} could not be read (${scope.reason}); nothing is planned there this run${held > 0 ? ` (${held} change${held === 1 ? '' : 's'} held)` : ''}, everything else goes ahead`;
}

export function holdUnreadable(changes: readonly DraftChange[], scopes: readonly UnreadableScope[]): { changes: DraftChange[]; warnings: string[] } {
  if (scopes.length === 0) return { changes: [...changes], warnings: [] };
  const held = new Map<UnreadableScope, number>(scopes.map((s) => [s, 0]));
  const kept = changes.filter((c) => {
    const r = subject(c);
    const scope = scopes.find((s) => scopeCovers(s, r));
    if (scope === undefined) return true;
    held.set(scope, (held.get(scope) ?? 0) + 1);
    return false;
  });
  return { changes: kept, warnings: scopes.map((s) => unreadableWarning(s, held.get(s) ?? 0)) };
}

/** The policy form, first of the defaults (so the dangling and safety policies see what is left). */
export const unreadablePolicy: PlanPolicy = (plan, ctx) => {
  const { changes, warnings } = holdUnreadable(plan.changes, ctx.unreadable ?? []);
  return { ...plan, changes, warnings: [...plan.warnings, ...warnings] };
};
