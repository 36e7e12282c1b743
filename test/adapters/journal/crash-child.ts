/**
 * Run by crash.test.ts as a child process: applies a three-change plan through the journal's hooks
 * with a target whose second call never returns, says so on stdout, and waits to be SIGKILLed.
 * Usage: node --import tsx crash-child.ts JOURNAL_FILE
 */
import { SqliteJournal } from '../../../src/adapters/journal/index.js';
import { PROD, changeOf, planOf, role, runStart } from './fixtures.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: crash-child.ts JOURNAL_FILE');

const journal = SqliteJournal.open(file);
journal.startRun(runStart('doomed', '2026-04-01T12:00:00.000Z'));
const plan = planOf([changeOf(1, 'create', role(PROD, 'First')), changeOf(2, 'create', role(PROD, 'Second')), changeOf(3, 'create', role(PROD, 'Third'))]);
journal.recordPlan('doomed', plan);
const hooks = journal.hooks('doomed');

/** The AWS call: the first answers, the second hangs (the process is killed while it is in flight). */
async function callAws(seq: number): Promise<string> {
  if (seq === 1) return 'req-first';
  process.stdout.write(`IN-FLIGHT ${seq}\n`);
  return new Promise<string>(() => {
    setInterval(() => undefined, 1_000);
  });
}

for (const change of plan.changes) {
  hooks.preApply?.(change);
  const requestId = await callAws(change.seq);
  hooks.postApply?.(change, { requestIds: [requestId] });
}
