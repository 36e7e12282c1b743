/**
 * AWS Identity Store (JSON 1.1, `AWSIdentityStore.<Operation>`): users, groups, group memberships.
 *
 * Follows the API reference: `List*` take `MaxResults` 1..100 and an opaque `NextToken`; user names
 * and group display names are unique per store (`ConflictException`, reason
 * `UNIQUENESS_CONSTRAINT_VIOLATION`), emails too; a `UserName` is 1 to 128 letters, accented
 * characters, symbols, numbers and punctuation (no spaces), and `Administrator` and `AWSAdministrators`
 * are reserved for users and groups (API_CreateUser: "reserved names and can't be used for users or
 * groups"; `ValidationException`); an email needs a non-empty `Value`; unknown ids answer `ResourceNotFoundException` with
 * `ResourceType` and `ResourceId`; users carry the read-only `UserStatus` (`ENABLED`).
 * The store is per Identity Store id; the default state has one store, `d-9067000000`,
 * which the SSO Admin service's default instance points at.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError, decodeToken, encodeToken } from '../protocol.js';
import type { ServiceDef } from '../server.js';

export const DEFAULT_IDENTITY_STORE_ID = 'd-9067000000';

export interface StoredEmail {
  Value?: string;
  Type?: string;
  Primary?: boolean;
}
export interface StoredUser {
  UserId: string;
  UserName: string;
  DisplayName?: string;
  Name?: { Formatted?: string; GivenName?: string; FamilyName?: string; MiddleName?: string };
  Emails?: StoredEmail[];
  UserStatus: 'ENABLED' | 'DISABLED';
  CreatedAt: number;
  UpdatedAt: number;
}
export interface StoredGroup {
  GroupId: string;
  DisplayName: string;
  Description?: string;
  CreatedAt: number;
  UpdatedAt: number;
}
export interface StoredMembership {
  MembershipId: string;
  GroupId: string;
  UserId: string;
}
export interface IdentityStoreData {
  users: Record<string, StoredUser>;
  groups: Record<string, StoredGroup>;
  memberships: Record<string, StoredMembership>;
}
export interface IdentitystoreState {
  stores: Record<string, IdentityStoreData>;
}

type Params = Record<string, unknown>;

function str(p: Params, name: string, required = true): string {
  const v = p[name];
  if (typeof v === 'string' && v !== '') return v;
  if (!required && v === undefined) return '';
  throw new AwsError('ValidationException', `1 validation error detected: Value at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
}

/** API_CreateUser: "letters, accented characters, symbols, numbers, and punctuation", at most 128. */
const USER_NAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;
const RESERVED_NAMES = new Set(['administrator', 'awsadministrators']);

function checkUserName(v: string): string {
  const fail = (constraint: string): AwsError => new AwsError('ValidationException', `1 validation error detected: Value at 'userName' failed to satisfy constraint: ${constraint}`);
  if ([...v].length < 1 || [...v].length > 128) throw fail('Member must have length between 1 and 128');
  if (!USER_NAME.test(v)) throw fail('Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+');
  checkReserved(v);
  return v;
}

/** Reserved for users and groups alike; compared without regard to case, as user names and display names are. */
function checkReserved(v: string): void {
  if (RESERVED_NAMES.has(v.toLowerCase())) throw new AwsError('ValidationException', `${v} is a reserved name and can't be used for users or groups.`);
}

function storeOf(state: IdentitystoreState, p: Params): IdentityStoreData {
  const id = str(p, 'IdentityStoreId');
  const store = state.stores[id];
  if (!store) throw notFound('IDENTITY_STORE', id);
  return store;
}

function notFound(type: 'USER' | 'GROUP' | 'GROUP_MEMBERSHIP' | 'IDENTITY_STORE', id: string): AwsError {
  const what = { USER: 'User', GROUP: 'Group', GROUP_MEMBERSHIP: 'GroupMembership', IDENTITY_STORE: 'IdentityStore' }[type];
  return new AwsError('ResourceNotFoundException', `${what} not found.`, 400, 'Sender', { ResourceType: type, ResourceId: id });
}

function conflict(message: string): AwsError {
  return new AwsError('ConflictException', message, 400, 'Sender', { Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION' });
}

/** `MaxResults` 1..100 (AWS's limit), `NextToken` opaque; answers one page. */
export function page<T>(items: readonly T[], p: Params, max = 100): { items: T[]; nextToken: string | undefined } {
  const raw = p['MaxResults'];
  const size = raw === undefined ? max : Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new AwsError('ValidationException', `1 validation error detected: Value '${String(raw)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  }
  const start = decodeToken(p['NextToken'] as string | undefined);
  const slice = items.slice(start, start + size);
  return { items: slice, nextToken: start + size < items.length ? encodeToken(start + size) : undefined };
}

function newId(): string {
  return `${randomBytes(5).toString('hex')}-${randomUUID()}`;
}

function now(): number {
  return Date.now() / 1000;
}

function userOut(storeId: string, u: StoredUser): Record<string, unknown> {
  return { IdentityStoreId: storeId, ...u };
}
function groupOut(storeId: string, g: StoredGroup): Record<string, unknown> {
  return { IdentityStoreId: storeId, ...g };
}
function membershipOut(storeId: string, m: StoredMembership): Record<string, unknown> {
  return { IdentityStoreId: storeId, MembershipId: m.MembershipId, GroupId: m.GroupId, MemberId: { UserId: m.UserId } };
}

function userByName(store: IdentityStoreData, userName: string): StoredUser | undefined {
  const lower = userName.toLowerCase();
  return Object.values(store.users).find((u) => u.UserName.toLowerCase() === lower);
}
function groupByName(store: IdentityStoreData, displayName: string): StoredGroup | undefined {
  const lower = displayName.toLowerCase();
  return Object.values(store.groups).find((g) => g.DisplayName.toLowerCase() === lower);
}

function emailsOf(v: unknown): StoredEmail[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v)) throw new AwsError('ValidationException', 'Emails must be a list');
  return v.map((e: Record<string, unknown>) => {
    if (e['Value'] !== undefined && (typeof e['Value'] !== 'string' || e['Value'] === '' || e['Value'].length > 1024)) {
      throw new AwsError('ValidationException', "1 validation error detected: Value at 'emails.member.value' failed to satisfy constraint: Member must have length between 1 and 1024");
    }
    return {
      ...(e['Value'] !== undefined ? { Value: String(e['Value']) } : {}),
      ...(e['Type'] !== undefined ? { Type: String(e['Type']) } : {}),
      ...(e['Primary'] !== undefined ? { Primary: Boolean(e['Primary']) } : {}),
    };
  });
}

function checkUniqueEmail(store: IdentityStoreData, emails: StoredEmail[] | undefined, exceptUserId?: string): void {
  for (const e of emails ?? []) {
    if (!e.Value) continue;
    const lower = e.Value.toLowerCase();
    const other = Object.values(store.users).find((u) => u.UserId !== exceptUserId && (u.Emails ?? []).some((x) => x.Value?.toLowerCase() === lower));
    if (other) throw conflict('Duplicate Email');
  }
}

/** A unique attribute (`UserName`, `DisplayName`) or an external id, as `GetUserId` / `GetGroupId` take it. */
function uniqueAttribute(p: Params): { path: string; value: string } {
  const alt = p['AlternateIdentifier'] as Params | undefined;
  const ua = alt?.['UniqueAttribute'] as Params | undefined;
  if (!ua || typeof ua['AttributePath'] !== 'string') throw new AwsError('ValidationException', 'AlternateIdentifier.UniqueAttribute is required (ExternalId is not supported by this emulator)');
  return { path: ua['AttributePath'], value: String(ua['AttributeValue']) };
}

function filterValue(p: Params, path: string): string | undefined {
  const filters = (p['Filters'] as { AttributePath?: string; AttributeValue?: string }[] | undefined) ?? [];
  if (filters.length > 1) throw new AwsError('ValidationException', 'At most one filter is supported');
  const f = filters[0];
  if (!f) return undefined;
  if (f.AttributePath !== path) throw new AwsError('ValidationException', `Filter on ${String(f.AttributePath)} is not supported`);
  return f.AttributeValue ?? '';
}

export const identitystoreService: ServiceDef<IdentitystoreState> = {
  signingName: 'identitystore',
  protocol: 'json',
  targetPrefix: 'AWSIdentityStore',
  throttleBucket: 'identitycenter',
  throttleCode: 'ThrottlingException',
  initialState: () => ({ stores: { [DEFAULT_IDENTITY_STORE_ID]: { users: {}, groups: {}, memberships: {} } } }),
  operations: {
    // --- users
    CreateUser(state, p) {
      const store = storeOf(state, p);
      const userName = checkUserName(str(p, 'UserName'));
      if (userByName(store, userName)) throw conflict('Duplicate UserName');
      const name = p['Name'] as StoredUser['Name'] | undefined;
      const displayName = p['DisplayName'];
      if (typeof displayName !== 'string' || displayName === '') throw new AwsError('ValidationException', 'DisplayName is required');
      if (!name?.GivenName || !name.FamilyName) throw new AwsError('ValidationException', 'Name.GivenName and Name.FamilyName are required');
      const emails = emailsOf(p['Emails']);
      checkUniqueEmail(store, emails);
      const t = now();
      const user: StoredUser = { UserId: newId(), UserName: userName, DisplayName: displayName, Name: { ...name }, ...(emails ? { Emails: emails } : {}), UserStatus: 'ENABLED', CreatedAt: t, UpdatedAt: t };
      store.users[user.UserId] = user;
      return { UserId: user.UserId, IdentityStoreId: p['IdentityStoreId'] };
    },
    DescribeUser(state, p) {
      const store = storeOf(state, p);
      const id = str(p, 'UserId');
      const u = store.users[id];
      if (!u) throw notFound('USER', id);
      return userOut(String(p['IdentityStoreId']), u);
    },
    UpdateUser(state, p) {
      const store = storeOf(state, p);
      const id = str(p, 'UserId');
      const u = store.users[id];
      if (!u) throw notFound('USER', id);
      const ops = (p['Operations'] as { AttributePath?: string; AttributeValue?: unknown }[] | undefined) ?? [];
      if (ops.length === 0 || ops.length > 100) throw new AwsError('ValidationException', 'Operations must have 1 to 100 members');
      const next: StoredUser = structuredClone(u);
      for (const op of ops) {
        const v = op.AttributeValue;
        switch (op.AttributePath) {
          case 'userName': {
            if (typeof v !== 'string' || v === '') throw new AwsError('ValidationException', 'userName must be a non-empty string');
            checkUserName(v);
            const other = userByName(store, v);
            if (other && other.UserId !== id) throw conflict('Duplicate UserName');
            next.UserName = v;
            break;
          }
          case 'displayName':
            if (typeof v !== 'string' || v === '') throw new AwsError('ValidationException', 'displayName must be a non-empty string');
            next.DisplayName = v;
            break;
          case 'name.givenName':
          case 'name.familyName':
          case 'name.formatted':
          case 'name.middleName': {
            const key = { 'name.givenName': 'GivenName', 'name.familyName': 'FamilyName', 'name.formatted': 'Formatted', 'name.middleName': 'MiddleName' }[op.AttributePath] as 'GivenName';
            next.Name = { ...next.Name, [key]: v === null ? undefined : String(v) };
            break;
          }
          case 'emails': {
            const emails = emailsOf(v);
            checkUniqueEmail(store, emails, id);
            if (emails && emails.length > 0) next.Emails = emails;
            else delete next.Emails;
            break;
          }
          default:
            throw new AwsError('ValidationException', `Unsupported AttributePath ${String(op.AttributePath)}`);
        }
      }
      next.UpdatedAt = now();
      store.users[id] = next;
      return {};
    },
    DeleteUser(state, p) {
      const store = storeOf(state, p);
      const id = str(p, 'UserId');
      if (!store.users[id]) throw notFound('USER', id);
      delete store.users[id];
      for (const [mid, m] of Object.entries(store.memberships)) if (m.UserId === id) delete store.memberships[mid];
      return {};
    },
    ListUsers(state, p) {
      const store = storeOf(state, p);
      const name = filterValue(p, 'UserName');
      const all = Object.values(store.users).filter((u) => name === undefined || u.UserName.toLowerCase() === name.toLowerCase());
      const { items, nextToken } = page(all, p);
      return { Users: items.map((u) => userOut(String(p['IdentityStoreId']), u)), ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    GetUserId(state, p) {
      const store = storeOf(state, p);
      const { path, value } = uniqueAttribute(p);
      let u: StoredUser | undefined;
      if (path === 'userName' || path === 'UserName') u = userByName(store, value);
      else if (path === 'emails.value') u = Object.values(store.users).find((x) => (x.Emails ?? []).some((e) => e.Value?.toLowerCase() === value.toLowerCase()));
      else throw new AwsError('ValidationException', `Unsupported unique attribute ${path}`);
      if (!u) throw notFound('USER', value);
      return { UserId: u.UserId, IdentityStoreId: p['IdentityStoreId'] };
    },

    // --- groups
    CreateGroup(state, p) {
      const store = storeOf(state, p);
      const displayName = str(p, 'DisplayName');
      checkReserved(displayName);
      if (groupByName(store, displayName)) throw conflict('Duplicate GroupDisplayName');
      const t = now();
      const desc = p['Description'];
      const g: StoredGroup = { GroupId: newId(), DisplayName: displayName, ...(typeof desc === 'string' && desc !== '' ? { Description: desc } : {}), CreatedAt: t, UpdatedAt: t };
      store.groups[g.GroupId] = g;
      return { GroupId: g.GroupId, IdentityStoreId: p['IdentityStoreId'] };
    },
    DescribeGroup(state, p) {
      const store = storeOf(state, p);
      const id = str(p, 'GroupId');
      const g = store.groups[id];
      if (!g) throw notFound('GROUP', id);
      return groupOut(String(p['IdentityStoreId']), g);
    },
    UpdateGroup(state, p) {
      const store = storeOf(state, p);
      const id = str(p, 'GroupId');
      const g = store.groups[id];
      if (!g) throw notFound('GROUP', id);
      const ops = (p['Operations'] as { AttributePath?: string; AttributeValue?: unknown }[] | undefined) ?? [];
      if (ops.length === 0 || ops.length > 100) throw new AwsError('ValidationException', 'Operations must have 1 to 100 members');
      const next = { ...g };
      for (const op of ops) {
        const v = op.AttributeValue;
        if (op.AttributePath === 'displayName') {
          if (typeof v !== 'string' || v === '') throw new AwsError('ValidationException', 'displayName must be a non-empty string');
          checkReserved(v);
          const other = groupByName(store, v);
          if (other && other.GroupId !== id) throw conflict('Duplicate GroupDisplayName');
          next.DisplayName = v;
        } else if (op.AttributePath === 'description') {
          if (v === null || v === '') delete next.Description;
          else next.Description = String(v);
        } else {
          throw new AwsError('ValidationException', `Unsupported AttributePath ${String(op.AttributePath)}`);
        }
      }
      next.UpdatedAt = now();
      store.groups[id] = next;
      return {};
    },
    DeleteGroup(state, p) {
      const store = storeOf(state, p);
      const id = str(p, 'GroupId');
      if (!store.groups[id]) throw notFound('GROUP', id);
      delete store.groups[id];
      for (const [mid, m] of Object.entries(store.memberships)) if (m.GroupId === id) delete store.memberships[mid];
      return {};
    },
    ListGroups(state, p) {
      const store = storeOf(state, p);
      const name = filterValue(p, 'DisplayName');
      const all = Object.values(store.groups).filter((g) => name === undefined || g.DisplayName.toLowerCase() === name.toLowerCase());
      const { items, nextToken } = page(all, p);
      return { Groups: items.map((g) => groupOut(String(p['IdentityStoreId']), g)), ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    GetGroupId(state, p) {
      const store = storeOf(state, p);
      const { path, value } = uniqueAttribute(p);
      if (path !== 'displayName' && path !== 'DisplayName') throw new AwsError('ValidationException', `Unsupported unique attribute ${path}`);
      const g = groupByName(store, value);
      if (!g) throw notFound('GROUP', value);
      return { GroupId: g.GroupId, IdentityStoreId: p['IdentityStoreId'] };
    },

    // --- memberships
    CreateGroupMembership(state, p) {
      const store = storeOf(state, p);
      const groupId = str(p, 'GroupId');
      const userId = (p['MemberId'] as { UserId?: string } | undefined)?.UserId;
      if (!userId) throw new AwsError('ValidationException', 'MemberId.UserId is required');
      if (!store.groups[groupId]) throw notFound('GROUP', groupId);
      if (!store.users[userId]) throw notFound('USER', userId);
      if (Object.values(store.memberships).some((m) => m.GroupId === groupId && m.UserId === userId)) throw conflict('Member already exists in group');
      const m: StoredMembership = { MembershipId: newId(), GroupId: groupId, UserId: userId };
      store.memberships[m.MembershipId] = m;
      return { MembershipId: m.MembershipId, IdentityStoreId: p['IdentityStoreId'] };
    },
    DescribeGroupMembership(state, p) {
      const store = storeOf(state, p);
      const id = str(p, 'MembershipId');
      const m = store.memberships[id];
      if (!m) throw notFound('GROUP_MEMBERSHIP', id);
      return membershipOut(String(p['IdentityStoreId']), m);
    },
    DeleteGroupMembership(state, p) {
      const store = storeOf(state, p);
      const id = str(p, 'MembershipId');
      if (!store.memberships[id]) throw notFound('GROUP_MEMBERSHIP', id);
      delete store.memberships[id];
      return {};
    },
    ListGroupMemberships(state, p) {
      const store = storeOf(state, p);
      const groupId = str(p, 'GroupId');
      if (!store.groups[groupId]) throw notFound('GROUP', groupId);
      const all = Object.values(store.memberships).filter((m) => m.GroupId === groupId);
      const { items, nextToken } = page(all, p);
      return { GroupMemberships: items.map((m) => membershipOut(String(p['IdentityStoreId']), m)), ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    ListGroupMembershipsForMember(state, p) {
      const store = storeOf(state, p);
      const userId = (p['MemberId'] as { UserId?: string } | undefined)?.UserId;
      if (!userId) throw new AwsError('ValidationException', 'MemberId.UserId is required');
      if (!store.users[userId]) throw notFound('USER', userId);
      const all = Object.values(store.memberships).filter((m) => m.UserId === userId);
      const { items, nextToken } = page(all, p);
      return { GroupMemberships: items.map((m) => membershipOut(String(p['IdentityStoreId']), m)), ...(nextToken ? { NextToken: nextToken } : {}) };
    },
    GetGroupMembershipId(state, p) {
      const store = storeOf(state, p);
      const groupId = str(p, 'GroupId');
      const userId = (p['MemberId'] as { UserId?: string } | undefined)?.UserId;
      if (!userId) throw new AwsError('ValidationException', 'MemberId.UserId is required');
      const m = Object.values(store.memberships).find((x) => x.GroupId === groupId && x.UserId === userId);
      if (!m) throw notFound('GROUP_MEMBERSHIP', `${groupId}/${userId}`);
      return { MembershipId: m.MembershipId, IdentityStoreId: p['IdentityStoreId'] };
    },
  },
};
