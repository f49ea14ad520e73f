/**
 * Numbers for the report: exact percentiles over a sample buffer, and a plain-text table.
 */

/** A growable buffer of float samples (no per-sample allocation). */
export class Samples {
  private data: Float64Array;
  length = 0;

  /** @param capacity initial room, in samples; it doubles when full. */
  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /** Percentiles (nearest rank, q in 0..1) of everything pushed; NaN when empty. */
  percentiles(qs: readonly number[]): number[] {
    if (this.length === 0) return qs.map(() => Number.NaN);
    const sorted = this.data.slice(0, this.length).sort();
    return qs.map((q) => sorted[Math.min(this.length - 1, Math.max(0, Math.ceil(q * this.length) - 1))]!);
  }
}

/** A number with `digits` decimals, or '-' when it is not finite. */
export function fixed(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

/** An integer with thousands separators. */
export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
}

/** Bytes in KiB or MiB, whichever reads better. */
export function bytes(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  return abs >= 10 * 1024 * 1024 ? `${(value / 1024 / 1024).toFixed(1)} MiB` : `${(value / 1024).toFixed(1)} KiB`;
}

/** A ratio `a / b` as `0.87x`, or '-' when either side is missing. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : '-';
}

/** Renders rows as an aligned text table; the first row is the header. Numbers align right. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const [head, ...body] = rows;
  if (!head) return '';
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
