/**
 * Provisions (or reuses) and starts a Samba AD DC on loopback for the `samba` test project, hands the
 * connection facts to the tests with provide/inject, and stops it afterwards. ROLEMAP_SKIP_SAMBA=1
 * skips the AD tests, loudly.
 */
import type { TestProject } from 'vitest/node';
import { testDirectory } from './fixture-data.js';
import { ensureSambaInstalled, prepare, startSamba, stopSamba, type SambaFacts } from './samba-dc.js';

declare module 'vitest' {
  export interface ProvidedContext {
    samba: SambaFacts | null;
  }
}

const SKIP_BANNER = [
  '',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '!!  ROLEMAP_SKIP_SAMBA=1: the Active Directory (Samba) tests did NOT run.   !!',
  '!!  The LDAP directory source is untested in this run.                      !!',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '',
].join('\n');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env['ROLEMAP_SKIP_SAMBA'] === '1') {
    console.warn(SKIP_BANNER);
    project.provide('samba', null);
    return async () => {
      console.warn(SKIP_BANNER);
    };
  }
  ensureSambaInstalled();
  const facts = prepare(testDirectory());
  const started = await startSamba(facts);
  project.provide('samba', facts);
  return async () => {
    if (started) await stopSamba(facts.dir);
  };
}
