/**
 * IAM users linked to an AD account that has left: disabled, expired, or gone from the directory.
 * The link (tag or name pattern) is read by the adapter; this decides, against the snapshot, who left.
 */
import type { DirectoryUser } from '../model/directory.js';
import type { LeaverLink } from './types.js';

export function leaverLinks(linked: readonly { readonly userName: string; readonly adName: string }[], users: readonly DirectoryUser[], now: Date): LeaverLink[] {
  const byName = new Map<string, DirectoryUser>();
  for (const u of users) {
    byName.set(u.sAMAccountName.toLowerCase(), u);
    if (u.userPrincipalName !== undefined) byName.set(u.userPrincipalName.toLowerCase(), u);
  }
  const out: LeaverLink[] = [];
  for (const l of linked) {
    const u = byName.get(l.adName.toLowerCase());
    if (u === undefined) out.push({ ...l, why: 'not in the directory' });
    else if (u.disabled) out.push({ ...l, why: 'disabled' });
    else if (u.expiresAt !== undefined && Date.parse(u.expiresAt) <= now.getTime()) out.push({ ...l, why: `expired (${u.expiresAt.slice(0, 10)})` });
  }
  return out;
}
