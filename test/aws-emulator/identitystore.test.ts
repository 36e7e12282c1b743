/**
 * Conformance of the emulator's Identity Store with the real SDK v3 client: each operation, typed
 * exceptions, paginators across page boundaries, adaptive-retry recovery from throttling.
 */
import {
  ConflictException,
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  DeleteGroupCommand,
  DeleteGroupMembershipCommand,
  DeleteUserCommand,
  DescribeGroupCommand,
  DescribeUserCommand,
  GetGroupIdCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  ListGroupMembershipsForMemberCommand,
  ListUsersCommand,
  paginateListGroupMemberships,
  paginateListGroups,
  paginateListUsers,
  ResourceNotFoundException,
  UpdateGroupCommand,
  UpdateUserCommand,
  ValidationException,
} from '@aws-sdk/client-identitystore';
import { ListInstancesCommand, SSOAdminClient, ThrottlingException as SsoThrottlingException } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY_STORE_ID } from './services/identitystore.js';
import { startIdentityCenterEmulator } from '../support/identity-center-emulator.js';
import type { IcHarness } from '../support/identity-center-emulator.js';

const IdentityStoreId = DEFAULT_IDENTITY_STORE_ID;
let h: IcHarness;

beforeAll(async () => {
  h = await startIdentityCenterEmulator();
});
afterAll(async () => h.stop());
beforeEach(() => {
  h.emulator.load({});
  h.emulator.clearFaults();
  h.emulator.resetCalls();
  h.emulator.setThrottle('identitycenter', null);
});

async function createUser(userName: string, email?: string): Promise<string> {
  const out = await h.identityStore.send(
    new CreateUserCommand({ IdentityStoreId, UserName: userName, DisplayName: `User ${userName}`, Name: { GivenName: 'Given', FamilyName: userName }, ...(email ? { Emails: [{ Value: email, Type: 'work', Primary: true }] } : {}) }),
  );
  return out.UserId ?? '';
}

describe('Identity Store users', () => {
  it('creates, describes (UserStatus ENABLED), updates by attribute path and deletes a user', async () => {
    const created = await h.identityStore.send(
      new CreateUserCommand({ IdentityStoreId, UserName: 'jdoe@example.com', DisplayName: 'Jane Doe', Name: { GivenName: 'Jane', FamilyName: 'Doe' }, Emails: [{ Value: 'jane@example.com', Type: 'work', Primary: true }] }),
    );
    expect(created.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const userId = created.UserId ?? '';
    const d = await h.identityStore.send(new DescribeUserCommand({ IdentityStoreId, UserId: userId }));
    expect(d).toMatchObject({ UserName: 'jdoe@example.com', DisplayName: 'Jane Doe', UserStatus: 'ENABLED', Name: { GivenName: 'Jane', FamilyName: 'Doe' }, Emails: [{ Value: 'jane@example.com', Primary: true }] });

    await h.identityStore.send(
      new UpdateUserCommand({
        IdentityStoreId,
        UserId: userId,
        Operations: [
          { AttributePath: 'userName', AttributeValue: 'jane.doe@example.com' },
          { AttributePath: 'name.familyName', AttributeValue: 'Smith' },
          { AttributePath: 'emails', AttributeValue: [{ Value: 'jane.smith@example.com', Type: 'work', Primary: true }] },
        ],
      }),
    );
    const after = await h.identityStore.send(new DescribeUserCommand({ IdentityStoreId, UserId: userId }));
    expect(after).toMatchObject({ UserId: userId, UserName: 'jane.doe@example.com', Name: { FamilyName: 'Smith' }, Emails: [{ Value: 'jane.smith@example.com' }] });

    const byName = await h.identityStore.send(new GetUserIdCommand({ IdentityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'jane.doe@example.com' } } }));
    expect(byName.UserId).toBe(userId);

    await h.identityStore.send(new DeleteUserCommand({ IdentityStoreId, UserId: userId }));
    await expect(h.identityStore.send(new DescribeUserCommand({ IdentityStoreId, UserId: userId }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers ConflictException (UNIQUENESS_CONSTRAINT_VIOLATION) for a duplicate UserName and ResourceNotFoundException with its type', async () => {
    await createUser('dup');
    const err = await h.identityStore.send(new CreateUserCommand({ IdentityStoreId, UserName: 'DUP', DisplayName: 'x', Name: { GivenName: 'a', FamilyName: 'b' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictException);
    expect((err as ConflictException).Reason).toBe('UNIQUENESS_CONSTRAINT_VIOLATION');
    expect((err as ConflictException).$metadata.requestId).toBeTruthy();

    const nf = await h.identityStore.send(new DescribeUserCommand({ IdentityStoreId, UserId: 'nope' })).catch((e: unknown) => e);
    expect(nf).toBeInstanceOf(ResourceNotFoundException);
    expect((nf as ResourceNotFoundException).ResourceType).toBe('USER');
    const store = await h.identityStore.send(new ListUsersCommand({ IdentityStoreId: 'd-0000000000' })).catch((e: unknown) => e);
    expect((store as ResourceNotFoundException).ResourceType).toBe('IDENTITY_STORE');
  });

  it('refuses MaxResults over 100 with ValidationException and pages with NextToken across boundaries', async () => {
    await expect(h.identityStore.send(new ListUsersCommand({ IdentityStoreId, MaxResults: 101 }))).rejects.toBeInstanceOf(ValidationException);
    for (let i = 0; i < 205; i++) await createUser(`u${String(i).padStart(3, '0')}`);
    h.emulator.resetCalls();
    const names: string[] = [];
    for await (const page of paginateListUsers({ client: h.identityStore, pageSize: 100 }, { IdentityStoreId })) names.push(...(page.Users ?? []).map((u) => u.UserName ?? ''));
    expect(names).toHaveLength(205);
    expect(new Set(names).size).toBe(205);
    expect(h.emulator.calls()['identitystore:ListUsers']).toBe(3);
    const filtered = await h.identityStore.send(new ListUsersCommand({ IdentityStoreId, Filters: [{ AttributePath: 'UserName', AttributeValue: 'u042' }] }));
    expect(filtered.Users?.map((u) => u.UserName)).toEqual(['u042']);
  });
});

describe('Identity Store groups and memberships', () => {
  it('creates, renames, finds, lists and deletes groups; duplicate display name conflicts', async () => {
    const g = await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: 'Admins', Description: 'd1' }));
    const groupId = g.GroupId ?? '';
    await expect(h.identityStore.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: 'admins' }))).rejects.toBeInstanceOf(ConflictException);
    await h.identityStore.send(new UpdateGroupCommand({ IdentityStoreId, GroupId: groupId, Operations: [{ AttributePath: 'displayName', AttributeValue: 'Platform Admins' }, { AttributePath: 'description', AttributeValue: 'd2' }] }));
    expect(await h.identityStore.send(new DescribeGroupCommand({ IdentityStoreId, GroupId: groupId }))).toMatchObject({ GroupId: groupId, DisplayName: 'Platform Admins', Description: 'd2' });
    const found = await h.identityStore.send(new GetGroupIdCommand({ IdentityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'Platform Admins' } } }));
    expect(found.GroupId).toBe(groupId);
    for (let i = 0; i < 120; i++) await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: `g${i}` }));
    const all: string[] = [];
    for await (const page of paginateListGroups({ client: h.identityStore, pageSize: 50 }, { IdentityStoreId })) all.push(...(page.Groups ?? []).map((x) => x.GroupId ?? ''));
    expect(all).toHaveLength(121);
    await h.identityStore.send(new DeleteGroupCommand({ IdentityStoreId, GroupId: groupId }));
    await expect(h.identityStore.send(new DescribeGroupCommand({ IdentityStoreId, GroupId: groupId }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('adds and removes members; a duplicate membership conflicts; memberships page and list per member', async () => {
    const groupId = (await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: 'Dev' }))).GroupId ?? '';
    const users: string[] = [];
    for (let i = 0; i < 130; i++) users.push(await createUser(`m${i}`));
    for (const u of users) await h.identityStore.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: groupId, MemberId: { UserId: u } }));
    await expect(h.identityStore.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: groupId, MemberId: { UserId: users[0] ?? '' } }))).rejects.toBeInstanceOf(ConflictException);
    const members: string[] = [];
    for await (const page of paginateListGroupMemberships({ client: h.identityStore, pageSize: 100 }, { IdentityStoreId, GroupId: groupId })) {
      members.push(...(page.GroupMemberships ?? []).map((m) => (m.MemberId && 'UserId' in m.MemberId ? (m.MemberId.UserId ?? '') : '')));
    }
    expect(members.sort()).toEqual([...users].sort());
    const forMember = await h.identityStore.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId, MemberId: { UserId: users[1] ?? '' } }));
    expect(forMember.GroupMemberships?.map((m) => m.GroupId)).toEqual([groupId]);
    const mid = (await h.identityStore.send(new GetGroupMembershipIdCommand({ IdentityStoreId, GroupId: groupId, MemberId: { UserId: users[1] ?? '' } }))).MembershipId ?? '';
    await h.identityStore.send(new DeleteGroupMembershipCommand({ IdentityStoreId, MembershipId: mid }));
    await expect(h.identityStore.send(new DeleteGroupMembershipCommand({ IdentityStoreId, MembershipId: mid }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(h.identityStore.send(new GetGroupMembershipIdCommand({ IdentityStoreId, GroupId: groupId, MemberId: { UserId: users[1] ?? '' } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('Identity Store throttling', () => {
  it('recovers from injected ThrottlingException with the adaptive retry mode', async () => {
    await createUser('t1');
    h.emulator.injectFault({ kind: 'throttle', service: 'identitystore', operation: 'ListUsers', times: 2 });
    const out = await h.identityStore.send(new ListUsersCommand({ IdentityStoreId }));
    expect(out.Users).toHaveLength(1);
    expect(out.$metadata.attempts).toBe(3);
    expect(h.emulator.throttledCount()).toBe(2);
  });

  it('throttles Identity Store and SSO Admin from one shared bucket, and adaptive retry waits it out', async () => {
    h.emulator.setThrottle('identitycenter', { rps: 2, burst: 2 });
    const credentials = { accessKeyId: 'AKIAEMULATORTEST', secretAccessKey: 'not-a-secret' };
    const sso = new SSOAdminClient({ region: 'us-east-1', endpoint: h.emulator.url, maxAttempts: 1, credentials });
    await h.identityStore.send(new ListUsersCommand({ IdentityStoreId }));
    await sso.send(new ListInstancesCommand({}));
    // The bucket is empty for both services now.
    await expect(sso.send(new ListInstancesCommand({}))).rejects.toBeInstanceOf(SsoThrottlingException);
    const out = await h.identityStore.send(new ListUsersCommand({ IdentityStoreId }));
    expect(out.$metadata.attempts).toBeGreaterThan(1);
    expect(h.emulator.throttledCount()).toBeGreaterThanOrEqual(2);
    sso.destroy();
  });
});

describe('Identity Store faults', () => {
  it('recovers from an injected 500 and from a connection dropped mid-response', async () => {
    await createUser('f1');
    h.emulator.injectFault({ kind: 'http500', service: 'identitystore', operation: 'ListUsers', times: 1 });
    const a = await h.identityStore.send(new ListUsersCommand({ IdentityStoreId }));
    expect(a.$metadata.attempts).toBe(2);
    h.emulator.injectFault({ kind: 'drop', service: 'identitystore', operation: 'ListUsers', times: 1 });
    const b = await h.identityStore.send(new ListUsersCommand({ IdentityStoreId }));
    expect(b.Users?.map((u) => u.UserName)).toEqual(['f1']);
    expect(h.emulator.calls()['identitystore:ListUsers']).toBe(4);
  });
});
