/**
 * `npm run demo`: rolemap end to end on a fresh machine, with no AWS account and no Active Directory.
 *
 * It starts the local AWS emulator (test/aws-emulator) on a free loopback port, sets up what an
 * administrator would have set up by hand (the ADFS SAML provider in each account), copies the demo
 * config and directory snapshot (config/demo/) into a work folder, and then runs the real `rolemap`
 * command line against it, pointing the AWS SDK at the emulator with AWS_ENDPOINT_URL:
 *
 *   1. validate the config          4. plan again: no changes
 *   2. plan (dry run)               5. a leaver: disable juergen.mueller in the snapshot, plan and apply
 *   3. apply                        6. the journal of what happened, and where it is
 *
 * The command line it runs is the compiled one, `node bin/rolemap.js` (dist/), as installed on a
 * bastion; it builds dist/ first when it is stale against src/ (the emulator runs from test/ through tsx).
 *
 * ROLEMAP_DEMO_DIR chooses the work folder (default: .rolemap/demo-<time> in the current folder).
 */

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { startEmulator } from '../test/aws-emulator/index.js';
import { adminIam, provisionRolemapPrincipal } from '../test/support/rolemap-principal.js';
import { ensureDist } from './dist.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'rolemap.js');
if (ensureDist(root).built) console.log('(built dist/, the compiled command line, from src/)');
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
const work = resolve(process.env['ROLEMAP_DEMO_DIR'] ?? join('.rolemap', `demo-${stamp}`));
const bold = (s: string): string => (process.stdout.isTTY && !process.env['NO_COLOR'] ? `\u001b[1m${s}\u001b[0m` : s);

mkdirSync(work, { recursive: true });
copyFileSync(join(root, 'config/demo/rolemap.yaml'), join(work, 'rolemap.yaml'));
copyFileSync(join(root, 'config/demo/directory.ldif'), join(work, 'directory.ldif'));
const config = join(work, 'rolemap.yaml');
const journal = join(work, 'journal.db');

// The administrator's credentials (the emulator's base user); rolemap gets a user of its own below.
const admin = { accessKeyId: 'AKIADEMODEMODEMODEMO', secretAccessKey: 'demo-secret-not-real' };
const emulator = await startEmulator({ homeAccount: '111111111111', baseCredentials: [admin], memberAccounts: ['222222222222'] });
const setup = { endpoint: emulator.url, region: 'eu-west-1', admin };
const env: Record<string, string | undefined> = {
  ...process.env,
  AWS_ENDPOINT_URL: emulator.url,
  AWS_REGION: 'eu-west-1',
  NO_COLOR: process.env['NO_COLOR'] ?? '',
  // The SDK warns once per process that its 2027 releases need Node 22; the lockfile pins a release that runs on 20.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
delete env['AWS_PROFILE'];
delete env['AWS_SESSION_TOKEN'];

function step(title: string): void {
  console.log(`\n${bold(`━━ ${title}`)}`);
}

/** Steps whose exit code was not the one the story expects; the demo ends with exit code 1 when there are any. */
const surprises: string[] = [];

/**
 * Runs the real CLI in a child process (the emulator answers from this one) and shows its output.
 * `expected` is the exit code the story expects (0 nothing to change, 2 changes planned or applied).
 */
async function rolemap(expected: number, ...args: string[]): Promise<number> {
  console.log(bold(`$ rolemap ${args.join(' ')}`));
  const { spawn } = await import('node:child_process');
  return await new Promise<number>((resolveExit, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'], cwd: work });
    child.on('error', reject);
    child.on('exit', (code) => {
      console.log(`(exit code ${code})`);
      if (code !== expected) surprises.push(`rolemap ${args.join(' ')}: exit code ${code}, expected ${expected}`);
      resolveExit(code ?? 1);
    });
  });
}

try {
  step('0. An administrator set up ADFS: the SAML provider "ADFS" exists in both accounts');
  // What ADFS publishes at /FederationMetadata/2007-06/FederationMetadata.xml (the certificate is a placeholder).
  const certificate = Buffer.from('rolemap demo ADFS token-signing certificate (placeholder) '.repeat(20)).toString('base64');
  const metadata =
    '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://adfs.example.com/adfs/services/trust">' +
    '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing">' +
    `<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${certificate}</X509Certificate></X509Data></KeyInfo>` +
    '</KeyDescriptor><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.example.com/adfs/ls/"/>' +
    '</IDPSSODescriptor></EntityDescriptor>';
  for (const account of ['111111111111', '222222222222']) {
    const iam = await adminIam(setup, '111111111111', account);
    await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: metadata }));
    iam.destroy();
  }
  // rolemap's own identity holds exactly config/iam-policy.json: the user rolemap here, the role
  // rolemap-reconciler in prod (accounts.prod.assumeRoleArn). The emulator checks every signature and
  // authorizes every call, so a call outside that policy fails the demo.
  const rolemapKey = await provisionRolemapPrincipal({ ...setup, assumeRoleArns: ['arn:aws:iam::222222222222:role/rolemap-reconciler'] }, '111111111111');
  env['AWS_ACCESS_KEY_ID'] = rolemapKey.accessKeyId;
  env['AWS_SECRET_ACCESS_KEY'] = rolemapKey.secretAccessKey;
  console.log(`AWS emulator on ${emulator.url} (accounts 111111111111 and 222222222222, Identity Center in 111111111111)`);
  console.log(`rolemap acts as ${rolemapKey.userArn}, holding config/iam-policy.json`);
  console.log(`work folder: ${work}`);

  step('1. Validate the configuration and role map, offline');
  await rolemap(0, 'validate', '--config', config);

  step('2. What would rolemap do? (dry run: changes nothing anywhere)');
  await rolemap(2, 'reconcile', '--dry-run', '--config', config);

  step('3. Apply it');
  await rolemap(2, 'reconcile', '--auto-approve', '--config', config);

  step('4. Plan again: AWS now matches the directory');
  await rolemap(0, 'reconcile', '--dry-run', '--config', config);

  step('5. A leaver: juergen.mueller is disabled in Active Directory (userAccountControl 514)');
  const ldif = readFileSync(join(work, 'directory.ldif'), 'utf8');
  const disabled = ldif.replace(/(sAMAccountName: juergen\.mueller\n(?:[^\n]+\n)*?)userAccountControl: 512/, '$1userAccountControl: 514');
  if (disabled === ldif) throw new Error('demo: could not find juergen.mueller in the demo directory');
  writeFileSync(join(work, 'directory.ldif'), disabled);
  await rolemap(2, 'reconcile', '--dry-run', '--config', config);
  await rolemap(2, 'reconcile', '--auto-approve', '--config', config);

  step('6. The journal: every run, and every change made for the leaver');
  await rolemap(0, 'journal', 'runs', '--journal', journal);
  await rolemap(0, 'journal', 'list', '--journal', journal, '--user', 'juergen.mueller', '--status', 'applied');
  await rolemap(0, 'journal', 'verify', '--journal', journal);

  step('Done');
  console.log(`The journal is ${journal}`);
  console.log('Go on querying it, for example:');
  console.log(`  node bin/rolemap.js journal list --journal ${journal} --format table`);
  console.log(`  node bin/rolemap.js journal access --journal ${journal} --as-of now`);
  // What AWS looks like now, so the reader can go on planning against it after the demo ends.
  const state = join(work, 'emulator-state.json');
  writeFileSync(state, `${JSON.stringify(emulator.dump())}\n`, { mode: 0o600 });
  // rolemap's (fake) credentials go to files of their own, not to the terminal: the environment for
  // rolemap, and the key for the emulator to honour again (a saved state holds no secrets).
  const envFile = join(work, 'emulator.env');
  writeFileSync(
    envFile,
    `AWS_ENDPOINT_URL=http://127.0.0.1:4566\nAWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID=${env['AWS_ACCESS_KEY_ID'] ?? ''}\nAWS_SECRET_ACCESS_KEY=${env['AWS_SECRET_ACCESS_KEY'] ?? ''}\nAWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true\n`,
    { mode: 0o600 },
  );
  const keysFile = join(work, 'emulator-credentials.json');
  writeFileSync(keysFile, `${JSON.stringify([{ account: '111111111111', userName: 'rolemap', accessKeyId: env['AWS_ACCESS_KEY_ID'], secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] }])}\n`, { mode: 0o600 });
  console.log('To dry-run against this emulated AWS again (its ADFS SAML providers are in the saved state: rolemap never creates SAML providers):');
  console.log(`  node --import tsx test/aws-emulator/main.ts --port 4566 --state ${state} --credentials ${keysFile} &`);
  console.log(`  (set -a; . ${envFile}; node bin/rolemap.js reconcile --dry-run --config ${config})`);
  if (surprises.length > 0) {
    console.error(`\nThe demo did not go as it should:\n${surprises.map((s) => `  ${s}`).join('\n')}`);
    process.exitCode = 1;
  }
} finally {
  await emulator.stop();
}

