#!/usr/bin/env node
// rolemap's command line: the compiled JavaScript in dist/ (`npm run build`), run by plain node.
// Nothing is transpiled at start-up and nothing executable is written to or read from a temporary
// folder (issue 13). From a checkout, `npm run rolemap -- ARGS` runs the TypeScript sources instead.
/* global process, console */
let main;
try {
  ({ main } = await import('../dist/shell/cli/main.js'));
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/shell/cli/main.js')) {
    console.error('rolemap: dist/ is not built. From a checkout, run `npm run build` first.');
    process.exit(1);
  }
  throw e;
}
process.exitCode = await main(process.argv.slice(2));
