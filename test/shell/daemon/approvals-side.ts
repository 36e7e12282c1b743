/**
 * The daemon's side of an approval, as its own process (run as the daemon's user by
 * daemon-command.test.ts): `refuse RUN` records a refused plan the way the daemon does; `read`
 * prints the approval the daemon would apply next (JSON), or null.
 */
import { ApprovalStore } from '../../../src/shell/daemon/approvals.js';
import { plan } from './fake-run.js';

const [, , journal, what, runId] = process.argv;
if (journal === undefined) throw new Error('usage: approvals-side.ts JOURNAL refuse RUN | read');
const store = ApprovalStore.open(journal, { create: true });
try {
  if (what === 'refuse') store.recordRefusal(runId ?? 'run', plan(7, { code: 'deletion-threshold', message: '7 deletions exceed the threshold of 5' }));
  else process.stdout.write(`${JSON.stringify(store.unusedApproval()?.approval ?? null)}\n`);
} finally {
  store.close();
}
