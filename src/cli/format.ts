/** Small text-formatting helpers for the terminal. */

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export const formatCount = (n: number): string => n.toLocaleString('en-US');

export function formatRate(rows: number, seconds: number): string {
  if (seconds <= 0) return '-';
  const rate = rows / seconds;
  return rate >= 1000
    ? `${(rate / 1000).toFixed(rate >= 100_000 ? 0 : 1)}k rows/s`
    : `${Math.round(rate)} rows/s`;
}

/** Renders rows as a plain text table; `align` says which columns are right-aligned. */
export function textTable(header: string[], rows: string[][], rightAligned: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
