/**
 * Output of the journal queries: `table` for people, `json` (one document), `jsonl` (one object a line,
 * for jq and SIEM imports) and `csv` (RFC 4180, for spreadsheets).
 */
export const FORMATS = ['table', 'json', 'csv', 'jsonl'] as const;
export type OutputFormat = (typeof FORMATS)[number];

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | null | undefined;
}

function cell(v: string | number | null | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r)).replace(/\s*\n\s*/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (values: readonly string[]): string => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

export function renderCsv<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  return [columns.map((c) => csvCell(c.header)), ...rows.map((r) => columns.map((c) => csvCell(cell(c.value(r)))))].map((l) => l.join(',')).join('\r\n') + '\r\n';
}

/** Renders rows: table and csv show `columns`; json and jsonl the whole objects. */
export function render<T>(rows: readonly T[], columns: readonly Column<T>[], format: OutputFormat): string {
  switch (format) {
    case 'table':
      return renderTable(rows, columns);
    case 'csv':
      return renderCsv(rows, columns);
    case 'json':
      return `${JSON.stringify(rows, null, 2)}\n`;
    case 'jsonl':
      return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  }
}
