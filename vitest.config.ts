import { defineConfig } from 'vitest/config';

// Two projects: `unit` (core, adapters against the AWS emulator and SQLite files, shell) and
// `samba` (the directory source against a real Samba AD DC that test/samba/global-setup.ts starts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/samba/**', 'node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'samba',
          include: ['test/samba/**/*.test.ts'],
          globalSetup: ['test/samba/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
