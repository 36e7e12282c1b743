/**
 * Smaller defects from the safety review (issue 17), each through the real command line against
 * the emulator and the demo directory.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, rolemap, rolemapProcess, startWorld, useProcessEnv, type World } from './world.js';

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

const edit = (file: string, from: string | RegExp, to: string): void => {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  expect(next, `${String(from)} in ${file}`).not.toBe(text);
  writeFileSync(file, next);
};

describe('group references', () => {
  it('a DN reference with spaces after the commas finds the group in the core as in the directory source (one normaliser)', async () => {
    edit(world.config, 'group: {sAMAccountName: Platform-Admins}\n    account: prod', 'group: {dn: "CN=Platform-Admins, OU=Groups, DC=example, DC=com"}\n    account: prod');
    const r = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/\+ iam_role\.prod\.PlatformAdmin will be created/);
    expect(r.stdout).not.toMatch(/Platform-Admins.*not found|not in the directory/i);
  });
});

describe('secrets', () => {
  it('a 7-character password (AD allows them) is redacted from the output and the journal like a long one', async () => {
    const password = 'Pa5s-7c';
    const env = awsEnv(world, { AD_BIND_PASSWORD: password });
    // An AWS-compatible endpoint that echoes it in an error message (free text from outside).
    world.emulator.injectFault({ kind: 'error', operation: 'CreateRole', times: 1, status: 400, code: 'ValidationError', message: `bad request from a client whose password is ${password}` });
    const r = await rolemapProcess(['reconcile', '--auto-approve', '--config', world.config], env, world.dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/ValidationError: bad request from a client whose password is \[redacted\]/);
    expect(r.stdout + r.stderr).not.toContain(password);
    const journal = Buffer.concat(readdirSync(world.dir).filter((f) => f.startsWith('journal.db')).map((f) => readFileSync(join(world.dir, f))));
    expect(journal.includes(Buffer.from('[redacted]'))).toBe(true);
    expect(journal.includes(Buffer.from(password))).toBe(false);
  });
});

describe('systemd credentials', () => {
  it('a {credential: NAME} bind password is read from $CREDENTIALS_DIRECTORY/NAME and sent in the LDAP bind', async () => {
    const received: Buffer[] = [];
    const server = createServer((socket) => {
      socket.on('data', (d: Buffer) => {
        received.push(d);
        socket.destroy();
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      edit(
        world.config,
        /^directory:\n(?: .*\n)+/m,
        `directory:\n  type: ldap\n  url: ldap://127.0.0.1:${port}\n  allowInsecure: true\n  bindDn: CN=svc-rolemap,OU=Service,DC=example,DC=com\n  bindPassword: {credential: ldap-bind-password}\n  userBase: DC=example,DC=com\n  connectTimeoutMs: 2000\n  timeoutMs: 2000\n`,
      );
      const credentials = join(world.dir, 'credentials');
      mkdirSync(credentials);
      writeFileSync(join(credentials, 'ldap-bind-password'), 'systemd-gave-this\n', { mode: 0o600 });
      const r = await rolemapProcess(['reconcile', '--dry-run', '--config', world.config], awsEnv(world, { CREDENTIALS_DIRECTORY: credentials }), world.dir);
      expect(r.code).toBe(1);
      expect(Buffer.concat(received).includes(Buffer.from('systemd-gave-this'))).toBe(true);
      expect(r.stdout + r.stderr).not.toContain('systemd-gave-this');
      // Without systemd's directory the reference says what is missing.
      const outside = await rolemapProcess(['reconcile', '--dry-run', '--config', world.config], awsEnv(world), world.dir);
      expect(outside.code).toBe(1);
      expect(outside.stderr).toContain('systemd credential ldap-bind-password needs $CREDENTIALS_DIRECTORY');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('update order', () => {
  it('a role drops removed inline policies before it puts new ones; a permission set detaches before it attaches, as a role does', async () => {
    const withInline = (name: string): string =>
      `tags: {cost-centre: platform}\n    inlinePolicies:\n      ${name}: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: ["s3:DeleteBucket"], Resource: "*"}]}`;
    edit(world.config, 'tags: {cost-centre: platform}', withInline('OldGuard'));
    const first = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(first.code, first.stderr).toBe(2);

    edit(world.config, withInline('OldGuard'), withInline('NewGuard'));
    edit(world.config, 'managedPolicyArns: [arn:aws:iam::aws:policy/AmazonAthenaFullAccess]', 'managedPolicyArns: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]');
    world.exchanges.length = 0;
    const second = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(second.code, second.stderr).toBe(2);
    const ops = world.exchanges.map((x) => x.operation);
    const at = (op: string): number => {
      expect(ops, op).toContain(op);
      return ops.indexOf(op);
    };
    expect(at('DeleteRolePolicy')).toBeLessThan(at('PutRolePolicy'));
    expect(at('DetachManagedPolicyFromPermissionSet')).toBeLessThan(at('AttachManagedPolicyToPermissionSet'));
  });
});
