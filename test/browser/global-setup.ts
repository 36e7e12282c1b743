/**
 * The browser project's global setup: finds (or, as root, installs) Debian's headless Chromium and hands
 * its path to the tests with provide/inject. Without it a CI run (CI=true) fails; a developer's run
 * skips the browser tests, loudly, as ROLEMAP_SKIP_SAMBA=1 does for the AD tests.
 */
import type { TestProject } from 'vitest/node';
import { chromiumDecision, ensureChromium } from '../support/chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    chromium: string | null;
  }
}

const banner = (why: string): string =>
  [
    '',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '!!  No headless Chromium: the browser tests (HTML review packets) did NOT run. !!',
    '!!  The HTML packet and report are untested in this run.                      !!',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    `   ${why}`,
    '',
  ].join('\n');

export default function setup(project: TestProject): (() => void) | undefined {
  const decision = chromiumDecision(ensureChromium(), process.env);
  if ('run' in decision) {
    project.provide('chromium', decision.run);
    return undefined;
  }
  if ('fail' in decision) throw new Error(decision.fail);
  console.warn(banner(decision.skip));
  project.provide('chromium', null);
  return () => console.warn(banner(decision.skip));
}
