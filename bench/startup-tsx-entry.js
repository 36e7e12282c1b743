#!/usr/bin/env node
// bin/rolemap.js as it was before issue 13: registers tsx and runs the TypeScript sources, which tsx
// transpiles at start-up and caches in $TMPDIR/tsx-<uid>. Kept only so `npm run bench startup` can
// compare; never ship or run this as root (a local user can plant that cache).
/* global process */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/shell/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
