/**
 * Per-account clients: credentials assumed through STS once per account and shared by its clients,
 * with the configured session name and external id, refreshed before they expire.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients, sharedAcrossClients } from '../../../../src/adapters/aws/clients.js';
import type { IamState } from '../../../aws-emulator/services/iam.js';
import type { StsState } from '../../../aws-emulator/services/sts.js';
import { BASE_CREDENTIALS, DEV, PROD, RECONCILER, startWorld } from './fixtures.js';
import type { World } from './fixtures.js';

let world: World;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.stop();
});

describe('per-account clients', () => {
  it('assume the configured role once per account, shared by all its clients, with a recognisable session name', async () => {
    const c = world.clients;
    await Promise.all([c.iam(PROD).send(new ListRolesCommand({})), c.sts(PROD).send(new GetCallerIdentityCommand({})), c.iam(PROD).send(new ListRolesCommand({}))]);
    const who = await c.sts(DEV).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(`arn:aws:sts::${DEV}:assumed-role/${RECONCILER}/rolemap-test`);
    expect(world.emulator.calls()['sts:AssumeRole']).toBeUndefined(); // already assumed during setup, then shared
    expect(world.setupCalls['sts:AssumeRole']).toBe(3);
  });

  it('passes the external id the account names', async () => {
    const role = world.emulator.state<IamState>('iam').accounts[PROD]!.roles[RECONCILER]!;
    const trust = JSON.parse(role.assumeRolePolicyDocument) as { Statement: Record<string, unknown>[] };
    trust.Statement[0]!['Condition'] = { StringEquals: { 'sts:ExternalId': 'corp-7781' } };
    role.assumeRolePolicyDocument = JSON.stringify(trust);
    const settings = { region: 'us-east-1', endpoint: world.emulator.url, maxAttempts: 2, sessionName: 'rolemap-corp', credentials: async () => BASE_CREDENTIALS };
    const arn = `arn:aws:iam::${PROD}:role/${RECONCILER}`;
    const wrong = new AwsClients(settings, [{ id: PROD, alias: 'prod', assumeRoleArn: arn, externalId: 'guess' }]);
    await expect(wrong.iam(PROD).send(new ListRolesCommand({}))).rejects.toThrow(/not authorized to perform: sts:AssumeRole/);
    const right = new AwsClients(settings, [{ id: PROD, alias: 'prod', assumeRoleArn: arn, externalId: 'corp-7781' }]);
    await expect(right.iam(PROD).send(new ListRolesCommand({}))).resolves.toBeDefined();
    const sessions = Object.values(world.emulator.state<StsState>('sts').sessions).map((s) => s.arn);
    expect(sessions).toContain(`arn:aws:sts::${PROD}:assumed-role/${RECONCILER}/rolemap-corp`);
    wrong.destroy();
    right.destroy();
  });
});

describe('endpoints', () => {
  it("honour the SDK's AWS_ENDPOINT_URL_<SERVICE> variables when the config names no endpoint", async () => {
    const saved = { iam: process.env['AWS_ENDPOINT_URL_IAM'], sts: process.env['AWS_ENDPOINT_URL_STS'] };
    process.env['AWS_ENDPOINT_URL_IAM'] = world.emulator.url;
    process.env['AWS_ENDPOINT_URL_STS'] = world.emulator.url;
    try {
      const clients = new AwsClients({ region: 'us-east-1', maxAttempts: 2, sessionName: 'rolemap-env', credentials: async () => BASE_CREDENTIALS }, [
        { id: DEV, alias: 'dev', assumeRoleArn: `arn:aws:iam::${DEV}:role/${RECONCILER}` },
      ]);
      const roles = await clients.iam(DEV).send(new ListRolesCommand({}));
      expect(roles.Roles?.map((r) => r.RoleName)).toEqual([RECONCILER]);
      expect(Object.values(world.emulator.state<StsState>('sts').sessions).map((s) => s.arn)).toContain(`arn:aws:sts::${DEV}:assumed-role/${RECONCILER}/rolemap-env`);
      clients.destroy();
    } finally {
      for (const [k, v] of [['AWS_ENDPOINT_URL_IAM', saved.iam], ['AWS_ENDPOINT_URL_STS', saved.sts]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('sharedAcrossClients', () => {
  it('coalesces concurrent calls, refreshes five minutes before expiry, and does not cache failures', async () => {
    let clock = 0;
    let calls = 0;
    let fail = false;
    const provider = sharedAcrossClients(async () => {
      calls++;
      if (fail) throw new Error('sts down');
      return { accessKeyId: `K${calls}`, secretAccessKey: 's', expiration: new Date(clock + 3600_000) };
    }, () => clock);
    const [a, b] = await Promise.all([provider(), provider()]);
    expect([a.accessKeyId, b.accessKeyId, calls]).toEqual(['K1', 'K1', 1]);
    clock = 3600_000 - 6 * 60_000;
    expect((await provider()).accessKeyId).toBe('K1');
    clock = 3600_000 - 4 * 60_000;
    fail = true;
    await expect(provider()).rejects.toThrow('sts down');
    fail = false;
    expect((await provider()).accessKeyId).toBe('K3');
    expect((await provider({ forceRefresh: true })).accessKeyId).toBe('K4');
  });
});
