import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, writeConfig } from './run-cli.js';

describe('rolemap validate', () => {
  it('accepts the example config: exit 0, a summary, and warnings for what is missing on this host', async () => {
    const r = await runCli(['validate', '--config', 'config/rolemap.example.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Configuration OK: ${resolve('config/rolemap.example.yaml')}`);
    expect(r.stdout).toContain('accounts: 3; federated roles: 2; role patterns: 1');
    expect(r.stdout).toContain('identity center: 2 permission sets, 2 assignments');
    expect(r.stderr).toContain('warning: directory.bindPassword: environment variable ROLEMAP_BIND_PASSWORD is not set here');
  });

  it('does not warn about a bind password that is set, and never prints it', async () => {
    const r = await runCli(['validate', '--config', 'config/rolemap.example.yaml'], { env: { ROLEMAP_BIND_PASSWORD: 'Tr0ub4dor&3' } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('ROLEMAP_BIND_PASSWORD');
    expect(r.stdout + r.stderr).not.toContain('Tr0ub4dor&3');
  });

  it('prints every problem with file:line:column and exits 1', async () => {
    const file = writeConfig(`directory: {type: ldif, path: d.ldif}
aws: {region: eu-west-1}
accounts: {prod: "123456789012"}
federatedRoles:
  - {group: {sAMAccountName: G}, account: staging, roleName: Admin, samlProvider: ADFS}
safety: {ownerId: t, maxDelete: 3}
`);
    const r = await runCli(['validate', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Error: invalid configuration (1 problem):');
    expect(r.stderr).toContain(`${file}:6:22: safety.maxDelete: unknown key 'maxDelete'; did you mean 'maxDeletes'?`);
  });

  it('reads the path from ROLEMAP_CONFIG when --config is not given', async () => {
    const file = writeConfig('directory: {type: ldif, path: d.ldif}\naws: {region: eu-west-1}\naccounts: {}\nsafety: {ownerId: t}\n');
    const r = await runCli(['validate'], { env: { ROLEMAP_CONFIG: file } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Configuration OK: ${file}`);
    expect(r.stderr).toContain(`warning: directory.path: ${file.replace('rolemap.yaml', 'd.ldif')} does not exist`);
  });

  it('defaults to ./rolemap.yaml and says how to point elsewhere', async () => {
    const r = await runCli(['validate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${resolve('rolemap.yaml')}: no such file (give --config FILE or set ROLEMAP_CONFIG)`);
  });
});
