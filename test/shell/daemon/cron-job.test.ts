/**
 * The cron job the posture report and access reviews share: a run never overlaps itself, the schedule is
 * replaced only when its expression changes, a failed run is logged and the next one runs, stop stops.
 */
import { describe, expect, it } from 'vitest';
import { CronJob } from '../../../src/shell/daemon/cron-job.js';
import { captureLogger } from './fake-run.js';

describe('CronJob', () => {
  it('runs once while a run is in progress, then again after it finished', async () => {
    const { log } = captureLogger();
    let calls = 0;
    let release: () => void = () => undefined;
    const job = new CronJob<string>('rolemap-test', async () => {
      calls++;
      await new Promise<void>((r) => (release = r));
    }, log);
    const first = job.runNow('a');
    const second = job.runNow('b');
    expect(second).toBe(first);
    release();
    await first;
    expect(calls).toBe(1);
    const third = job.runNow('c');
    expect(third).not.toBe(first);
    release();
    await third;
    expect(calls).toBe(2);
  });

  it('logs a run that throws and runs the next one', async () => {
    const { log, lines } = captureLogger();
    let calls = 0;
    const job = new CronJob<string>('rolemap-test', () => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve();
    }, log);
    await job.runNow('a');
    await job.runNow('a');
    expect(calls).toBe(2);
    expect(lines.filter((l) => l['msg'] === 'rolemap-test failed: boom')).toHaveLength(1);
  });

  it('replaces the schedule only when the expression changes, and stop clears it', () => {
    const { log } = captureLogger();
    const job = new CronJob<string>('rolemap-test', () => Promise.resolve(), log);
    const current = (): string => 'cfg';
    try {
      expect(job.schedule(null, current)).toBe(false);
      expect(job.schedule('0 6 * * *', current)).toBe(true);
      expect(job.schedule('0 6 * * *', current)).toBe(false);
      expect(job.schedule('0 7 * * *', current)).toBe(true);
      expect(job.schedule(null, current)).toBe(true);
      expect(job.schedule('0 7 * * *', current)).toBe(true);
      job.stop();
      expect(job.schedule('0 7 * * *', current)).toBe(true);
    } finally {
      job.stop();
    }
  });
});
