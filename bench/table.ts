// One plain-text table: figure, value, target, mark. Rows without a target are for reading only.
/** A figure, or a section heading above the figures that follow it. */
export type Row = { section: string } | { name: string; value: string; target?: string; pass?: boolean };

export function renderTable(rows: Row[]): string {
  const head = ['Figure', 'Value', 'Target', ''];
  const cells = rows.map((r) => ('section' in r ? [r.section] : [`  ${r.name}`, r.value, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL']));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.filter((c) => c.length > 1).map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...cells.map((c) => (c.length === 1 ? c[0]! : line(c)))].join('\n');
}

export const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
export const perSecond = (v: number) => `${Math.round(v).toLocaleString('en-US')} req/s`;
export const us = (v: number | undefined) => (v === undefined ? 'n/a' : `${Math.round(v)} µs`);
export const mib = (v: number) => `${v.toFixed(1)} MiB`;
