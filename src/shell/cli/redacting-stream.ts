/**
 * What the command line prints passes through the journal's redactor: free text from outside (an
 * AWS or LDAP error message shown in a failure line, a log line, the top-level `Error: ...`) could
 * echo a secret, and the terminal, a CI log or journald keep it. The secrets are the values of
 * secret-looking environment variables, plus those the runtime resolves (the bind password, whatever
 * its variable is called), added as soon as they are known.
 */
import { makeRedactor, secretsFromEnv, type Redactor } from '../../adapters/journal/redact.js';

export class SecretScrubber {
  readonly #secrets = new Set<string>();
  #redact: Redactor = (t) => t;

  constructor(...envs: readonly NodeJS.ProcessEnv[]) {
    this.add(envs.flatMap((env) => secretsFromEnv(env)));
  }

  add(values: readonly string[]): void {
    const before = this.#secrets.size;
    for (const v of values) this.#secrets.add(v);
    if (this.#secrets.size !== before) this.#redact = makeRedactor([...this.#secrets]);
  }

  redact(text: string): string {
    return this.#redact(text);
  }

  /** `stream`, with every string or Buffer written to it redacted first; everything else (isTTY, on, end, ...) is the stream's own. */
  wrap<T extends NodeJS.WritableStream>(stream: T): T {
    const scrub = (chunk: unknown): unknown =>
      typeof chunk === 'string' ? this.redact(chunk) : Buffer.isBuffer(chunk) ? Buffer.from(this.redact(chunk.toString('utf8')), 'utf8') : chunk;
    return new Proxy(stream, {
      get(target, prop) {
        if (prop === 'write') return (chunk: unknown, ...rest: unknown[]) => (target.write as (...args: unknown[]) => boolean)(scrub(chunk), ...rest);
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
