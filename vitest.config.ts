import { defineConfig } from 'vitest/config';

// Three projects: `unit` (core, adapters against the AWS emulator and SQLite files, shell, the
// installed package; test/support/build-dist.ts builds dist/ first when stale), `samba` (the
// directory source against a real Samba AD DC that test/samba/global-setup.ts starts) and `browser`
// (the HTML review pages in Debian's headless Chromium, found or installed by test/browser/global-setup.ts).
// The SDK warns once per process that its releases from 2027 need Node 22; the lockfile pins one that
// runs on Node 20. Quiet in tests (and the child processes they start), where it is only noise.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/samba/**', 'test/browser/**', 'node_modules/**'],
          // Builds dist/ (what `node bin/rolemap.js` runs) when it is stale against src/.
          globalSetup: ['test/support/build-dist.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'samba',
          include: ['test/samba/**/*.test.ts'],
          // Its end-to-end tests run `rolemap daemon` from dist/ too.
          globalSetup: ['test/support/build-dist.ts', 'test/samba/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
