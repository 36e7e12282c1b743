/**
 * A no-op read and plan of the IAM roles target over 500 managed roles in each of 3 accounts,
 * against the emulator with the real SDK and credentials assumed through STS.
 * Records the AWS calls per operation and the time, cold (credentials still to assume) and warm.
 *
 * Target (issue 6): calls = pages of GetAccountAuthorizationDetails + one STS call per account.
 * rolemap also needs ListRoles (RoleDetail has no description or max session duration) and one
 * ListSAMLProviders per account; both are counted and reported.
 *
 * `npm run bench iam`
 */
import { performance } from 'node:perf_hooks';
import { IamRolesTarget } from '../src/adapters/aws/iam-roles/iam-roles-target.js';
import { OWNER_TAG } from '../src/core/model/ownership.js';
import { iamAccount } from '../test/aws-emulator/services/iam.js';
import type { IamState } from '../test/aws-emulator/services/iam.js';
import { WORKLOADS, clientsFor, desiredRole, localPlan, roleMap, spec, startWorld } from '../test/adapters/aws/iam-roles/fixtures.js';
import { samlTrustPolicy } from '../src/adapters/aws/iam-roles/trust-policy.js';

const ROLES_PER_ACCOUNT = 500;

export default async function bench(): Promise<void> {
  const world = await startWorld();
  const specs = WORKLOADS.flatMap((account) =>
    Array.from({ length: ROLES_PER_ACCOUNT }, (_, i) =>
      spec(account, `Team${String(i).padStart(3, '0')}`, {
        inlinePolicies: { 's3-read': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::team-${i}/*` }] } },
        tags: { team: `t${i}`, 'cost-center': 'cc-42' },
      }),
    ),
  );
  // Seed the managed roles straight into the emulator's state (as if earlier runs had created them).
  const iam = world.emulator.state<IamState>('iam');
  for (const s of specs) {
    const d = desiredRole(s);
    iamAccount(iam, s.account).roles[s.roleName.toLowerCase()] = {
      roleName: s.roleName,
      roleId: `AROA${s.account}${s.roleName.toUpperCase()}`.slice(0, 21),
      path: s.path,
      createDate: '2026-01-01T00:00:00.000Z',
      // Compact, as AWS stores trust policies.
      assumeRolePolicyDocument: JSON.stringify(samlTrustPolicy(s.account, s.samlProvider, s.allowTagSession)),
      description: s.description,
      maxSessionDuration: s.maxSessionDuration,
      tags: Object.entries(d.attrs.tags).map(([Key, Value]) => ({ Key, Value })),
      attachedPolicies: [...s.managedPolicyArns],
      // Inline policies as a person would have typed them: pretty-printed.
      inlinePolicies: Object.fromEntries(Object.entries(s.inlinePolicies).map(([n, doc]) => [n, JSON.stringify(doc, null, 2)])),
    };
  }
  const desired = specs.map(desiredRole);
  const map = roleMap(specs);
  if (!desired.every((d) => d.attrs.tags[OWNER_TAG] !== undefined)) throw new Error('bench fixture without owner tags');

  const run = async (label: string, target: IamRolesTarget): Promise<void> => {
    world.emulator.resetCalls();
    const t0 = performance.now();
    const actual = await target.readActual(map);
    const changes = localPlan(desired, actual.resources);
    const ms = performance.now() - t0;
    const calls = world.emulator.calls();
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    console.log(`\n${label}: ${actual.resources.length} roles read in ${ms.toFixed(0)} ms, ${changes.length} changes, ${total} AWS calls`);
    for (const [op, n] of Object.entries(calls)) console.log(`  ${op.padEnd(40)} ${n}`);
    if (changes.length !== 0) throw new Error(`a no-op plan has ${changes.length} changes: ${changes.slice(0, 3).map((c) => c.address).join(', ')}`);
  };

  console.log(`IAM roles no-op plan: ${ROLES_PER_ACCOUNT} managed roles in each of ${WORKLOADS.length} accounts`);
  // Fresh clients, so the first run includes assuming the role in each account.
  const cold = clientsFor(world.emulator);
  await run('cold (assumes a role per account), page size 1000', new IamRolesTarget(cold));
  await run('warm (credentials cached), page size 1000', new IamRolesTarget(cold));
  await run('warm, page size 100', new IamRolesTarget(cold, { pageSize: 100 }));
  console.log(`\n  for comparison, GetRole + ListAttachedRolePolicies + ListRolePolicies + GetRolePolicy + ListRoleTags per role: ${5 * desired.length} calls`);
  cold.destroy();
  await world.stop();
}
