/**
 * The browser project's Chromium lookup: a missing browser fails a CI run and skips a developer's run
 * (naming the apt package either way); a present one runs. Runs whether or not Chromium is installed.
 */
import { describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, chromiumDecision, ensureChromium } from '../support/chromium.js';

describe('Chromium lookup for the browser tests', () => {
  const missing = ensureChromium(() => undefined, { path: '/nonexistent/chromium', install: false });

  it('a missing browser is not ok and names the package to install', () => {
    expect(missing).toEqual({ ok: false, why: "/nonexistent/chromium is missing; install Debian's chromium with: apt-get install -y chromium" });
  });

  it('missing: CI=true fails, a developer run skips', () => {
    expect(chromiumDecision(missing, { CI: 'true' })).toEqual({ fail: expect.stringMatching(/^CI=true and no headless Chromium for the browser tests: \/nonexistent\/chromium is missing/) });
    expect(chromiumDecision(missing, {})).toEqual({ skip: expect.stringContaining('apt-get install -y chromium') });
    expect(chromiumDecision(missing, { CI: 'false' })).toHaveProperty('skip');
  });

  it('present: runs, in CI or not', () => {
    expect(chromiumDecision({ ok: true, path: CHROMIUM_PATH }, { CI: 'true' })).toEqual({ run: CHROMIUM_PATH });
    expect(chromiumDecision({ ok: true, path: CHROMIUM_PATH }, {})).toEqual({ run: CHROMIUM_PATH });
  });
});
