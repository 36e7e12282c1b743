/**
 * The directory side of the model: what Active Directory said at one moment.
 *
 * A snapshot is all-or-nothing. A source that could not read everything throws a typed
 * error instead of returning a partial snapshot, so an outage can never look like everyone left.
 */

/**
 * An AD objectGUID in its canonical string form, lower case:
 * `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, the first three fields little-endian as AD renders them.
 * It never changes on rename or move, so it is the identity of every principal in rolemap.
 */
export type Guid = string;

export interface DirectoryUser {
  readonly guid: Guid;
  /** Distinguished name: changes on rename and move, so never used as identity. */
  readonly dn: string;
  readonly sAMAccountName: string;
  readonly userPrincipalName?: string | undefined;
  readonly mail?: string | undefined;
  readonly givenName?: string | undefined;
  readonly surname?: string | undefined;
  readonly displayName?: string | undefined;
  /** The `manager` attribute: the DN of this person's manager (a DN, so compared with normalizeDn). */
  readonly manager?: string | undefined;
  readonly department?: string | undefined;
  readonly title?: string | undefined;
  /** userAccountControl has ACCOUNTDISABLE (0x2). */
  readonly disabled: boolean;
  /** accountExpires as an ISO instant; undefined when it never expires (0 or 0x7FFFFFFFFFFFFFFF). */
  readonly expiresAt?: string | undefined;
  /** whenChanged as an ISO instant, for people only. */
  readonly whenChanged?: string | undefined;
}

export interface DirectoryGroup {
  readonly guid: Guid;
  readonly dn: string;
  readonly sAMAccountName: string;
  /** The group's cn / name, used for display and for the ADFS `AWS-<account>-<role>` pattern. */
  readonly name: string;
  /** The group's AD `description`, when the source read one (shown to reviewers). */
  readonly description?: string | undefined;
  /**
   * Transitive user members (nested groups flattened, cycles broken), by guid,
   * including disabled and expired users: whether they get access is decided in `desired`.
   */
  readonly members: readonly Guid[];
}

export interface DirectorySnapshot {
  /** Where it came from, for people: `ldaps://dc1.example.com/DC=example,DC=com`, `ldif:config/demo/directory.ldif`. */
  readonly source: string;
  /**
   * Every user object the source read under its user base, enabled or not. A user missing here
   * is gone from AD; a user here but in no mapped group has been removed from the groups.
   */
  readonly users: readonly DirectoryUser[];
  /** The groups the role map refers to (by DN, sAMAccountName, guid or the ADFS pattern). */
  readonly groups: readonly DirectoryGroup[];
}

/**
 * How the role map points at an AD group. `pattern` matches group names such as
 * `AWS-123456789012-Admin` and is resolved by the source to every matching group.
 */
export type GroupRef =
  | { readonly by: 'dn'; readonly value: string }
  | { readonly by: 'sAMAccountName'; readonly value: string }
  | { readonly by: 'guid'; readonly value: Guid };

/** One key per group reference, case-insensitive like the lookups: two references with one key name one group. */
export function groupRefKey(ref: GroupRef): string {
  return `${ref.by}:${ref.by === 'dn' ? normalizeDn(ref.value) : ref.value.toLowerCase()}`;
}

/** Is this directory user able to sign in at `now`? */
export function isActive(user: DirectoryUser, now: Date): boolean {
  if (user.disabled) return false;
  if (user.expiresAt !== undefined && Date.parse(user.expiresAt) <= now.getTime()) return false;
  return true;
}

/**
 * A DN in a form fit for comparing: lower case, no spaces around the separators. AD compares DNs
 * case-insensitively and ignores such spaces; escaped characters (`\,`) are kept as they are. The
 * one normaliser: the directory sources select groups with it and the core finds them with it.
 */
export function normalizeDn(dn: string): string {
  let out = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i] as string;
    if (c === '\\' && i + 1 < dn.length) {
      out += c + (dn[i + 1] as string);
      i++;
    } else if (c === ',' || c === '=' || c === '+') {
      out = out.replace(/ +$/, '') + c;
      while (dn[i + 1] === ' ') i++;
    } else {
      out += c;
    }
  }
  return out.trim().toLowerCase();
}

export function matchesGroupRef(group: DirectoryGroup, ref: GroupRef): boolean {
  switch (ref.by) {
    case 'dn':
      return normalizeDn(group.dn) === normalizeDn(ref.value);
    case 'sAMAccountName':
      return group.sAMAccountName.toLowerCase() === ref.value.toLowerCase();
    case 'guid':
      return group.guid === ref.value.toLowerCase();
  }
}
