/**
 * Access reviews against the real Samba AD DC: the LDAP source reads `manager`, `department`, `title` and
 * the group's `description`, and the reviewer routing works on what AD returns (manager, a disabled
 * manager's manager, the fallback without a manager, never oneself). In a scratch OU, so the shared
 * fixture's counts stay as they are. Run under `flock /tmp/rolemap-samba.lock`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeDesired } from '../../src/core/desired/desired.js';
import type { DirectorySnapshot } from '../../src/core/model/directory.js';
import { aliasOf } from '../../src/core/model/role-map.js';
import { ReviewerRouter, snapshotPopulation } from '../../src/core/review/index.js';
import { groupSelection } from '../../src/shell/reconcile/run-once.js';
import { DEV, roleMap, spec } from '../adapters/aws/iam-roles/fixtures.js';
import { facts, samba, sambaSource } from './helpers.js';
import { ScratchOu } from './scratch-ou.js';

describe.skipIf(!samba)('review routing on managers read from Samba AD', () => {
  let ou: ScratchOu;
  let snapshot: DirectorySnapshot;
  const group = `RvDevs-${randomBytes(3).toString('hex')}`;
  const map = roleMap([spec(DEV, 'Developer', { group: { by: 'sAMAccountName', value: group } })]);
  const dns: Record<string, string> = {};

  beforeAll(async () => {
    ou = await ScratchOu.create(facts(), 'Review');
    dns['rv.boss'] = await ou.addUser('rv.boss', { department: 'Executive', title: 'CEO' });
    dns['rv.mgr'] = await ou.addUser('rv.mgr', { manager: dns['rv.boss'] as string, title: 'Engineering Manager' });
    dns['rv.gone'] = await ou.addUser('rv.gone', { manager: dns['rv.boss'] as string });
    await ou.disable(dns['rv.gone'] as string);
    dns['rv.alice'] = await ou.addUser('rv.alice', { manager: dns['rv.mgr'] as string, department: 'Engineering', title: 'Developer' });
    dns['rv.bob'] = await ou.addUser('rv.bob', { manager: dns['rv.gone'] as string });
    dns['rv.carol'] = await ou.addUser('rv.carol');
    const g = await ou.addGroup(group, [dns['rv.alice'], dns['rv.bob'], dns['rv.carol'], dns['rv.mgr']] as string[]);
    await ou.setAttribute(g, 'description', 'Developers of the review test');
    snapshot = await sambaSource({ userBase: ou.staff, groupBase: ou.groups }).read(groupSelection(map));
  }, 60_000);
  afterAll(async () => {
    await ou?.remove();
  });

  it('reads manager, department and title of users, and the description of groups', () => {
    const alice = snapshot.users.find((u) => u.sAMAccountName === 'rv.alice');
    expect(alice?.manager?.toLowerCase()).toBe(dns['rv.mgr']?.toLowerCase());
    expect([alice?.department, alice?.title]).toEqual(['Engineering', 'Developer']);
    expect(snapshot.users.find((u) => u.sAMAccountName === 'rv.carol')?.manager).toBeUndefined();
    expect(snapshot.groups.find((g) => g.name === group)?.description).toBe('Developers of the review test');
  });

  it('routes each member: manager, past the disabled manager to theirs, the fallback without a manager', () => {
    const now = new Date();
    const desired = computeDesired(snapshot, map, now, { last: null });
    const { rows, unroutable } = snapshotPopulation({
      campaignId: 'SAMBA-1',
      scope: { accounts: [], groups: [] },
      snapshot,
      entitlements: desired.entitlements,
      resources: desired.resources,
      router: new ReviewerRouter(snapshot.users, { reviewers: {}, fallbackReviewer: 'auditor@rolemap.test' }, now),
      aliasOf: aliasOf(map),
    });
    expect(unroutable).toEqual([]);
    expect(rows.map((r) => `${r.person.sAMAccountName} -> ${r.reviewer.userPrincipalName} (${r.routedBy})`)).toEqual([
      'rv.alice -> rv.mgr@rolemap.test (manager)',
      'rv.bob -> rv.boss@rolemap.test (manager-of-manager)',
      'rv.carol -> auditor@rolemap.test (configured-fallback)',
      'rv.mgr -> rv.boss@rolemap.test (manager)',
    ]);
    expect(rows.find((r) => r.person.sAMAccountName === 'rv.bob')?.routingNote).toBe('manager rv.gone is disabled');
    expect(rows[0]?.entitlement.group?.description).toBe('Developers of the review test');
  });
});
