#!/usr/bin/env node
// rolemap's command line: the compiled JavaScript in dist/ (`npm run build`), run by plain node.
// Nothing is transpiled at start-up and nothing executable is written to or read from a temporary
// folder (issue 13). From a checkout, `npm run rolemap -- ARGS` runs the TypeScript sources instead.
/* global process, console, URL */
import { existsSync } from 'node:fs';

const entry = new URL('../dist/shell/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('rolemap: dist/ is not built. From a checkout, run `npm run build` first.');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
