import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, SECRET_KEYS } from '../../src/shell/logging.js';

/** A logger writing into an array of parsed JSON lines. */
function capture(level: 'info' | 'debug' | 'warn' = 'info') {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw += chunk.toString('utf8');
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level, destination }), lines, raw: () => raw };
}

const BIND_PASSWORD = 'Sup3r-Secret-Bind!';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN';

describe('logger redaction', () => {
  it('redacts secrets at the top level, nested in config, in SDK-shaped credentials and in headers', () => {
    const { log, lines, raw } = capture();
    log.info({ bindPassword: BIND_PASSWORD }, 'top');
    log.info({ config: { directory: { ldap: { bindPassword: BIND_PASSWORD, url: 'ldaps://dc1' } } } }, 'nested');
    log.info({ credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN } }, 'creds');
    log.info({ response: { Credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: SECRET_KEY, SessionToken: SESSION_TOKEN } } }, 'sts');
    log.info({ request: { headers: { authorization: `AWS4-HMAC-SHA256 Credential=AKIA/${SECRET_KEY}`, 'x-amz-security-token': SESSION_TOKEN } } }, 'http');
    log.info({ env: { AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_SESSION_TOKEN: SESSION_TOKEN } }, 'env');

    const text = raw();
    for (const secret of [BIND_PASSWORD, SECRET_KEY, SESSION_TOKEN, 'AKIAEXAMPLE', 'ASIAEXAMPLE']) expect(text).not.toContain(secret);
    expect(lines).toHaveLength(6);
    expect(lines[0]?.['bindPassword']).toBe(REDACTED);
    const nested = lines[1]?.['config'] as { directory: { ldap: { bindPassword: string; url: string } } };
    expect(nested.directory.ldap.bindPassword).toBe(REDACTED);
    expect(nested.directory.ldap.url).toBe('ldaps://dc1'); // what is not secret stays
    expect(lines[2]?.['credentials']).toBe(REDACTED);
    const headers = (lines[4]?.['request'] as { headers: Record<string, string> }).headers;
    expect(headers['authorization']).toBe(REDACTED);
    expect(headers['x-amz-security-token']).toBe(REDACTED);
  });

  it('redacts in child loggers (the per-run logger) and keeps the run id', () => {
    const { log, lines, raw } = capture();
    log.child({ runId: 'r-1' }).warn({ password: BIND_PASSWORD, account: '111111111111' }, 'bind failed');
    expect(raw()).not.toContain(BIND_PASSWORD);
    expect(lines[0]).toMatchObject({ runId: 'r-1', password: REDACTED, account: '111111111111', level: 'warn', msg: 'bind failed' });
  });

  it('honours the level and writes one JSON object per line with an ISO time', () => {
    const { log, lines } = capture('warn');
    log.info('hidden');
    log.warn('shown');
    expect(lines.map((l) => l['msg'])).toEqual(['shown']);
    expect(String(lines[0]?.['time'])).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('covers the secret keys the brief names', () => {
    for (const k of ['bindPassword', 'password', 'secretAccessKey', 'sessionToken', 'authorization']) expect(SECRET_KEYS).toContain(k);
  });
});
