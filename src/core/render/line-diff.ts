/** A line diff (longest common subsequence) for policy documents in the plan: small inputs, simple code. */
export type DiffLine = { readonly op: ' ' | '-' | '+'; readonly text: string };

export function diffLines(before: readonly string[], after: readonly string[]): DiffLine[] {
  const n = before.length;
  const m = after.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as number[];
    const next = lcs[i + 1] as number[];
    for (let j = m - 1; j >= 0; j--) {
      row[j] = before[i] === after[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      out.push({ op: ' ', text: before[i++] as string });
      j++;
    } else if (((lcs[i + 1] as number[])[j] as number) >= ((lcs[i] as number[])[j + 1] as number)) {
      out.push({ op: '-', text: before[i++] as string });
    } else {
      out.push({ op: '+', text: after[j++] as string });
    }
  }
  while (i < n) out.push({ op: '-', text: before[i++] as string });
  while (j < m) out.push({ op: '+', text: after[j++] as string });
  return out;
}
