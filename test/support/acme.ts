/**
 * The Acme fixture: a small organisation used by the core's story tests and goldens.
 *
 *   AWS-Admins   alice            -> role Admin in prod (federated)
 *   Developers   bob, carol       -> role Developer in dev (federated); PowerUser on dev (Identity Center)
 *   Auditors     dave             -> ReadOnly on prod and dev (Identity Center)
 *   AWS-111111111111-Billing erin -> role Billing in prod (ADFS pattern rule)
 */
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser, RoleMap } from '../../src/core/index.js';
import { assignment, DEV, group, identityCenter, permissionSet, PROD, role, roleMap, snapshot, user } from './builders.js';

export const alice = user('alice');
export const bob = user('bob');
export const carol = user('carol');
export const dave = user('dave');
export const erin = user('erin');
export const frank = user('frank');

export const ADFS_PATTERN = '^AWS-(?<account>\\d{12})-(?<role>[A-Za-z0-9+=,.@_-]+)$';

export interface AcmeGroups {
  admins: readonly DirectoryUser[];
  developers: readonly DirectoryUser[];
  auditors: readonly DirectoryUser[];
  billing: readonly DirectoryUser[];
}

export function acmeGroups(members: Partial<AcmeGroups> = {}): DirectoryGroup[] {
  return [
    group('AWS-Admins', members.admins ?? [alice]),
    group('Developers', members.developers ?? [bob, carol]),
    group('Auditors', members.auditors ?? [dave]),
    group(`AWS-${PROD}-Billing`, members.billing ?? [erin]),
  ];
}

export function acmeSnapshot(options: { users?: readonly DirectoryUser[]; groups?: Partial<AcmeGroups> } = {}): DirectorySnapshot {
  return snapshot(options.users ?? [alice, bob, carol, dave, erin, frank], acmeGroups(options.groups));
}

export function acmeMap(overrides: Parameters<typeof roleMap>[0] = {}): RoleMap {
  return roleMap({
    federatedRoles: [role('AWS-Admins', PROD, 'Admin', { managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] }), role('Developers', DEV, 'Developer')],
    federatedRolePatterns: [
      {
        regex: ADFS_PATTERN,
        template: {
          path: '/federated/',
          description: 'ADFS pattern role',
          maxSessionDuration: 3600,
          permissionsBoundary: null,
          managedPolicyArns: ['arn:aws:iam::aws:policy/job-function/Billing'],
          inlinePolicies: {},
          tags: {},
          samlProvider: 'ADFS',
          allowTagSession: true,
          adopt: false,
        },
      },
    ],
    identityCenter: identityCenter({
      permissionSets: [
        permissionSet('ReadOnly'),
        permissionSet('PowerUser', {
          managedPolicyArns: ['arn:aws:iam::aws:policy/PowerUserAccess'],
          inlinePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: ['iam:*', 'organizations:*'], Resource: '*' }] },
        }),
      ],
      assignments: [assignment('Developers', 'PowerUser', [DEV]), assignment('Auditors', 'ReadOnly', [PROD, DEV])],
    }),
    ...overrides,
  });
}
