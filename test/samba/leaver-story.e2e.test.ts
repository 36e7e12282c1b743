/**
 * Issue 12, "What it must show", first item, end to end: the real Samba AD DC (a scratch OU, changed
 * through LDAP as an administrator would), the AWS emulator judging every request (rolemap acts as its
 * least-privilege principal: exactly config/iam-policy.json, assuming its role in the member account),
 * and the real command line (`rolemap reconcile --auto-approve`, `rolemap journal list --user`).
 *
 * Everyone logs in the way people do: SAML (a signed ADFS response, STS AssumeRoleWithSAML) to two
 * roles in two accounts, and the access portal for a permission set. Then each kind of leaver happens
 * in AD (disabled, expired, removed from all groups, deleted, moved out of userBase, renamed then
 * disabled, re-added then removed, a mover losing one of two privileged groups) and rolemap runs.
 * Afterwards the emulator's policy evaluator (`probe`: s3:GetObject) denies every session of every
 * leaver, and the mover's session on the role they lost, while everyone else's still works; and the
 * journal, asked about each person by name, tells what happened to them, why, and AWS's request ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAccountExpires } from '../../src/adapters/directory/ad-attributes.js';
import { probe } from '../aws-emulator/probe.js';
import { rolemap } from '../integration/world.js';
import { samba } from './helpers.js';
import { ALLOWED, DENIED, startLeaverWorld, upn, type JournalLine, type LeaverWorld, type Sessions } from './leaver-world.js';

const KINDS = ['disabled', 'expired', 'nogroups', 'deleted', 'moved', 'renamed', 'readded', 'mover', 'stays'] as const;
type Kind = (typeof KINDS)[number];

describe.skipIf(!samba)('leaver story end to end (Samba AD + judging emulator + rolemap CLI)', () => {
  let w: LeaverWorld<Kind>;
  let sam: (k: Kind) => string;
  let RENAMED_TO: string;
  beforeAll(async () => {
    w = await startLeaverWorld('ls', KINDS);
    sam = w.sam;
    RENAMED_TO = `ls.married-${w.suffix}`;
  });
  afterAll(async () => {
    await w?.stop();
  });

  /** `rolemap reconcile --auto-approve`: changes applied (exit 2), nothing failed. */
  const reconcile = async (): Promise<void> => {
    const r = await w.reconcile();
    if (r.code !== 2) throw new Error(`rolemap reconcile exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  };
  const login = (name: string): Promise<Sessions> => w.login(name);
  const judged = (s: Sessions) => w.judged(s);
  const journalOf = (name: string): Promise<JournalLine[]> => w.journalOf(name);

  // The story, in order: each step builds on the one before (one Samba OU, one emulator, one journal).
  const first: Partial<Record<Kind, Sessions>> = {};
  let readdedAgain: Sessions;
  let renamedAgain: Sessions;
  const LEAVERS = ['disabled', 'expired', 'nogroups', 'deleted', 'moved', 'renamed', 'readded'] as const;

  it('everyone logs in; a first removal cuts ls.readded, a rename cuts nobody; back in, they log in again', async () => {
    // rolemap makes the roles, the Identity Center users, group and assignment; everyone logs in.
    await reconcile();
    for (const k of KINDS) first[k] = await login(sam(k));
    for (const k of KINDS) expect({ who: k, ...(await judged(first[k]!)) }).toEqual({ who: k, ...ALLOWED });

    // ls.readded is removed from every group (a first removal); ls.renamed changes name (marriage).
    await w.removeFromAll('readded');
    for (const [type, value] of [['sAMAccountName', RENAMED_TO], ['userPrincipalName', upn(RENAMED_TO)], ['mail', upn(RENAMED_TO)]] as const) {
      await w.ou.setAttribute(w.dn.renamed, type, value);
    }
    await reconcile();
    expect({ who: 'readded', ...(await judged(first.readded!)) }).toEqual({ who: 'readded', ...DENIED });
    expect({ who: 'renamed', ...(await judged(first.renamed!)) }).toEqual({ who: 'renamed', ...ALLOWED });

    // ls.readded comes back and logs in again; ls.renamed logs in under the new name.
    await w.addToAll('readded');
    await reconcile();
    readdedAgain = await login(sam('readded'));
    renamedAgain = await login(RENAMED_TO);
    expect({ who: 'readded again', ...(await judged(readdedAgain)) }).toEqual({ who: 'readded again', ...ALLOWED });
    expect({ who: 'renamed again', ...(await judged(renamedAgain)) }).toEqual({ who: 'renamed again', ...ALLOWED });
  }, 180_000);

  it('the layoff, every kind at once: every session of every leaver is denied, the mover loses only that role, the bystander nothing', async () => {
    await w.ou.disable(w.dn.disabled);
    await w.ou.setAttribute(w.dn.expired, 'accountExpires', encodeAccountExpires(new Date(Date.now() - 86_400_000)));
    await w.removeFromAll('nogroups');
    await w.ou.delete(w.dn.deleted);
    await w.ou.moveToLeavers(w.dn.moved);
    await w.ou.disable(w.dn.renamed);
    await w.removeFromAll('readded');
    await w.ou.removeMember(w.groups.admins, w.dn.mover); // keeps Devs and Analysts
    await reconcile();

    for (const k of LEAVERS.filter((x) => x !== 'renamed')) expect({ who: k, ...(await judged(first[k]!)) }).toEqual({ who: k, ...DENIED });
    expect({ who: 'readded again', ...(await judged(readdedAgain)) }).toEqual({ who: 'readded again', ...DENIED });
    expect({ who: 'renamed again', ...(await judged(renamedAgain)) }).toEqual({ who: 'renamed again', ...DENIED });
    // Its portal session (denied by identity store UserId, which a rename keeps) too; the old-name SAML sessions: below.
    expect(await probe(w.emulator.url, first.renamed!.analyst)).toBe('denied');
    expect({ who: 'mover', ...(await judged(first.mover!)) }).toEqual({ who: 'mover', admin: 'denied', dev: 'allowed', analyst: 'allowed' });
    expect({ who: 'stays', ...(await judged(first.stays!)) }).toEqual({ who: 'stays', ...ALLOWED });
    // And whoever stays may still sign in.
    expect(await judged(await login(sam('stays')))).toEqual(ALLOWED);
  }, 180_000);

  // A rename in AD before leaving: the entitlement history keeps every name ls.renamed was journaled under
  // within the longest session, so the SAML sessions opened under the old UPN (aws:userid ROLEID:old UPN)
  // are denied beside the new one, on both roles, and the plan says the former name is covered.
  it('renamed then disabled: the SAML sessions opened under the old name are denied too', async () => {
    expect({ who: 'renamed', ...(await judged(first.renamed!)) }).toEqual({ who: 'renamed', ...DENIED });
    const story = await journalOf(RENAMED_TO);
    const admin = story.find((l) => l.action === 'revoke' && l.address === 'iam_role_revocations.prod.StoryAdmin' && l.reason !== null && l.reason.includes(RENAMED_TO));
    expect(admin?.reason).toContain(`as ${upn(RENAMED_TO)} and former name ${upn(sam('renamed'))} denied from`);
  });

  it('the next run has nothing left to do', async () => {
    const again = await rolemap(['reconcile', '--dry-run', '--config', w.configFile]);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
  });

  it('`journal list --user NAME` tells each person\'s story: the leaver reason, the revocations that cut them, AWS request ids', async () => {
    const expectedReason: Record<(typeof LEAVERS)[number], string> = {
      disabled: 'disabled',
      expired: 'expired',
      nogroups: 'removed-from-groups',
      deleted: 'deleted-from-ad',
      moved: 'deleted-from-ad',
      renamed: 'disabled',
      readded: 'removed-from-groups',
    };
    const revocationsOf = (lines: readonly JournalLine[]): string[] => [...new Set(lines.filter((l) => l.action === 'revoke' && l.status === 'applied').map((l) => l.address))].sort();
    const allRevocations = ['iam_role_revocations.management.StoryDev', 'iam_role_revocations.prod.StoryAdmin', 'sso_permission_set_revocations.StoryAnalyst'];
    for (const k of LEAVERS) {
      const name = k === 'renamed' ? RENAMED_TO : sam(k);
      const story = await journalOf(name);
      const said = { who: k, lines: story.map((l) => `${l.status} ${l.action} ${l.address} leaver=${l.leaverReason ?? '-'} ids=${l.requestIds.length}`) };
      // Every change that concerns them was applied and carries AWS's request ids.
      expect(story.length, JSON.stringify(said, null, 1)).toBeGreaterThan(0);
      for (const l of story) expect({ ...said, line: l.address, status: l.status, ids: l.requestIds.length > 0 }).toEqual({ ...said, line: l.address, status: 'applied', ids: true });
      // Each of their sessions was cut by a revocation that the journal files under their name.
      expect({ ...said, revoked: revocationsOf(story) }).toEqual({ ...said, revoked: allRevocations });
      // And the leaver's reason is on their changes.
      expect({ ...said, reasons: [...new Set(story.map((l) => l.leaverReason).filter((r) => r !== null))] }).toEqual({ ...said, reasons: [expectedReason[k]] });
    }
    // ls.readded was revoked twice, in two runs (each removal its own instant).
    const readded = await journalOf(sam('readded'));
    expect(new Set(readded.filter((l) => l.action === 'revoke' && l.address === 'iam_role_revocations.prod.StoryAdmin').map((l) => l.runId)).size).toBe(2);
    // The renamed leaver is found under the old name too.
    expect(revocationsOf(await journalOf(sam('renamed')))).toEqual(allRevocations);
    // The mover: the one role lost, no leaver reason.
    const mover = await journalOf(sam('mover'));
    expect(revocationsOf(mover)).toEqual(['iam_role_revocations.prod.StoryAdmin']);
    expect(mover.every((l) => l.leaverReason === null)).toBe(true);
    // The bystander: no revocation names them.
    expect(revocationsOf(await journalOf(sam('stays')))).toEqual([]);
  });
});
