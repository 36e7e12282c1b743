/**
 * From a path in the parsed data (`['federatedRoles', 2, 'account']`) back to where it is written
 * in the YAML file, through yaml's Document (which keeps each node's source range) and LineCounter.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export type DataPath = readonly PropertyKey[];

export interface Position {
  readonly line: number;
  readonly column: number;
}

export function formatPath(path: DataPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/**
 * Where `path` is written. `at: 'key'` points at the key (for unknown keys); otherwise at the value.
 * When the path goes further than the file (a missing key), it points at the deepest node that exists.
 */
export function locate(doc: Document, counter: LineCounter, path: DataPath, at: 'key' | 'value' = 'value'): Position {
  let node: unknown = doc.contents;
  let keyNode: unknown = undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      keyNode = undefined;
      node = item;
    } else {
      break;
    }
  }
  const target = at === 'key' && keyNode !== undefined ? keyNode : node;
  const offset = rangeStart(target) ?? rangeStart(doc.contents) ?? 0;
  const pos = counter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
