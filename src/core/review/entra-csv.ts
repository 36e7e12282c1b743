/**
 * A campaign in the CSV layout Microsoft Entra ID access reviews accept for a custom data provided
 * resource (pure), for organisations that run their reviews in Entra: one line per person and
 * entitlement, uploaded into the catalog review's custom data resource (up to 10 CSVs per upload).
 *
 * Layout, from Microsoft Graph v1.0 `customDataProvidedResourceUploadSession: uploadFile`
 * (https://learn.microsoft.com/en-us/graph/api/customdataprovidedresourceuploadsession-uploadfile?view=graph-rest-1.0):
 * the header `principalId,principalType,permissionId,permissionName,permissionDescription,permissionType`.
 * What rolemap puts in each column (docs/review-html.md says why):
 *   principalId            the person's userPrincipalName (rolemap has the AD objectGUID, not the Entra
 *                          object id; in a tenant synced from this AD the UPN is the Entra UPN)
 *   principalType          `EntraIdUser` (the one value the accessReviewDataUploadTriggerCallbackData resource allows)
 *   permissionId           a name-based UUID (RFC 4122 version 5) of kind, account and name: the same
 *                          entitlement has the same id for everyone and in every campaign
 *   permissionName         `<account alias or id> / <role, permission set or IAM user name>`
 *   permissionDescription  kind, granting AD group, the role's description and attached policies
 *   permissionType         `AWS federated IAM role`, `AWS Identity Center permission set` or `AWS IAM user`
 * A row whose person has no userPrincipalName cannot be matched to an Entra user, and a second row with
 * the same UPN and entitlement would be a duplicate line: both are left out and named in `skipped`,
 * never silently.
 */
import { createHash } from 'node:crypto';
import type { Campaign, EntitlementKind, ReviewRow } from './types.js';

export const ENTRA_CSV_HEADER = ['principalId', 'principalType', 'permissionId', 'permissionName', 'permissionDescription', 'permissionType'] as const;

const PERMISSION_TYPE: Record<EntitlementKind, string> = {
  'federated-role': 'AWS federated IAM role',
  'permission-set': 'AWS Identity Center permission set',
  'iam-user': 'AWS IAM user',
};

/** rolemap's namespace for name-based UUIDs (a fixed random UUID). */
const NAMESPACE = '2f0c6a5e-93d4-4d8b-b1a7-6e1f3c9d0a42';

/** RFC 4122 §4.3 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespace: string = NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF. Values are data for an upload, kept as they are. */
function field(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function entraPermissionId(row: Pick<ReviewRow, 'entitlement'>): string {
  const ent = row.entitlement;
  return uuidV5(`rolemap:${ent.kind}:${ent.accountId}:${ent.name}`);
}

export interface EntraCsv {
  readonly csv: string;
  /** Rows left out (no userPrincipalName to match an Entra user), with why. */
  readonly skipped: readonly { readonly rowId: string; readonly person: string; readonly why: string }[];
}

/** The campaign's rows as Entra's custom data CSV, plus the rows that could not go in. */
export function toEntraCsv(campaign: Campaign, rows: readonly ReviewRow[]): EntraCsv {
  const lines = [ENTRA_CSV_HEADER.join(',')];
  const skipped: { rowId: string; person: string; why: string }[] = [];
  const seen = new Set<string>();
  const ids = new Map<string, string>();
  for (const r of rows) {
    if (r.campaignId !== campaign.id) throw new Error(`row ${r.rowId} belongs to campaign ${r.campaignId}, not ${campaign.id}`);
    const upn = r.person.userPrincipalName;
    if (upn === undefined || upn.trim() === '') {
      skipped.push({ rowId: r.rowId, person: r.person.sAMAccountName, why: 'no userPrincipalName to match an Entra user' });
      continue;
    }
    const ent = r.entitlement;
    const idKey = `${ent.kind}\n${ent.accountId}\n${ent.name}`;
    const permissionId = ids.get(idKey) ?? entraPermissionId(r);
    ids.set(idKey, permissionId);
    const key = `${upn.toLowerCase()}\n${permissionId}`;
    if (seen.has(key)) {
      skipped.push({ rowId: r.rowId, person: r.person.sAMAccountName, why: `userPrincipalName ${upn} has this entitlement on another row already (two AD users with one UPN?)` });
      continue;
    }
    seen.add(key);
    const description = [
      PERMISSION_TYPE[ent.kind],
      ent.group !== undefined ? `granted by AD group ${ent.group.name}` : 'no AD group',
      r.context.description,
      r.context.policies.length > 0 ? `policies: ${r.context.policies.join(', ')}` : undefined,
      `rolemap campaign ${campaign.id}`,
    ]
      .filter((x): x is string => x !== undefined && x !== '')
      .join('; ');
    lines.push([upn, 'EntraIdUser', permissionId, `${ent.accountAlias ?? ent.accountId} / ${ent.name}`, description, PERMISSION_TYPE[ent.kind]].map(field).join(','));
  }
  return { csv: `${lines.join('\r\n')}\r\n`, skipped };
}

/** The signature the shell calls: the CSV text only (`toEntraCsv` also names skipped rows). */
export function renderEntraCsv(campaign: Campaign, rows: readonly ReviewRow[]): string {
  return toEntraCsv(campaign, rows).csv;
}
