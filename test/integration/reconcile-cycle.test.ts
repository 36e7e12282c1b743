/**
 * The whole product, through its command line, against the AWS emulator (the real SDK over HTTP)
 * and the demo directory: dry run, apply, saved plans, the safety checks, secrets and the journal's
 * evidence. Each test starts from a fresh emulator and a fresh copy of config/demo/.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteRoleCommand, GetRoleCommand } from '@aws-sdk/client-iam';
import { planFromJson, planHash } from '../../src/core/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, awsEnv, isReadOnly, mutatingCalls, readJournal, rolemap, rolemapProcess, startWorld, useProcessEnv, type World } from './world.js';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** AWS as the emulator holds it: every service's state but STS's temporary sessions (credentials, not resources). */
/**
 * What AWS holds, for "nothing was mutated": every service but STS (sessions), and without last-use tracking
 * (`RoleLastUsed`, `AccessKeyLastUsed`), which AWS itself updates on every signed use of a role or a key,
 * reads included, so a dry run's reads move it as they would in AWS.
 */
function awsState(): unknown {
  const { sts, ...services } = (world.emulator.dump() as { services: Record<string, unknown> }).services;
  expect(sts).toBeDefined();
  return JSON.parse(JSON.stringify(services, (k: string, v: unknown) => (k === 'lastUsed' ? undefined : v))) as unknown;
}

/** The demo LDIF's entries, split at blank lines. */
function ldifEntries(text: string): string[] {
  return text.split(/\n\n+/).filter((e) => /^dn::? /m.test(e));
}

function disableLeaver(): void {
  const ldif = readFileSync(world.ldif, 'utf8');
  const disabled = ldif.replace(/(sAMAccountName: juergen\.mueller\n(?:[^\n]+\n)*?)userAccountControl: 512/, '$1userAccountControl: 514');
  expect(disabled).not.toBe(ldif);
  writeFileSync(world.ldif, disabled);
}

/** Keeps the groups and only the users `keep` accepts. */
function shrinkDirectory(keep: (sAMAccountName: string) => boolean): void {
  const entries = ldifEntries(readFileSync(world.ldif, 'utf8'));
  const kept = entries.filter((e) => /^objectClass: group$/m.test(e) || keep(/^sAMAccountName: (.+)$/m.exec(e)?.[1] ?? ''));
  writeFileSync(world.ldif, `${kept.join('\n\n')}\n`);
}

async function applyAll(): Promise<void> {
  const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toMatch(/Apply complete! Resources: \d+ added/);
}

describe('rolemap reconcile against the AWS emulator and the demo directory', () => {
  it('--dry-run never mutates anything, anywhere (joiners and a leaver alike); the journal records the run as planned only', async () => {
    for (const scenario of ['joiners', 'leaver'] as const) {
      if (scenario === 'leaver') {
        await applyAll();
        disableLeaver();
      }
      const before = awsState();
      world.emulator.resetCalls();
      const r = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toMatch(scenario === 'joiners' ? /Plan: 33 to add, 0 to change, 0 to destroy/ : /\n1 leaver \([^)]+\): /);
      expect(r.stdout).not.toContain('Apply complete');

      const calls = world.emulator.calls();
      expect(Object.keys(calls).length, 'the dry run read AWS').toBeGreaterThan(3);
      expect(mutatingCalls(calls), `${scenario}: only List/Get/Describe (and STS AssumeRole) calls`).toEqual({});
      expect(awsState()).toEqual(before);

      const { runs, events } = readJournal(world.journal);
      const run = runs.at(-1);
      expect(run).toMatchObject({ mode: 'dry-run', outcome: 'planned', error: null });
      const rows = events.filter((e) => e.run_id === run?.id);
      expect(rows.length).toBe(scenario === 'joiners' ? 33 : 5);
      expect(new Set(rows.map((e) => e.status))).toEqual(new Set(['planned']));
      expect(rows.every((e) => e.request_ids === null)).toBe(true);
    }
  });

  it('applies, then plans nothing (exit 0); every applied change carries the request ids AWS answered, after its intent row', async () => {
    // Exit 2 when there are changes (dry run), and after an apply that changed something.
    const dry = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(dry.code).toBe(2);
    const apply = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(apply.code, apply.stderr).toBe(2);
    expect(apply.stdout).toContain('Apply complete! Resources: 33 added, 0 changed, 0 destroyed.');
    // AWS really holds what was applied.
    const prod = await world.iam('222222222222');
    const role = await prod.send(new GetRoleCommand({ RoleName: 'PlatformAdmin' }));
    expect(role.Role?.Path).toBe('/federated/');
    expect(role.Role?.Tags).toContainEqual({ Key: 'rolemap:owner', Value: 'rolemap-demo' });

    for (const args of [['--dry-run'], ['--auto-approve']]) {
      world.emulator.resetCalls();
      const again = await rolemap(['reconcile', ...args, '--config', world.config]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('No changes.');
      expect(mutatingCalls(world.emulator.calls())).toEqual({});
    }

    const { runs, events } = readJournal(world.journal);
    expect(runs.map((r) => `${r.mode}:${r.outcome}`)).toEqual(['dry-run:planned', 'apply:applied', 'dry-run:no-changes', 'apply:no-changes']);
    const applyRun = runs[1]?.id;
    const rows = events.filter((e) => e.run_id === applyRun);
    const applied = rows.filter((e) => e.status === 'applied');
    expect(applied).toHaveLength(33);

    // The request ids the emulator issued, as the proxy between rolemap and the emulator saw them.
    const answered = new Map(world.exchanges.map((x) => [x.requestId, x]));
    for (const row of applied) {
      const ids = JSON.parse(row.request_ids ?? 'null') as unknown;
      expect(Array.isArray(ids) && ids.length > 0, `${row.address} has request ids`).toBe(true);
      for (const id of ids as string[]) {
        expect(id).toMatch(UUID);
        expect(answered.get(id), `${row.address}: request id ${id} was issued by AWS`).toBeDefined();
      }
      const mutations = (ids as string[]).map((id) => answered.get(id)).filter((x) => x !== undefined && !isReadOnly(x.operation) && x.status === 200);
      expect(mutations.length, `${row.address}: at least one of its ids is of a successful mutating call`).toBeGreaterThan(0);
    }
    // No request id is claimed by two changes.
    const all = applied.flatMap((r) => JSON.parse(r.request_ids ?? '[]') as string[]);
    expect(new Set(all).size).toBe(all.length);

    // pending (the plan) -> intent (before the AWS call) -> applied (after it), for every change.
    for (const row of applied) {
      const chain = rows.filter((e) => e.seq === row.seq).map((e) => e.status);
      expect(chain, row.address).toEqual(['pending', 'intent', 'applied']);
      const intent = rows.find((e) => e.seq === row.seq && e.status === 'intent');
      expect(intent?.id).toBeLessThan(row.id);
    }
  });

  it('--json prints a versioned plan; --plan FILE applies exactly that plan, and refuses (exit 4, nothing applied) when AWS changed since', async () => {
    const planFile = join(world.dir, 'plan.json');
    const json = await rolemap(['reconcile', '--dry-run', '--json', '--plan-out', planFile, '--config', world.config]);
    expect(json.code, json.stderr).toBe(2);
    const printed = JSON.parse(json.stdout) as { formatVersion: unknown; changes: { address: string }[] };
    expect(printed.formatVersion).toBeDefined();
    expect(printed.changes).toHaveLength(33);
    expect(JSON.parse(readFileSync(planFile, 'utf8'))).toEqual(printed);
    expect(json.stderr).toContain(`Saved the plan to ${planFile}`);
    expect(json.stderr).not.toContain('will be created'); // the human rendering is not mixed into the JSON run

    const saved = await rolemap(['reconcile', '--plan', planFile, '--auto-approve', '--config', world.config]);
    expect(saved.code, saved.stderr).toBe(2);
    const { runs, events } = readJournal(world.journal);
    expect(runs.at(-1)).toMatchObject({ mode: 'saved-plan', outcome: 'applied' });
    const appliedAddresses = events.filter((e) => e.run_id === runs.at(-1)?.id && e.status === 'applied').map((e) => e.address);
    expect(appliedAddresses.sort()).toEqual(printed.changes.map((c) => c.address).sort());

    // A leaver's plan is saved for review; meanwhile someone deletes a role by hand.
    disableLeaver();
    const leaverPlan = join(world.dir, 'leaver.json');
    const review = await rolemap(['reconcile', '--dry-run', '--plan-out', leaverPlan, '--config', world.config]);
    expect(review.code, review.stderr).toBe(2);
    await (await world.iam('111111111111')).send(new DeleteRoleCommand({ RoleName: 'ReadOnly' }));
    const before = awsState();
    world.emulator.resetCalls();
    const stale = await rolemap(['reconcile', '--plan', leaverPlan, '--auto-approve', '--config', world.config]);
    expect(stale.code, stale.stderr).toBe(4);
    expect(stale.stderr).toMatch(/Error: .*(stale|changed)/i);
    expect(stale.stdout).not.toContain('Apply complete');
    expect(mutatingCalls(world.emulator.calls())).toEqual({});
    expect(awsState()).toEqual(before);
    const after = readJournal(world.journal);
    const refused = after.runs.at(-1);
    expect(refused).toMatchObject({ mode: 'saved-plan', outcome: 'refused' });
    expect(after.events.filter((e) => e.run_id === refused?.id && ['intent', 'applied'].includes(e.status))).toEqual([]);
  });

  it('a shrunken directory: past the deletion threshold the plan is refused (exit 3, nothing applied) until --allow-deletes N', async () => {
    await applyAll();
    // Every Identity Center user leaves the snapshot at once (seven other users remain).
    const identityCenterUsers = new Set(['zoe.angstrom', 'juergen.mueller', 'nuno.pena', 'yamada.taro', 'anna.ivanova', 'giorgos.papadopoulos', 'ngoc.nguyen', 'bjork.gudmundsdottir', 'ayse.yilmaz']);
    shrinkDirectory((name) => !identityCenterUsers.has(name));

    const before = awsState();
    world.emulator.resetCalls();
    const refused = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/Plan refused: The plan deletes (\d+) of the \d+ objects rolemap manages/);
    expect(refused.stdout).not.toContain('Apply complete');
    expect(mutatingCalls(world.emulator.calls())).toEqual({});
    expect(awsState()).toEqual(before);
    const n = Number(/--allow-deletes (\d+)/.exec(refused.stderr)?.[1]);
    expect(n).toBeGreaterThan(0);

    // Allowing fewer deletions than the plan makes is not enough.
    const tooFew = await rolemap(['reconcile', '--auto-approve', '--allow-deletes', String(n - 1), '--config', world.config]);
    expect(tooFew.code).toBe(3);
    expect(awsState()).toEqual(before);

    const allowed = await rolemap(['reconcile', '--auto-approve', '--allow-deletes', String(n), '--config', world.config]);
    expect(allowed.code, allowed.stderr).toBe(2);
    expect(allowed.stdout).toMatch(/Apply complete! Resources: 0 added, \d+ changed, \d+ destroyed(; [^.]+)?\.( \d+ leavers?[^.]*\.)?/);
    const { runs } = readJournal(world.journal);
    expect(runs.slice(-3).map((r) => r.outcome)).toEqual(['refused', 'refused', 'applied']);
    const clean = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(clean.code, clean.stdout).toBe(0);
  });

  it('a directory that returns too few users is refused (exit 3) whatever --allow-deletes says', async () => {
    await applyAll();
    const few = new Set(['zoe.angstrom', 'ada.lovelace', 'ayse.yilmaz']);
    shrinkDirectory((name) => few.has(name));
    const before = awsState();
    world.emulator.resetCalls();
    for (const extra of [[], ['--allow-deletes', '1000']]) {
      const r = await rolemap(['reconcile', '--auto-approve', ...extra, '--config', world.config]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('fewer than safety.minDirectoryUsers (5)');
    }
    expect(mutatingCalls(world.emulator.calls())).toEqual({});
    expect(awsState()).toEqual(before);
  });
});

describe('a dry run killed mid-way', () => {
  it('is recorded interrupted by the next run (SIGKILL of a child reconcile --dry-run)', { timeout: 60_000 }, async () => {
    // Reading IAM roles takes long enough to kill the child while it reads.
    world.emulator.injectFault({ kind: 'latency', service: 'iam', operation: 'ListRoles', latencyMs: 20_000 });
    const child = spawn(process.execPath, [BIN, 'reconcile', '--dry-run', '--config', world.config], { env: { PATH: process.env['PATH'] ?? '', ...awsEnv(world) }, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const openRun = (): { id: string; outcome: string | null } | undefined => {
      try {
        return readJournal(world.journal).runs.find((r) => r.mode === 'dry-run');
      } catch {
        return undefined; // the child has not created the journal yet
      }
    };
    const end = Date.now() + 30_000;
    while (!(openRun() && Object.keys(world.emulator.calls()).includes('iam:ListRoles'))) {
      if (Date.now() > end) throw new Error('the child dry run never started reading AWS');
      await new Promise((r) => setTimeout(r, 50));
    }
    const killed = openRun();
    expect(killed?.outcome).toBeNull();
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    world.emulator.clearFaults();

    const next = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(next.code, next.stderr).toBe(2);
    const after = readJournal(world.journal).runs;
    const run = after.find((r) => r.id === killed?.id);
    expect(run).toMatchObject({ outcome: 'interrupted' });
    expect(run?.error).toMatch(new RegExp(`the process \\(pid ${child.pid} on .+\\) ended before the dry run finished`));
    expect(after.at(-1)).toMatchObject({ mode: 'dry-run', outcome: 'planned' });
    const verify = await rolemap(['journal', 'verify', '--journal', world.journal]);
    expect(verify.code, verify.stdout).toBe(0);
  });
});

describe('a saved plan is applied only as rolemap saved it (tamper tests)', () => {
  type PlanJson = { planHash?: string; refusal: unknown; changes: Array<{ address: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null }> };

  /** A leaver with an IAM user of their own (unowned: disabling its keys is the one change rolemap makes to what it does not own). */
  async function leaverWithIamUser(): Promise<void> {
    await applyAll();
    const iam = await world.iam('111111111111');
    await iam.send(new CreateUserCommand({ UserName: 'jmueller', Tags: [{ Key: 'rolemap:ad-account', Value: 'juergen.mueller' }] }));
    await iam.send(new CreateAccessKeyCommand({ UserName: 'jmueller' }));
    disableLeaver();
  }

  async function savePlan(name: string, extra: string[] = []): Promise<{ file: string; plan: PlanJson }> {
    const file = join(world.dir, name);
    const r = await rolemap(['reconcile', '--dry-run', '--plan-out', file, ...extra, '--config', world.config]);
    expect([2, 3], r.stderr).toContain(r.code);
    return { file, plan: JSON.parse(readFileSync(file, 'utf8')) as PlanJson };
  }

  /** Writes the edited plan twice: as edited (its planHash left alone) and with its planHash recomputed, as a careful forger would. */
  function forge(file: string, plan: PlanJson): { naive: string; rehashed: string } {
    const naive = file.replace(/\.json$/, '.naive.json');
    const rehashed = file.replace(/\.json$/, '.rehashed.json');
    writeFileSync(naive, JSON.stringify(plan, null, 2));
    const { planHash: _, ...content } = plan;
    writeFileSync(rehashed, JSON.stringify({ ...content, planHash: planHash(planFromJson(JSON.stringify(content))) }, null, 2));
    return { naive, rehashed };
  }

  async function expectRefused(file: string, reason: RegExp, difference: RegExp): Promise<void> {
    const before = awsState();
    world.emulator.resetCalls();
    const r = await rolemap(['reconcile', '--plan', file, '--auto-approve', '--config', world.config]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).toMatch(difference);
    expect(r.stdout).not.toContain('Apply complete');
    expect(mutatingCalls(world.emulator.calls())).toEqual({});
    expect(awsState()).toEqual(before);
    expect(readJournal(world.journal).runs.at(-1)).toMatchObject({ mode: 'saved-plan', outcome: 'refused' });
  }

  const EDITED = /Error: the saved plan was edited after rolemap saved it: its content hashes to sha256:[0-9a-f]{12}…, not to the sha256:[0-9a-f]{12}… it carries/;
  const UNRECORDED = /Error: the saved plan's hash sha256:[0-9a-f]{12}… is not recorded in the journal: rolemap never saved this plan/;

  it('refusal: null on a refused plan is refused (exit 4), naming the refusal', async () => {
    await applyAll();
    const identityCenterUsers = new Set(['zoe.angstrom', 'juergen.mueller', 'nuno.pena', 'yamada.taro', 'anna.ivanova', 'giorgos.papadopoulos', 'ngoc.nguyen', 'bjork.gudmundsdottir', 'ayse.yilmaz']);
    shrinkDirectory((name) => !identityCenterUsers.has(name));
    const { file, plan } = await savePlan('refused.json');
    expect(plan.refusal).toMatchObject({ code: 'deletion-threshold' });
    const { naive, rehashed } = forge(file, { ...plan, refusal: null });
    const difference = /refusal is none \(not refused\) in the saved plan, deletion-threshold in the plan made now/;
    await expectRefused(naive, EDITED, difference);
    await expectRefused(rehashed, UNRECORDED, difference);
    // The plan as saved is still refused by its own refusal (exit 3), never applied.
    const asSaved = await rolemap(['reconcile', '--plan', file, '--auto-approve', '--config', world.config]);
    expect(asSaved.code, asSaved.stderr).toBe(3);
  });

  it('before.owned: true on an unowned object is refused (exit 4), naming the change and the attribute', async () => {
    await leaverWithIamUser();
    const { file, plan } = await savePlan('leaver.json');
    const i = plan.changes.findIndex((c) => c.address === 'iam_user_credentials.management.jmueller');
    expect(plan.changes[i]?.before?.['owned']).toBe(false);
    const edited = structuredClone(plan);
    (edited.changes[i]?.before as Record<string, unknown>)['owned'] = true;
    const { naive, rehashed } = forge(file, edited);
    const difference = /change #\d+ iam_user_credentials\.management\.jmueller: before\.owned is true in the saved plan, false in the plan made now/;
    await expectRefused(naive, EDITED, difference);
    await expectRefused(rehashed, UNRECORDED, difference);
  });

  it('an owner tag added to an object rolemap does not own is refused (exit 4), naming the tag', async () => {
    await leaverWithIamUser();
    const { file, plan } = await savePlan('leaver.json');
    const i = plan.changes.findIndex((c) => c.address === 'iam_user_credentials.management.jmueller');
    const edited = structuredClone(plan);
    const after = edited.changes[i]?.after as { attrs: Record<string, unknown> };
    after.attrs['tags'] = { 'rolemap:owner': 'rolemap-demo' };
    const { naive, rehashed } = forge(file, edited);
    const difference = /change #\d+ iam_user_credentials\.management\.jmueller: after\.attrs\.tags is \{"rolemap:owner":"rolemap-demo"\} in the saved plan, absent in the plan made now/;
    await expectRefused(naive, EDITED, difference);
    await expectRefused(rehashed, UNRECORDED, difference);
  });

  it('a genuine saved plan is refused (exit 4) once the directory gives another plan, though AWS did not change; applied while it still matches', async () => {
    await applyAll();
    disableLeaver();
    const { file } = await savePlan('leaver.json');
    const reviewed = readFileSync(world.ldif, 'utf8');
    // Before it is applied, another user leaves in AD; AWS has not changed.
    writeFileSync(world.ldif, reviewed.replace(/(sAMAccountName: nuno\.pena\n(?:[^\n]+\n)*?)userAccountControl: 512/, '$1userAccountControl: 514'));
    expect(readFileSync(world.ldif, 'utf8')).not.toBe(reviewed);
    // The first difference named is the leaver's session revocation, which now comes first in a plan.
    await expectRefused(file, /Error: the saved plan is not the plan that the same directory and AWS state give now: /, /iam_role_revocations\.management\.ReadOnly \(revoke\)/);
    // With the directory as it was when the plan was saved, the same file applies, exactly.
    writeFileSync(world.ldif, reviewed);
    const applied = await rolemap(['reconcile', '--plan', file, '--auto-approve', '--config', world.config]);
    expect(applied.code, applied.stderr).toBe(2);
    expect(applied.stdout).toContain('Apply complete!');
  });
});

describe('secrets never leave rolemap', () => {
  const canary = {
    AWS_SECRET_ACCESS_KEY: `SECRETKEY-canary-${randomUUID()}`,
    AWS_SESSION_TOKEN: `SESSIONTOKEN-canary-${randomUUID()}`,
    // A variable name that looks like nothing secret: only the runtime's explicit secrets can keep it out.
    AD_BIND_PW: `BINDPW-canary-${randomUUID()}`,
  };

  /** A minimal LDAP server that refuses every bind with a diagnostic message that echoes the whole request, password included. */
  async function echoingLdapServer(): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
    const received: Buffer[] = [];
    const server = createServer((socket) => {
      socket.on('data', (req: Buffer) => {
        received.push(req);
        // LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp ... }: skip the SEQUENCE header to the id.
        const lengthBytes = (req[1] ?? 0) & 0x80 ? (req[1] ?? 0) & 0x7f : 0;
        const id = req[2 + lengthBytes + 2] ?? 1;
        const diag = Buffer.from(`invalid credentials in request ${req.toString('latin1')}`, 'latin1');
        const tlv = (tag: number, body: Buffer): Buffer => {
          const n = body.length;
          const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
          return Buffer.concat([Buffer.from([tag]), len, body]);
        };
        const bindResponse = tlv(0x61, Buffer.concat([tlv(0x0a, Buffer.from([49])), tlv(0x04, Buffer.alloc(0)), tlv(0x04, diag)]));
        socket.write(tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([id])), bindResponse])));
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  it('no AWS secret key, session token or bind password reaches stdout, stderr, a saved plan or the journal (its -wal included)', { timeout: 60_000 }, async () => {
    // rolemap's user with a session whose secret and token are the canaries, so the emulator (which checks signatures) accepts them.
    const session = world.rolemapSession(canary.AWS_SECRET_ACCESS_KEY, canary.AWS_SESSION_TOKEN);
    const env = awsEnv(world, { ...canary, AWS_ACCESS_KEY_ID: session.accessKeyId, ROLEMAP_LOG_LEVEL: 'trace' });
    const outputs: string[] = [];
    const run = async (...args: string[]): Promise<number> => {
      const r = await rolemapProcess([...args, '--config', world.config], env, world.dir);
      outputs.push(r.stdout, r.stderr);
      return r.code;
    };
    expect(await run('reconcile', '--dry-run', '--plan-out', join(world.dir, 'plan.json'))).toBe(2);
    // An AWS-compatible endpoint that echoes the caller's credentials in an error message (free text from outside).
    world.emulator.injectFault({ kind: 'error', operation: 'CreateRole', times: 1, status: 400, code: 'ValidationError', message: `bad request signed with ${canary.AWS_SECRET_ACCESS_KEY} and token ${canary.AWS_SESSION_TOKEN}` });
    expect(await run('reconcile', '--auto-approve')).toBe(1);
    expect(await run('reconcile', '--auto-approve')).toBe(2);
    expect(await run('reconcile', '--dry-run')).toBe(0);

    // The same configuration against a directory server that echoes the bind request (the password is in it).
    const ldap = await echoingLdapServer();
    try {
      const yaml = readFileSync(world.config, 'utf8').replace(
        /^directory:\n(?: .*\n)+/m,
        `directory:\n  type: ldap\n  url: ldap://127.0.0.1:${ldap.port}\n  allowInsecure: true\n  bindDn: CN=svc-rolemap,OU=Service,DC=example,DC=com\n  bindPassword: {env: AD_BIND_PW}\n  userBase: DC=example,DC=com\n  connectTimeoutMs: 2000\n  timeoutMs: 2000\n`,
      );
      expect(yaml).toContain('type: ldap');
      writeFileSync(world.config, yaml);
      expect(await run('reconcile', '--dry-run')).toBe(1);
      // rolemap did bind with the canary password (so it was there to leak).
      expect(Buffer.concat(ldap.received).includes(Buffer.from(canary.AD_BIND_PW))).toBe(true);
    } finally {
      await ldap.close();
    }

    const files = readdirSync(world.dir).filter((f) => f.startsWith('journal.db') || f.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['journal.db', 'plan.json']));
    const journalBytes = Buffer.concat(files.filter((f) => f.startsWith('journal.db')).map((f) => readFileSync(join(world.dir, f))));
    const everything = [...outputs, ...files.map((f) => readFileSync(join(world.dir, f)).toString('latin1'))].join('\n');
    const leaks = Object.entries(canary).flatMap(([name, value]) =>
      [...everything.matchAll(new RegExp(value, 'g'))].map((m) => `${name}: ...${everything.slice(Math.max(0, (m.index ?? 0) - 200), (m.index ?? 0) + 60).replace(/\n/g, ' | ')}`),
    );
    expect(leaks).toEqual([]);
    for (const [name, value] of Object.entries(canary)) expect(journalBytes.includes(Buffer.from(value)), `${name} in the journal's bytes`).toBe(false);
    // The canaries did reach rolemap (or this test could not fail): the journal holds the masked error texts.
    const { runs, events } = readJournal(world.journal);
    expect(runs.map((r) => r.outcome)).toEqual(['planned', 'partial', 'applied', 'no-changes', 'failed']);
    expect(events.some((e) => e.status === 'failed')).toBe(true);
    expect(journalBytes.includes(Buffer.from('[redacted]'))).toBe(true);
    expect(outputs.join('\n')).toMatch(/failed {3}iam_role\.management\.Admin: .*bad request signed with \[redacted\] and token \[redacted\]/);
    // The directory source does not repeat the server's diagnostic text at all.
    expect(runs.at(-1)?.error).toMatch(/LDAP bind as CN=svc-rolemap.* failed: the server refused the bind/);
  });
});
