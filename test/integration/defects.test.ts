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

describe('AWS limits', () => {
  it('validate refuses what AWS would refuse: 50 tags with the owner tag, an IAM description character, 10,240 characters of inline policies, a reserved Identity Store name', async () => {
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    const original = readFileSync(world.config, 'utf8');
    edit(world.config, 'tags: {cost-centre: platform}', `tags: ${JSON.stringify(tags)}`);
    edit(world.config, 'description: Production platform administrators (AD group Platform-Admins)', 'description: "Platform administrators \u2014 prod"');
    const shape = await rolemap(['validate', '--config', world.config]);
    expect(shape.code).toBe(1);
    expect(shape.stderr).toMatch(/federatedRoles\[0\]\.tags: at most 49 tags: AWS allows 50 on a role or permission set, and rolemap adds its rolemap:owner tag/);
    expect(shape.stderr).toMatch(/federatedRoles\[0\]\.description: IAM accepts only tab, line feed, carriage return, printable ASCII and Latin-1 characters/);

    writeFileSync(world.config, original);
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: ['s3:DeleteBucket'], Resource: Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-${i}`) }] });
    edit(world.config, '    samlProvider: ADFS\n    tags:', `    samlProvider: ADFS\n    inlinePolicies:\n      Big: '${big}'\n    tags:`);
    edit(world.config, '- group: {sAMAccountName: Auditors}', '- group: {sAMAccountName: AWSAdministrators}');
    const cross = await rolemap(['validate', '--config', world.config]);
    expect(cross.code).toBe(1);
    expect(cross.stderr).toMatch(/federatedRoles\[0\]\.inlinePolicies: the inline policies of one role total \d+ characters .* IAM allows 10240/);
    expect(cross.stderr).toMatch(/identityCenter\.assignments\[1\]\.group: AWSAdministrators is a reserved name in the Identity Store/);
  });

  it('a role name from the ADFS pattern longer than 64 characters is not planned (it would fail on every run) and is named in a warning', async () => {
    const long = `AWS-111111111111-${'A'.repeat(65)}`;
    edit(world.ldif, /CN=AWS-111111111111-Admin/g, `CN=${long}`);
    edit(world.ldif, /AWS-111111111111-Admin/g, long);
    const r = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain(`AD group ${long} matches the role pattern, but "${'A'.repeat(65)}" cannot be an IAM role name (65 characters, at most 64): no role is planned for it`);
    expect(r.stdout).not.toContain(`iam_role.management.${'A'.repeat(65)}`);
  });
});
