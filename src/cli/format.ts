// Small helpers for output a person reads in a terminal: aligned columns, times in UTC, error messages.
import { ConfigError } from '../config/env.js';

/** Rows of cells, each column padded to its widest cell; `indent` spaces before each row. */
export function table(rows: string[][], indent = 2): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => ' '.repeat(indent) + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** 2026-11-24T22:35:27.123Z -> 2026-11-24 22:35:27 */
export const when = (isoTime: string) => isoTime.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');

/** The problems an error stands for, each one line a person can act on. */
export function problemsOf(err: unknown): string[] {
  if (err instanceof ConfigError) return err.problems;
  // A client's "will try again" is the relay's worker speaking; here nothing retries on its own.
  return [(err instanceof Error ? err.message : String(err)).replace(/;? will try again( later)?\.$/, '.')];
}
