/**
 * Smaller defects from the safety review (issue 17), each through the real command line against
 * the emulator and the demo directory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, rolemap, startWorld, useProcessEnv, type World } from './world.js';

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
