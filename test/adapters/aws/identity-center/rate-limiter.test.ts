import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../../src/adapters/aws/identity-center/rate-limiter.js';
import { Semaphore } from '../../../../src/adapters/aws/identity-center/async-tools.js';

describe('TokenBucket', () => {
  it('lets a burst through, then spaces callers at the rate', () => {
    const b = new TokenBucket(20, 5);
    const waits = Array.from({ length: 9 }, () => b.reserve(1000));
    expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(waits.slice(5)).toEqual([50, 100, 150, 200]);
  });

  it('refills while idle, never beyond the burst', () => {
    const b = new TokenBucket(10, 2);
    b.reserve(0);
    b.reserve(0);
    expect(b.reserve(0)).toBe(100);
    expect(b.reserve(10_000)).toBe(0);
    expect(b.reserve(10_000)).toBe(0);
    expect(b.reserve(10_000)).toBe(100);
  });
});

describe('Semaphore', () => {
  it('never runs more than its size at once', async () => {
    const s = new Semaphore(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        s.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });
});

describe('KeyedRwLock', () => {
  it('runs shared holders together and an exclusive holder alone, in arrival order', async () => {
    const { KeyedRwLock } = await import('../../../../src/adapters/aws/identity-center/async-tools.js');
    const lock = new KeyedRwLock();
    const log: string[] = [];
    const step = (name: string, ms: number) => async (): Promise<void> => {
      log.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}-`);
    };
    await Promise.all([lock.run('ps', 'shared', step('a', 20)), lock.run('ps', 'shared', step('b', 20)), lock.run('ps', 'exclusive', step('X', 10)), lock.run('ps', 'shared', step('c', 5)), lock.run('other', 'exclusive', step('o', 1))]);
    expect(log.slice(0, 2).sort()).toEqual(['a+', 'b+']);
    const x = log.indexOf('X+');
    expect(log.indexOf('a-')).toBeLessThan(x);
    expect(log.indexOf('b-')).toBeLessThan(x);
    expect(log[x + 1]).toBe('X-');
    expect(log.indexOf('c+')).toBeGreaterThan(x);
    expect(log.indexOf('o+')).toBeLessThan(x);
  });
});
