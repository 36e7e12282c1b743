/**
 * The LDAP directory source against a Samba AD DC with 10,000 users and 1,000 nested groups:
 * snapshot time, memory, and which nesting strategy (in-chain on the server or client-side walk) wins.
 *
 *   npm run bench directory
 *   ROLEMAP_BENCH_USERS=2000 ROLEMAP_BENCH_GROUPS=200 npm run bench directory   (a smaller scale)
 *   ROLEMAP_BENCH_INCHAIN_GROUPS=50 ...   (head-to-head on more groups; in-chain costs ~7 s a group on Samba at 10,000 users)
 *
 * Provisioning the bench directory takes a few minutes the first time (ldbadd, offline); it is cached
 * under $ROLEMAP_SAMBA_CACHE (default /tmp/rolemap-samba). Samba's ports are fixed: the bench stops the
 * test instance if it runs, and stops its own at the end.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LdapDirectorySource } from '../src/adapters/directory/ldap/ldap-source.js';
import type { NestingStrategy } from '../src/adapters/directory/ldap/options.js';
import type { GroupSelection } from '../src/core/ports.js';
import { benchDirectory, benchGroupName } from '../test/samba/fixture-data.js';
import { ensureSambaInstalled, prepare, startSamba, stopSamba } from '../test/samba/samba-dc.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);

interface Run {
  readonly nesting: NestingStrategy;
  readonly groups: number;
  readonly ms: number;
  readonly peakHeapMb: number;
  readonly retainedMb: number;
  readonly users: number;
  readonly memberships: number;
  readonly groupsJson: string;
}

async function measure(source: LdapDirectorySource, selection: GroupSelection, nesting: NestingStrategy): Promise<Run> {
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 20);
  const t0 = performance.now();
  const snap = await source.read(selection);
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  gc();
  const retained = process.memoryUsage().heapUsed - before;
  const run: Run = {
    nesting,
    groups: snap.groups.length,
    ms,
    peakHeapMb: (peak - before) / 2 ** 20,
    retainedMb: retained / 2 ** 20,
    users: snap.users.length,
    memberships: snap.groups.reduce((n, g) => n + g.members.length, 0),
    groupsJson: JSON.stringify(snap.groups),
  };
  if (snap.users.length === 0) throw new Error('empty snapshot');
  return run;
}

export default async function directoryBench(): Promise<void> {
  if (process.env['ROLEMAP_SKIP_SAMBA'] === '1') {
    console.log('!! ROLEMAP_SKIP_SAMBA=1: the directory bench did NOT run');
    return;
  }
  const users = num('ROLEMAP_BENCH_USERS', 10_000);
  const groups = num('ROLEMAP_BENCH_GROUPS', 1_000);
  const inChainGroups = num('ROLEMAP_BENCH_INCHAIN_GROUPS', 10);
  ensureSambaInstalled();
  const facts = prepare(benchDirectory(users, groups));
  console.log(`directory: ${users} users, ${groups} groups (provisioned in ${facts.provisionSeconds} s when first made)`);
  await startSamba(facts);
  try {
    const source = (nesting: NestingStrategy) =>
      new LdapDirectorySource({ url: facts.ldapsUrl, caFile: facts.caFile, bindDn: facts.adminUpn, bindPassword: facts.adminPassword, userBase: facts.userBase, groupBase: facts.groupBase, nesting, timeoutMs: 300_000 });
    const everyGroup: GroupSelection = { refs: [], namePatterns: ['^AWS-'] };
    // A spread of groups (top, mid and leaf levels) for the head-to-head.
    const some: GroupSelection = {
      refs: Array.from({ length: Math.min(inChainGroups, groups) }, (_, i) => ({ by: 'sAMAccountName' as const, value: benchGroupName(Math.floor((i * groups) / Math.min(inChainGroups, groups))) })),
      namePatterns: [],
    };
    const rows: Run[] = [];
    await measure(source('client'), { refs: [], namePatterns: [] }, 'client'); // warm-up (TLS, Samba caches)
    for (const nesting of ['client', 'in-chain'] as const) rows.push(await measure(source(nesting), some, nesting));
    rows.push(await measure(source('client'), everyGroup, 'client'));
    rows.push(await measure(source('client'), everyGroup, 'client'));
    if (inChainGroups >= groups) rows.push(await measure(source('in-chain'), everyGroup, 'in-chain'));
    console.log('nesting   groups  users  memberships   time      peak heap  retained');
    for (const r of rows) {
      console.log(
        `${r.nesting.padEnd(9)} ${String(r.groups).padStart(6)} ${String(r.users).padStart(6)} ${String(r.memberships).padStart(12)} ${(r.ms / 1000).toFixed(2).padStart(7)} s ${r.peakHeapMb.toFixed(1).padStart(8)} MB ${r.retainedMb.toFixed(1).padStart(7)} MB`,
      );
    }
    const [client, inChain] = rows;
    if (client && inChain) {
      if (client.groupsJson !== inChain.groupsJson) throw new Error('client and in-chain nesting disagree');
      const perGroupIn = inChain.ms / inChain.groups;
      console.log(
        `winner on ${client.groups} groups: ${client.ms < inChain.ms ? 'client' : 'in-chain'} (client ${(client.ms / 1000).toFixed(2)} s, in-chain ${(inChain.ms / 1000).toFixed(2)} s;` +
          ` in-chain costs ~${(perGroupIn / 1000).toFixed(2)} s a group here, ~${((perGroupIn * groups) / 60000).toFixed(1)} min for all ${groups})`,
      );
    }
  } finally {
    await stopSamba(facts.dir);
  }
}
