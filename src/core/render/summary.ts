/**
 * The counts at the end of a plan and of an apply, in one unit each: resources added, changed in place
 * and destroyed as terraform counts them; session revocations and credential disables apart (they
 * are neither); and the leavers, with what happens to them in words ("1 leaver (carol): 2 session
 * revocations, 1 membership removed, 1 user deleted"). The human plan and the CLI's apply line both
 * use it, so the two lines can be compared.
 */
import type { Change } from '../plan/change.js';

export interface ChangeCounts {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  readonly revoke: number;
  readonly disable: number;
}

export function countChanges(changes: readonly (Pick<Change, 'action'> & { readonly replace?: true | undefined })[]): ChangeCounts {
  let add = 0;
  let change = 0;
  let destroy = 0;
  let revoke = 0;
  let disable = 0;
  for (const c of changes) {
    if (c.action === 'create') add++;
    else if (c.replace) {
      // A replacement (-/+) adds one and destroys one, as terraform counts it.
      add++;
      destroy++;
    } else if (c.action === 'update') change++;
    else if (c.action === 'delete') destroy++;
    else if (c.action === 'revoke') revoke++;
    else disable++;
  }
  return { add, change, destroy, revoke, disable };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `3 session revocations, 1 credential disable` (only what is there), or '' when neither. */
export function leaverActions(c: Pick<ChangeCounts, 'revoke' | 'disable'>): string {
  return [
    ...(c.revoke > 0 ? [plural(c.revoke, 'session revocation', 'session revocations')] : []),
    ...(c.disable > 0 ? [plural(c.disable, "IAM user's credentials disabled", "IAM users' credentials disabled")] : []),
  ].join(', ');
}

/** What a leaver step does, in words, or null when the change is not one. */
function stepOf(c: Change): string | null {
  if (c.action === 'revoke') return 'revoke';
  if (c.action === 'disable') return 'disable';
  if (c.leaver === undefined) return null;
  if (c.action === 'delete') {
    if (c.kind === 'identitystore_membership') return 'membership';
    if (c.kind === 'sso_account_assignment') return 'assignment';
    if (c.kind === 'identitystore_user') return 'user';
  }
  return 'other';
}

const STEP_WORDS: Readonly<Record<string, readonly [string, string]>> = {
  revoke: ['session revocation', 'session revocations'],
  disable: ["IAM user's credentials disabled", "IAM users' credentials disabled"],
  membership: ['membership removed', 'memberships removed'],
  assignment: ['assignment removed', 'assignments removed'],
  user: ['Identity Center user deleted', 'Identity Center users deleted'],
  other: ['other change', 'other changes'],
};

/**
 * `1 leaver (carol): 2 session revocations, 1 membership removed, 1 Identity Center user deleted`, or
 * '' without leavers. `leavers` is the plan's count (a shared revocation concerns several people);
 * names come from the changes that name one leaver, five at most.
 */
export function leaverLine(changes: readonly Change[], leavers: number): string {
  if (leavers === 0) return '';
  const counts = new Map<string, number>();
  const names = new Set<string>();
  for (const c of changes) {
    const step = stepOf(c);
    if (step === null) continue;
    counts.set(step, (counts.get(step) ?? 0) + 1);
    if (c.leaver) names.add(c.leaver.name);
  }
  const shown = [...names].sort();
  const who = shown.length === 0 ? '' : ` (${shown.slice(0, 5).join(', ')}${shown.length > 5 ? `, and ${shown.length - 5} more` : ''})`;
  const steps = Object.keys(STEP_WORDS)
    .filter((k) => (counts.get(k) ?? 0) > 0)
    .map((k) => {
      const [one, many] = STEP_WORDS[k] as readonly [string, string];
      return plural(counts.get(k) ?? 0, one, many);
    });
  return `${plural(leavers, 'leaver', 'leavers')}${who}: ${steps.length === 0 ? 'nothing left to do' : steps.join(', ')}`;
}
