/**
 * The daemon as a process: SIGTERM mid-run aborts the run and exits 0 within the bound; past the
 * grace period it exits anyway; SIGHUP with a broken config keeps the old one; a second daemon on
 * the same journal exits LOCKED (5).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/shell/exit-codes.js';
import { waitFor } from './fake-run.js';

const ENTRY = join(import.meta.dirname, 'fixtures', 'daemon-entry.ts');
let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolemap-signals-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; at: number }>;
  records: () => Record<string, unknown>[];
}

function startDaemon(config: object, name = 'a'): Started {
  const configPath = join(dir, `${name}.json`);
  const recordPath = join(dir, `${name}.jsonl`);
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, configPath, recordPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  const records = (): Record<string, unknown>[] =>
    existsSync(recordPath) ? readFileSync(recordPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  return { child, lines, stderr: () => err, exited, records };
}

const settings = (journal: string, over: object = {}) => ({ schedule: '* * * * * *', journalPath: journal, runAtStart: true, healthPort: 0, logLevel: 'info', ...over });

describe('daemon process signals', () => {
  it('SIGTERM mid-run: aborts the run, which ends interrupted, and exits 0 within the bound', async () => {
    const journal = join(dir, 'journal.db');
    const d = startDaemon({ settings: settings(journal), runMs: 60_000 });
    await waitFor(() => d.records().some((r) => r['event'] === 'started'), 20_000, 'the run to start');
    const runId = d.records()[0]?.['runId'];
    expect(existsSync(`${journal}.lock`)).toBe(true);
    const sentAt = Date.now();
    d.child.kill('SIGTERM');
    const { code, at } = await d.exited;
    expect(code).toBe(0);
    expect(at - sentAt).toBeLessThan(10_000);
    expect(d.records().map((r) => r['event'])).toEqual(['started', 'aborted', 'finished']);
    expect(d.records()[2]).toMatchObject({ runId, outcome: 'interrupted' });
    expect(String(d.records()[1]?.['reason'])).toContain('SIGTERM');
    // Every line of the run carries its id; the lock is gone.
    expect(d.lines.find((l) => l['fixture'] === true)?.['runId']).toBe(runId);
    expect(d.lines.find((l) => l['msg'] === 'run summary')).toMatchObject({ runId, outcome: 'interrupted' });
    expect(existsSync(`${journal}.lock`)).toBe(false);
  });

  it('exits 0 anyway, with a log line, when the run does not stop within the grace period', async () => {
    const d = startDaemon({ settings: settings(join(dir, 'journal.db')), runMs: 60_000, ignoreAbort: true, graceMs: 500 });
    await waitFor(() => d.records().some((r) => r['event'] === 'started'), 20_000, 'the run to start');
    const sentAt = Date.now();
    d.child.kill('SIGTERM');
    const { code, at } = await d.exited;
    expect(code).toBe(0);
    expect(at - sentAt).toBeLessThan(5_000);
    expect(d.lines.some((l) => String(l['msg']).startsWith('the run did not stop within the grace period'))).toBe(true);
  });

  it('SIGHUP with a broken config keeps the old one; a second daemon on the journal exits LOCKED', async () => {
    const journal = join(dir, 'journal.db');
    const a = startDaemon({ settings: settings(journal, { schedule: '*/2 * * * * *' }), runMs: 10 });
    await waitFor(() => a.lines.some((l) => l['msg'] === 'rolemap daemon started'), 20_000, 'start');
    const b = startDaemon({ settings: settings(journal), runMs: 10 }, 'b');
    expect((await b.exited).code).toBe(EXIT.LOCKED);
    expect(b.stderr()).toContain(`locked by pid ${a.child.pid}`);

    writeFileSync(join(dir, 'a.json'), '{ "settings": ');
    a.child.kill('SIGHUP');
    await waitFor(() => a.lines.some((l) => String(l['msg']).startsWith('config reload failed; keeping the running config')), 10_000, 'the reload to fail');
    const runsBefore = a.records().filter((r) => r['event'] === 'finished').length;
    await waitFor(() => a.records().filter((r) => r['event'] === 'finished').length > runsBefore, 10_000, 'another run on the old config');
    a.child.kill('SIGINT');
    expect((await a.exited).code).toBe(0);
  });
});
