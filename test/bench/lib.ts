/**
 * Shared pieces of the benchmarks: statistics, the machine description, output, and the figures
 * that RESULTS.md is made of. Benchmarks are programs (run by `npm run bench`), not tests: they print
 * to stdout through `say` and assert nothing.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';

/** The protocol's physical layer: 115200 baud 8N1 = 10 bits a byte. */
export const BAUD = 115_200;
export const BYTES_PER_S = BAUD / 10;

/** Time on the wire for `bytes` bytes at 115200 8N1, ms. */
export function wireMs(bytes: number): number {
  return (bytes * 10 * 1000) / BAUD;
}

export function say(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly p1: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    p1: percentile(s, 1),
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.at(-1) ?? Number.NaN,
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length),
  };
}

/** A duration in ms, with a unit that keeps 3 significant figures readable. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a < 1) return `${(x * 1000).toFixed(a < 0.01 ? 2 : 1)} us`;
  if (a < 100) return `${x.toFixed(3)} ms`;
  return `${x.toFixed(1)} ms`;
}

export function pct(x: number, digits = 3): string {
  return `${(x * 100).toFixed(digits)}%`;
}

export function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

export function dist(s: Summary, fmt: (x: number) => string = ms): string {
  return `p50 ${fmt(s.p50)}, p99 ${fmt(s.p99)}, max ${fmt(s.max)} (n=${s.n})`;
}

/** One measured figure for RESULTS.md. */
export interface Figure {
  readonly section: string;
  readonly name: string;
  readonly value: string;
  /** What it is compared with, measured (or computed) in the same run. */
  readonly reference: string;
  readonly goal?: string;
  readonly met?: boolean;
}

export class Figures {
  readonly list: Figure[] = [];
  add(f: Figure): void {
    this.list.push(f);
    const goal = f.goal === undefined ? '' : `   goal ${f.goal}: ${f.met ? 'MET' : 'NOT MET'}`;
    say(`  ${f.name}: ${f.value}`);
    say(`      vs ${f.reference}${goal}`);
  }
}

export interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly node: string;
  readonly os: string;
  readonly date: string;
  readonly loadavg: string;
}

export function machine(): Machine {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    cpu,
    node: process.version,
    os: `${process.platform} ${release()}`,
    date: new Date().toISOString(),
    loadavg: loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
}

/** Wait `ms` of real time (benchmarks only: tests use virtual time). */
export function sleep(msDelay: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msDelay));
}

/** Spin the CPU for `msBusy` ms (synchronous work). */
export function busy(msBusy: number): void {
  const end = performance.now() + msBusy;
  while (performance.now() < end) {
    // burn
  }
}

/** Options every benchmark receives. */
export interface BenchOptions {
  /** A fast smoke run (fewer trials, shorter runs): figures not for RESULTS.md. */
  readonly quick: boolean;
}
