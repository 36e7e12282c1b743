/**
 * Who reviews a person's access (pure). In order:
 * 1. a per-group override (`reviews.reviewers`), unless it names the person themself;
 * 2. the person's AD `manager`; a manager who is disabled, expired or not in the directory (a leaver, or
 *    outside the user base) is passed over for that manager's manager, and so on up the chain;
 * 3. `reviews.fallbackReviewer`.
 * Nobody reviews their own access: whoever that would be is passed over for the next one up. A chain that
 * loops (A manages B manages A) stops where it returns.
 */
import type { DirectoryUser } from '../model/directory.js';
import { isActive, normalizeDn } from '../model/directory.js';
import type { Reviewer, RoutedBy } from './types.js';

export interface RoutingSettings {
  /** AD group name (lower case) -> reviewer UPN. */
  readonly reviewers: Readonly<Record<string, string>>;
  readonly fallbackReviewer: string | null;
}

export type Routing =
  | { readonly ok: true; readonly reviewer: Reviewer; readonly routedBy: RoutedBy; readonly note?: string | undefined }
  | { readonly ok: false; readonly message: string };

/** The identity a reviewer decides under: their UPN (else mail, else sAMAccountName). */
export function reviewerIdOf(u: DirectoryUser): string {
  return u.userPrincipalName ?? u.mail ?? u.sAMAccountName;
}

export function reviewerOf(u: DirectoryUser): Reviewer {
  return { objectGUID: u.guid, userPrincipalName: reviewerIdOf(u), ...(u.displayName !== undefined ? { displayName: u.displayName } : {}) };
}

const same = (a: string | undefined, b: string | undefined): boolean => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Is this UPN the person themself (any of their names)? */
function isSelf(person: DirectoryUser, upn: string): boolean {
  return same(person.userPrincipalName, upn) || same(person.mail, upn) || same(person.sAMAccountName, upn);
}

export class ReviewerRouter {
  readonly #byDn = new Map<string, DirectoryUser>();
  readonly #byUpn = new Map<string, DirectoryUser>();
  readonly #now: Date;
  readonly #settings: RoutingSettings;

  constructor(users: readonly DirectoryUser[], settings: RoutingSettings, now: Date) {
    for (const u of users) {
      this.#byDn.set(normalizeDn(u.dn), u);
      if (u.userPrincipalName !== undefined) this.#byUpn.set(u.userPrincipalName.toLowerCase(), u);
    }
    this.#settings = settings;
    this.#now = now;
  }

  #named(upn: string): Reviewer {
    const u = this.#byUpn.get(upn.toLowerCase());
    return u !== undefined ? reviewerOf(u) : { userPrincipalName: upn };
  }

  /** The reviewer of `person`'s grant through `groupName` (undefined: a grant no group gives). */
  route(person: DirectoryUser, groupName: string | undefined): Routing {
    const notes: string[] = [];
    const override = groupName !== undefined ? this.#settings.reviewers[groupName.toLowerCase()] : undefined;
    if (override !== undefined) {
      if (!isSelf(person, override)) return { ok: true, reviewer: this.#named(override), routedBy: 'group-override' };
      notes.push(`${override}, the reviewer of group ${groupName ?? ''}, is the person themself`);
    }
    const seen = new Set<string>([person.guid]);
    let dn = person.manager;
    let depth = 0;
    while (dn !== undefined) {
      const m = this.#byDn.get(normalizeDn(dn));
      if (m === undefined) {
        notes.push(`manager ${dn} is not in the directory`);
        break;
      }
      if (seen.has(m.guid)) {
        notes.push(m.guid === person.guid ? `${m.sAMAccountName} is their own manager` : `the manager chain loops at ${m.sAMAccountName}`);
        break;
      }
      seen.add(m.guid);
      if (!isActive(m, this.#now)) notes.push(`manager ${m.sAMAccountName} is ${m.disabled ? 'disabled' : 'expired'}`);
      else if (isSelf(person, reviewerIdOf(m))) notes.push(`manager ${m.sAMAccountName} is the person themself`);
      else return { ok: true, reviewer: reviewerOf(m), routedBy: depth === 0 ? 'manager' : 'manager-of-manager', ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
      dn = m.manager;
      depth++;
    }
    if (person.manager === undefined && notes.length === 0) notes.push('no manager in AD');
    const fallback = this.#settings.fallbackReviewer;
    if (fallback !== null && !isSelf(person, fallback)) return { ok: true, reviewer: this.#named(fallback), routedBy: 'configured-fallback', note: notes.join('; ') };
    if (fallback !== null) notes.push(`the fallback reviewer ${fallback} is the person themself`);
    return { ok: false, message: `nobody can review ${person.sAMAccountName} (${person.guid}): ${notes.join('; ')}${fallback === null ? '; set reviews.fallbackReviewer' : ''}` };
  }
}
