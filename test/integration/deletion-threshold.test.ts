/**
 * The deletion threshold through the real command line against the emulator: its percentage
 * applies only above `safety.maxDeletePercentFloor` managed objects, and a leaver's reversible
 * steps (key deactivation, session denies) are never what refuses a plan.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CreateAccessKeyCommand, CreateUserCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

let world: World;
let restoreEnv: () => void;

beforeEach(async () => {
  world = await startWorld();
  restoreEnv = useProcessEnv(awsEnv(world));
});

afterEach(async () => {
  restoreEnv();
  await world.stop();
});

function disable(sam: string): void {
  const ldif = readFileSync(world.ldif, 'utf8');
  const disabled = ldif.replace(new RegExp(`(sAMAccountName: ${sam.replace('.', '\\.')}\\n(?:[^\\n]+\\n)*?)userAccountControl: 512`), '$1userAccountControl: 514');
  expect(disabled).not.toBe(ldif);
  writeFileSync(world.ldif, disabled);
}

/** Only the ADFS pattern roles (three, in two accounts), and a tight percentage. */
function smallConfig(safety: string): void {
  writeFileSync(
    world.config,
    `directory: {type: ldif, path: directory.ldif}
aws: {region: eu-west-1, maxAttempts: 2}
accounts:
  management: "111111111111"
  prod: {id: "222222222222", assumeRoleArn: "arn:aws:iam::222222222222:role/rolemap-reconciler"}
federatedRolePatterns:
  - regex: '^AWS-(?<account>\\d{12})-(?<role>[\\w+=,.@-]+)$'
    samlProvider: ADFS
safety:
  ownerId: rolemap-demo
  minDirectoryUsers: 5
${safety}
journal: {path: journal.db}
`,
  );
}

describe('the deletion threshold', () => {
  it("a fresh install with one leaver is not refused: disabling the leaver's IAM user keys is reversible and not counted", async () => {
    smallConfig('  maxDeletes: 10\n  maxDeletePercent: 10');
    // A legacy IAM user linked to juergen.mueller, who has left before rolemap's first run.
    const iam = await world.iam('111111111111');
    await iam.send(new CreateUserCommand({ UserName: 'jmueller-legacy', Tags: [{ Key: 'rolemap:ad-account', Value: 'juergen.mueller' }] }));
    await iam.send(new CreateAccessKeyCommand({ UserName: 'jmueller-legacy' }));
    disable('juergen.mueller');

    const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('Plan refused');
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: 'jmueller-legacy' }));
    expect(keys.AccessKeyMetadata?.map((k) => k.Status)).toEqual(['Inactive']);
    expect(readJournal(world.journal).runs.at(-1)?.outcome).toBe('applied');
  });

  it('below the floor of managed objects the percentage does not refuse a deletion; maxDeletes still does', async () => {
    smallConfig('  maxDeletes: 10\n  maxDeletePercent: 10');
    const first = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(first.code, first.stderr).toBe(2);
    // One of the three pattern groups goes: one role of three to delete (33%, past 10%), under the default floor of 20.
    writeFileSync(world.ldif, readFileSync(world.ldif, 'utf8').replace(/CN=AWS-111111111111-ReadOnly/g, 'CN=Was-111111111111-ReadOnly').replace(/AWS-111111111111-ReadOnly/g, 'Was-111111111111-ReadOnly'));
    const second = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(second.code, second.stderr).toBe(2);
    expect(second.stdout).toMatch(/1 destroyed/);

    // maxDeletes is absolute, whatever the floor.
    smallConfig('  maxDeletes: 0\n  maxDeletePercent: 10');
    writeFileSync(world.ldif, readFileSync(world.ldif, 'utf8').replace(/AWS-111111111111-Admin/g, 'Was-111111111111-Admin'));
    const third = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(third.code, third.stderr).toBe(3);
    expect(third.stderr).toContain('The plan deletes 1 of the 2 objects rolemap manages (50%), past the threshold (safety.maxDeletes 0, safety.maxDeletePercent 10% above 20 managed objects)');
  });
});
