/**
 * IAM's credential report CSV (user guide, "Getting credential reports": one row per user, the
 * `<root_account>` row first) into typed rows. Columns are found by name, so a column AWS adds
 * later does not shift the others. `N/A`, `no_information` and `not_supported` read as absent.
 */
import { InvalidInputError } from '../errors.js';
import type { CredentialReportRow, ReportKey } from './types.js';

export const ROOT_USER = '<root_account>';

/** RFC 4180 fields of one line (IAM names may hold commas; a quoted field may hold them too). */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function date(v: string | undefined): Date | null {
  if (v === undefined || v === '' || v === 'N/A' || v === 'no_information' || v === 'not_supported') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t);
}

function bool(v: string | undefined): boolean {
  return v !== undefined && v.toLowerCase() === 'true';
}

const REQUIRED = ['user', 'arn', 'password_enabled', 'mfa_active', 'access_key_1_active', 'access_key_1_last_rotated', 'access_key_2_active', 'access_key_2_last_rotated'];

export function parseCredentialReport(csv: string, account: string): CredentialReportRow[] {
  const lines = csv.split(/\r?\n/).filter((l) => l !== '');
  const header = fields(lines[0] ?? '');
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new InvalidInputError(`credential report of account ${account}: columns missing: ${missing.join(', ')}`);
  const col = new Map(header.map((h, i) => [h, i]));
  return lines.slice(1).map((line) => {
    const f = fields(line);
    const get = (name: string): string | undefined => {
      const i = col.get(name);
      return i === undefined ? undefined : f[i];
    };
    const key = (n: 1 | 2): ReportKey => ({
      active: bool(get(`access_key_${n}_active`)),
      lastRotated: date(get(`access_key_${n}_last_rotated`)),
      lastUsed: date(get(`access_key_${n}_last_used_date`)),
    });
    const user = get('user') ?? '';
    const isRoot = user === ROOT_USER;
    return {
      user,
      arn: get('arn') ?? '',
      isRoot,
      created: date(get('user_creation_time')),
      passwordEnabled: isRoot ? true : bool(get('password_enabled')),
      passwordLastUsed: date(get('password_last_used')),
      mfaActive: bool(get('mfa_active')),
      keys: [key(1), key(2)],
    };
  });
}
