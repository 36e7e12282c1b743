#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so no build step is needed.
/* global process */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/shell/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
