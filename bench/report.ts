/**
 * Benchmark results: the machine they ran on, one row per suite, a plain terminal table and
 * the JSON document other tools track over time. The JSON field names are an interface
 * (`{machine, suites: [{name, opsPerSec, meanMs, p50Ms, p99Ms, maxMs, rssMb, floorRatio,
 * samples, extra?, driver?, vsUpstream?}]}`); keep them stable (add, never rename).
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import hdr from 'hdr-histogram-js';
import type { DriverName } from './driver-under-test.js';

export interface SuiteResult {
  name: string;
  opsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Resident set size of the process under test (the driver where there is one), MiB. */
  rssMb: number | null;
  /** p50 of this suite divided by p50 of its floor (the same work done as bare as Node allows). */
  floorRatio: number | null;
  samples: number;
  /** Figures particular to a suite (errors, peak in-flight, ...). */
  extra?: Record<string, number | string>;
  /** With `--compare upstream` (or `bench:check --against`): whose driver the row measured (a row without it is ours). */
  driver?: DriverName;
  /**
   * With `--compare upstream`, on our rows that upstream has a row of the same name for:
   * ours / upstream (below 1 means ours is faster or smaller); null where a side has no such
   * figure. `totalMs` for storms (the time until all publishes were done).
   */
  vsUpstream?: { p50: number | null; rss: number | null; totalMs?: number | null };
  /** What the HTML report draws; never written to the JSON document. */
  trace?: RowTrace;
}

/** Raw series behind a row, for the charts of bench/html-report.ts. */
export interface RowTrace {
  /** Every latency sample, ms. */
  latenciesMs?: number[];
  /** When each publish of a storm completed, ms since the storm was fired. */
  completionsMs?: number[];
  /** The driver's RSS during a storm: [ms since the storm was fired, MiB]. */
  rss?: Array<[number, number]>;
}

export interface MachineInfo {
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  hostname: string;
  date: string;
  root: boolean;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    hostname: os.hostname(),
    date: new Date().toISOString(),
    root: process.getuid?.() === 0,
  };
}

/** A suite row from raw latency samples (ms), with percentiles from an HDR histogram (µs resolution). */
export function fromSamples(name: string, samplesMs: number[]): Omit<SuiteResult, 'rssMb' | 'floorRatio'> {
  if (samplesMs.length === 0) throw new Error(`benchmark ${name} has no samples`);
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  for (const ms of samplesMs) h.recordValue(Math.max(1, Math.round(ms * 1000)));
  const meanMs = samplesMs.reduce((a, b) => a + b, 0) / samplesMs.length;
  const maxMs = Math.max(...samplesMs);
  // HDR buckets round up within 0.1%; never report a percentile above the largest sample.
  return {
    name,
    opsPerSec: 1000 / meanMs,
    meanMs,
    p50Ms: Math.min(maxMs, h.getValueAtPercentile(50) / 1000),
    p99Ms: Math.min(maxMs, h.getValueAtPercentile(99) / 1000),
    maxMs,
    samples: samplesMs.length,
    trace: { latenciesMs: samplesMs },
  };
}

const fmt = (n: number | null, digits = 3) => (n === null ? '-' : n >= 100 ? n.toFixed(0) : n.toFixed(digits));

export function formatTable(suites: SuiteResult[]): string {
  const compared = suites.some((s) => s.driver !== undefined);
  const header = ['suite', ...(compared ? ['driver'] : []), 'ops/s', 'mean ms', 'p50 ms', 'p99 ms', 'max ms', 'rss MiB', 'x floor', 'n', ...(compared ? ['p50 vs up', 'rss vs up'] : [])];
  const rows = suites.map((s) => [
    s.name,
    ...(compared ? [s.driver ?? 'ours'] : []),
    fmt(s.opsPerSec, 0),
    fmt(s.meanMs),
    fmt(s.p50Ms),
    fmt(s.p99Ms),
    fmt(s.maxMs),
    fmt(s.rssMb, 1),
    fmt(s.floorRatio, 2),
    String(s.samples),
    ...(compared ? [fmt(s.vsUpstream?.p50 ?? null, 2), fmt(s.vsUpstream?.rss ?? null, 2)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Writes `{machine, suites, ...extra}` (`extra`: further top-level fields, e.g. bench:check's `against`). */
export async function writeJson(path: string, machine: MachineInfo, suites: SuiteResult[], extra: Record<string, unknown> = {}): Promise<void> {
  const rows = suites.map(({ trace: _trace, ...row }) => row);
  await writeFile(path, `${JSON.stringify({ machine, suites: rows, ...extra }, null, 2)}\n`);
}
