/**
 * `rolemap validate`: checks the configuration and role map offline (no directory, no AWS).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { configPathFrom, loadConfig, type LoadedConfig } from '../config/index.js';
import type { CliContext } from './context.js';
import { whyNotWritable } from '../preflight/paths.js';

export const CONFIG_OPTION_HELP = 'configuration file (default: $ROLEMAP_CONFIG, else ./rolemap.yaml)';

/** Things that are valid but will fail at run time here: reported, not fatal. */
export function offlineWarnings(config: LoadedConfig, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  const d = config.directory;
  if (d.type === 'ldif' && !existsSync(d.path)) out.push(`directory.path: ${d.path} does not exist`);
  if (d.type === 'ldap') {
    if (d.caFile !== undefined && !existsSync(d.caFile)) out.push(`directory.caFile: ${d.caFile} does not exist`);
    const ref = d.bindPassword;
    if ('env' in ref && (env[ref.env] ?? '') === '') out.push(`directory.bindPassword: environment variable ${ref.env} is not set here`);
    if ('file' in ref && !existsSync(ref.file)) out.push(`directory.bindPassword: ${ref.file} does not exist`);
    if ('credential' in ref) {
      const dir = env['CREDENTIALS_DIRECTORY'];
      if (dir === undefined || dir === '') out.push(`directory.bindPassword: systemd credential ${ref.credential}: $CREDENTIALS_DIRECTORY is not set here (systemd sets it for LoadCredential=${ref.credential}:PATH)`);
      else if (!existsSync(join(dir, ref.credential))) out.push(`directory.bindPassword: systemd credential ${ref.credential} is not in ${dir}`);
    }
    if (d.allowInsecure && d.url.startsWith('ldap://') && !d.startTls) out.push('directory.allowInsecure: the bind password will cross the network in clear');
  }
  const journal = whyNotWritable(config.journal.path, 'journal.path');
  if (journal !== null) out.push(journal);
  return out;
}

export function summarize(config: LoadedConfig): string {
  const rm = config.roleMap;
  const ic = rm.identityCenter;
  const source = config.directory.type === 'ldap' ? config.directory.url : `ldif ${config.directory.path}`;
  return [
    `Configuration OK: ${config.path}`,
    `  directory: ${source}`,
    `  accounts: ${rm.accounts.length}; federated roles: ${rm.federatedRoles.length}; role patterns: ${rm.federatedRolePatterns.length}`,
    ic ? `  identity center: ${ic.permissionSets.length} permission sets, ${ic.assignments.length} assignments` : '  identity center: not configured',
    `  owner id: ${rm.safety.ownerId}; schedule: ${config.schedule}; journal: ${config.journal.path}`,
    `  sha256: ${config.hash}`,
  ].join('\n');
}

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('Check the configuration and role map offline; exit 0 when valid, 1 otherwise.')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .action((opts: { config?: string }) => {
      const config = loadConfig(configPathFrom(opts.config, ctx.env));
      ctx.stdout.write(`${summarize(config)}\n`);
      for (const w of offlineWarnings(config, ctx.env)) ctx.stderr.write(`warning: ${w}\n`);
    });
}
