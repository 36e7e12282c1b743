/**
 * With `ha` configured only the daemon that holds the S3 lease applies, fenced by it (docs/daemon.md).
 * A `reconcile` apply from the command line holds no lease: it is refused before it reads anything or
 * sends anything, while a dry run still shows the plan.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

let world: World;
let restoreEnv: () => void;

beforeEach(async () => {
  world = await startWorld();
  restoreEnv = useProcessEnv(awsEnv(world));
  const doc = parseDocument(readFileSync(world.config, 'utf8'));
  doc.setIn(['journal', 'path'], world.journal);
  doc.setIn(['ha'], { bucket: 'acme-rolemap-ha', key: 'rolemap/lease.json', leaseSeconds: 60, nodeId: 'bastion-a' });
  writeFileSync(world.config, doc.toString());
  world.emulator.resetCalls();
});

afterEach(async () => {
  restoreEnv();
  await world.stop();
});

describe('reconcile under ha', () => {
  it('an apply from the command line is refused, naming the lease; nothing is sent or journaled; a dry run still plans', async () => {
    const apply = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(apply.code, apply.stderr).toBe(1);
    expect(apply.stderr).toContain('refusing to apply from the command line');
    expect(apply.stderr).toContain('s3://acme-rolemap-ha/rolemap/lease.json');
    expect(apply.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(world.emulator.calls()).toEqual({});
    expect(existsSync(world.journal) ? readJournal(world.journal).runs : []).toEqual([]);

    const dry = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(dry.code, dry.stderr).toBe(2); // changes to make
    expect(Object.keys(world.emulator.calls()).filter((k) => /:(Create|Put|Delete|Update|Attach|Detach|Tag|Untag)/.test(k))).toEqual([]);
    expect(readJournal(world.journal).runs.map((r) => r.mode)).toEqual(['dry-run']);
  }, 60_000);
});
