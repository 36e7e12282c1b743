/**
 * Loads the one YAML configuration file: parse (yaml, keeping positions), validate (zod, strict),
 * cross-check and resolve (resolve.ts). Every problem becomes a `ConfigIssue` with file, line and
 * column; all the problems of a phase (YAML syntax, then shape, then cross-checks) are reported
 * together in one `ConfigError`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { formatPath, locate, type DataPath, type Position } from './positions.js';
import { resolveConfig } from './resolve.js';
import { configSchema } from './schema.js';
import type { LoadedConfig } from './types.js';

/** Default config path, relative to the working directory; `ROLEMAP_CONFIG` overrides it, `--config` overrides both. */
export const DEFAULT_CONFIG_PATH = './rolemap.yaml';

export function configPathFrom(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option ?? (env['ROLEMAP_CONFIG'] !== undefined && env['ROLEMAP_CONFIG'] !== '' ? env['ROLEMAP_CONFIG'] : DEFAULT_CONFIG_PATH);
}

export function loadConfig(path: string): LoadedConfig {
  const file = resolvePath(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file (give --config FILE or set ROLEMAP_CONFIG)' : `cannot read it (${code ?? String(e)})`;
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: why }], { cause: e });
  }
  return parseConfig(bytes.toString('utf8'), file, createHash('sha256').update(bytes).digest('hex'));
}

/** Parses config text as if read from `file` (absolute; relative paths in it resolve against its directory). */
export function parseConfig(text: string, file: string, hash = createHash('sha256').update(text).digest('hex')): LoadedConfig {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true, merge: true });
  const at = (pos: Position, path: DataPath, message: string): ConfigIssue => ({ file, line: pos.line, column: pos.column, path: formatPath(path), message });

  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        return { file, line: pos.line, column: pos.col, path: '', message: yamlMessage(e.code, e.message, text.slice(e.pos[0])) };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Too many alias expansions (a "billion laughs" document) or an unresolvable alias.
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: `cannot expand YAML aliases: ${e instanceof Error ? e.message : String(e)}` }], { cause: e });
  }
  if (data === null || data === undefined) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: 'the file is empty: expected a mapping with directory, aws, accounts and safety' }]);
  }

  const parsed = configSchema.safeParse(withoutExtensions(data));
  if (!parsed.success) {
    throw new ConfigError(sortIssues(parsed.error.issues.flatMap((i) => zodIssues(i, [], doc, counter, at))));
  }

  const result = resolveConfig(parsed.data, {
    file,
    hash,
    locate: (path) => locate(doc, counter, path),
    locateInString: (path, line, column) => positionInString(doc, counter, text, path, line, column),
  });
  if (!result.ok) {
    throw new ConfigError(sortIssues(result.issues.map((i) => at(i.position ?? locate(doc, counter, i.path), i.path, i.message))));
  }
  return result.config;
}

/**
 * Top-level keys starting with `x-` are ignored, as in Docker Compose: a place for YAML anchors
 * that roles share through merge keys (`<<: *admin`).
 */
export const EXTENSION_KEY = /^x-/;

function withoutExtensions(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([k]) => !EXTENSION_KEY.test(k)));
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

function yamlMessage(code: string, message: string, from: string): string {
  const first = (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') {
    const key = /^["']?([^"':\n]+)/.exec(from)?.[1]?.trim();
    return `duplicate key${key ? ` '${key}'` : ''}: each key may appear only once in a mapping`;
  }
  return `YAML syntax error: ${first}`;
}

type ZodIssue = z.core.$ZodIssue;

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function valueAt(doc: Document, path: DataPath): unknown {
  const node: unknown = doc.getIn(path as unknown[], true);
  if (isSeq(node)) return [];
  if (isMap(node)) return {};
  if (isScalar(node)) return node.value;
  return node;
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return `${typeof v === 'number' ? 'the number' : 'the value'} ${String(v)}`;
}

function zodIssues(
  issue: ZodIssue,
  prefix: DataPath,
  doc: Document,
  counter: LineCounter,
  at: (pos: Position, path: DataPath, message: string) => ConfigIssue,
): ConfigIssue[] {
  const path: DataPath = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => {
        const keyPath = [...path, k];
        return at(locate(doc, counter, keyPath, 'key'), keyPath, `unknown key '${k}'${expectedKeys(doc, path, k)}`);
      });
    case 'invalid_union': {
      // When exactly one alternative matches the value's type, its own problems are the useful ones.
      const matching = issue.errors.filter((branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0));
      const only = matching.length === 1 ? matching[0] : undefined;
      if (only !== undefined) return only.flatMap((b) => zodIssues(b, path, doc, counter, at));
      return [at(locate(doc, counter, path), path, issue.message === 'Invalid input' ? 'does not match any allowed form' : issue.message)];
    }
    case 'invalid_type': {
      const present = doc.hasIn(path as unknown[]);
      const generic = issue.message.startsWith('Invalid input');
      if (!present && path.length > 0) {
        const key = String(path[path.length - 1]);
        const expected = generic ? `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}` : issue.message;
        const parent = path.slice(0, -1);
        const pos = parent.length === 0 ? { line: 1, column: 1 } : locate(doc, counter, parent, 'key');
        return [at(pos, path, `missing required key '${key}' (${expected})`)];
      }
      const message = generic ? `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(valueAt(doc, path))}` : issue.message;
      return [at(locate(doc, counter, path), path, message)];
    }
    default:
      return [at(locate(doc, counter, path), path, issue.message)];
  }
}

/** ` (expected one of: a, b, c)`, from the keys the file's siblings and the schema allow. */
function expectedKeys(doc: Document, path: DataPath, unknown: string): string {
  const allowed = allowedKeysAt(path, doc.getIn(path as unknown[]) as unknown);
  if (allowed.length === 0) return '';
  // The nearest allowed key, if it is near enough to be a misspelling (longer keys allow more edits).
  const limit = Math.max(2, Math.floor(unknown.length / 4));
  const scored = allowed.map((a) => ({ a, d: editDistance(a.toLowerCase(), unknown.toLowerCase()) })).sort((x, y) => x.d - y.d);
  const close = scored[0] !== undefined && scored[0].d <= limit ? scored[0].a : undefined;
  return close !== undefined ? `; did you mean '${close}'?` : `; expected one of: ${allowed.join(', ')}`;
}

// Walks the zod schema along a data path to the object that holds the key, to list its keys.
function allowedKeysAt(path: DataPath, _value: unknown): string[] {
  let schema: unknown = configSchema;
  const unwrap = (s: unknown): unknown => {
    let cur = s as { _zod?: { def?: { type?: string; innerType?: unknown; in?: unknown } } };
    for (let i = 0; i < 10; i++) {
      const def = cur?._zod?.def;
      if (def && ['optional', 'default', 'nullable', 'prefault', 'readonly', 'nonoptional'].includes(def.type ?? '')) cur = def.innerType as typeof cur;
      else if (def?.type === 'pipe') cur = def.in as typeof cur;
      else break;
    }
    return cur;
  };
  const objectsOf = (s: unknown): Record<string, unknown>[] => {
    const def = (unwrap(s) as { _zod?: { def?: { type?: string; shape?: Record<string, unknown>; options?: unknown[] } } })?._zod?.def;
    if (def?.type === 'object' && def.shape) return [def.shape];
    if (def?.type === 'union' && def.options) return def.options.flatMap(objectsOf);
    return [];
  };
  for (const seg of path) {
    const def = (unwrap(schema) as { _zod?: { def?: { type?: string; element?: unknown; valueType?: unknown } } })?._zod?.def;
    if (def?.type === 'array' && typeof seg === 'number') schema = def.element;
    else if (def?.type === 'record') schema = def.valueType;
    else {
      const shape = objectsOf(schema).find((s) => Object.hasOwn(s, String(seg)));
      if (!shape) return [];
      schema = shape[String(seg)];
    }
  }
  return [...new Set(objectsOf(schema).flatMap((s) => Object.keys(s)))];
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * File position of (line, column) inside the content of the string scalar at `path`. Exact for block
 * scalars (`|`, `>` keeps lines only for `|`) and plain one-line strings; undefined otherwise (the
 * caller falls back to the scalar's own position and names the position inside the document).
 */
function positionInString(doc: Document, counter: LineCounter, text: string, path: DataPath, line: number, column: number): Position | undefined {
  const node = doc.getIn(path as unknown[], true);
  if (!isScalar(node) || !node.range) return undefined;
  const start = counter.linePos(node.range[0]);
  if (node.type === 'BLOCK_LITERAL') {
    // Content starts on the line after the indicator; its indentation is that of the first content line.
    const lines = text.split('\n');
    const first = lines[start.line] ?? '';
    const indent = first.length - first.trimStart().length;
    return { line: start.line + line, column: indent + column };
  }
  if ((node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE' || node.type === 'PLAIN') && line === 1 && !String(node.source ?? '').includes('\\')) {
    return { line: start.line, column: start.col + column - 1 + (node.type === 'PLAIN' ? 0 : 1) };
  }
  return undefined;
}
