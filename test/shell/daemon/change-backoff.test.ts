import { describe, expect, it } from 'vitest';
import type { ApplyReport, ChangeResult } from '../../../src/core/apply/engine.js';
import { ChangeBackoff } from '../../../src/shell/daemon/change-backoff.js';
import { change } from './fake-run.js';

const failing = change(1);
const other = change(2);

function report(...results: Array<[ReturnType<typeof change>, ChangeResult['status']]>): ApplyReport {
  const rs = results.map(([c, status]): ChangeResult => ({ change: c, status, requestIds: [], ...(status === 'failed' ? { error: 'ValidationError: too long' } : {}) }));
  return { results: rs, applied: rs.filter((r) => r.status === 'applied').length, failed: rs.filter((r) => r.status === 'failed').length, skipped: rs.filter((r) => r.status === 'skipped').length, interrupted: false };
}

describe('per-change backoff', () => {
  it('holds a failing change back exponentially, capped, by address; the others are never held; success forgets', () => {
    const backoff = new ChangeBackoff(60_000, 300_000);
    const events: string[] = [];
    const on = { heldBack: (h: { address: string; failures: number; until: string }) => events.push(`held ${h.address} x${h.failures} until ${h.until}`), recovered: (a: string, n: number) => events.push(`recovered ${a} after ${n}`) };
    let t = new Date('2026-03-01T10:00:00.000Z');
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      backoff.record(report([failing, 'failed'], [other, 'applied']), t, on);
      const until = new Date(backoff.held()[0]?.until ?? '');
      delays.push(until.getTime() - t.getTime());
      expect(backoff.holdFor(new Date(until.getTime() - 1))(failing)).toMatch(/^held back: it failed in \d runs? in a row \(last: ValidationError: too long\); next attempt after /);
      expect(backoff.holdFor(new Date(until.getTime() - 1))(other)).toBeNull();
      expect(backoff.holdFor(until)(failing)).toBeNull();
      t = until;
    }
    expect(delays).toEqual([60_000, 120_000, 240_000, 300_000, 300_000]);
    backoff.record(report([failing, 'applied']), t, on);
    expect(backoff.held()).toEqual([]);
    expect(events.at(-1)).toBe(`recovered ${failing.address} after 5`);
  });

  it('forgets a change that left the plan, and everything after a run with no changes', () => {
    const backoff = new ChangeBackoff(1_000, 10_000);
    const on = { heldBack: () => undefined, recovered: () => undefined };
    const t = new Date('2026-03-01T10:00:00.000Z');
    backoff.record(report([failing, 'failed'], [other, 'failed']), t, on);
    expect(backoff.held().map((h) => h.address)).toEqual([failing.address, other.address]);
    backoff.record(report([other, 'skipped']), t, on);
    expect(backoff.held().map((h) => h.address)).toEqual([other.address]);
    backoff.clear();
    expect(backoff.held()).toEqual([]);
  });
});
