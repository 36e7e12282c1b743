import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/shell/config/index.js';

const BASE = `directory: {type: ldif, path: d.ldif}
aws: {region: us-east-1}
accounts: {prod: {id: "111111111111"}}
safety: {ownerId: t}
`;

describe('config: ha (active/standby)', () => {
  it('takes the lease settings, defaulting the key, 60 s and the host name as node id', () => {
    const c = parseConfig(`${BASE}ha: {bucket: rolemap-lease}\n`, '/etc/rolemap/rolemap.yaml');
    expect(c.ha).toEqual({ bucket: 'rolemap-lease', key: 'rolemap/lease.json', leaseSeconds: 60, nodeId: hostname().slice(0, 64) });
    expect(parseConfig(BASE, '/etc/rolemap/rolemap.yaml').ha).toBeUndefined();
  });

  it('refuses a lease shorter than the minimum, naming the line', () => {
    let error: unknown;
    try {
      parseConfig(`${BASE}ha:\n  bucket: rolemap-lease\n  leaseSeconds: 1\n`, '/etc/rolemap/rolemap.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/rolemap\.yaml:7:\d+.*ha\.leaseSeconds/s);
  });
});
