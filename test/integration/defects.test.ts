/**
 * Smaller defects from the safety review (issue 17), each through the real command line against
 * the emulator and the demo directory.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
