/**
 * All or nothing: a read that fails part way throws a typed DirectoryReadError naming what and where,
 * and never hands back a partial snapshot (an outage must not look like everyone left).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryReadError } from '../../src/adapters/directory/errors.js';
import type { DirectorySnapshot } from '../../src/core/model/directory.js';
import { PEOPLE } from './fixture-data.js';
import { ALL_GROUPS, facts, samba, sambaSource } from './helpers.js';
import { startSamba, stopSamba } from './samba-dc.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';

describe.skipIf(!samba)('a read that fails part way fails whole', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startProxy(636);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const viaProxy = (extra: Parameters<typeof sambaSource>[0] = {}) => sambaSource({ url: `ldaps://127.0.0.1:${proxy.port}`, pageSize: 100, ...extra });

  it('a connection dropped after the third page of users -> connection-lost, no snapshot', async () => {
    let snapshot: DirectorySnapshot | undefined;
    const err = await viaProxy({ observer: { onPage: (e) => e.what === 'users' && e.page === 3 && proxy.cut() } })
      .read(ALL_GROUPS)
      .then((s) => {
        snapshot = s;
      })
      .catch((e: unknown) => e);
    expect(snapshot).toBeUndefined();
    expect(err).toBeInstanceOf(DirectoryReadError);
    expect(err).toMatchObject({ kind: 'connection-lost', retryable: true, where: PEOPLE });
    expect((err as Error).message).toMatch(/while reading users \(page 4\) at OU=People/);
    expect((err as Error).message).toMatch(/no snapshot was produced/);
  });

  it('a connection dropped while following member ranges -> connection-lost naming the group', async () => {
    const err = await viaProxy({ rangeSize: 100, observer: { onRange: (e) => e.range === '500-599' && proxy.cut() } })
      .read({ refs: [{ by: 'sAMAccountName', value: 'Big-2000' }], namePatterns: [] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryReadError);
    expect(err).toMatchObject({ kind: 'connection-lost', what: 'member;range=600-699', where: expect.stringMatching(/^CN=Big-2000,/) });
  });

  it('a server that stops answering mid-read -> timeout after timeoutMs', async () => {
    const started = Date.now();
    const err = await viaProxy({ timeoutMs: 1500, observer: { onPage: (e) => e.what === 'users' && e.page === 2 && proxy.stall() } })
      .read(ALL_GROUPS)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryReadError);
    expect(err).toMatchObject({ kind: 'timeout', retryable: true });
    expect((err as Error).message).toMatch(/users \(page 3\)/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('the Samba server stopped in the middle of a read -> the whole snapshot fails; it reads again once restarted', async () => {
    const f = facts();
    let stopping: Promise<void> | undefined;
    try {
      const err = await sambaSource({ pageSize: 50, timeoutMs: 10_000, observer: { onPage: (e) => e.what === 'users' && e.page === 2 && (stopping ??= stopSamba(f.dir)) } })
        .read(ALL_GROUPS)
        .catch((e: unknown) => e);
      expect(stopping).toBeDefined();
      expect(err).toBeInstanceOf(DirectoryReadError);
      expect(err).toMatchObject({ kind: 'connection-lost', retryable: true, where: PEOPLE });
      expect((err as Error).message).toMatch(/while reading users \(page [3-9]\)/);
    } finally {
      await stopping;
      await startSamba(f);
    }
    const again = await sambaSource().read({ refs: [], namePatterns: [] });
    expect(again.users.length).toBeGreaterThan(2000);
  });
});
