/**
 * Where two normalised outcomes differ, as short lines a reader can act on: the exit codes,
 * stderr, and stdout — for objects, each path whose values differ (`.spec.dnsPolicy: sim
 * (absent), real "ClusterFirst"`); for text, the first lines that differ.
 */
import type { Json } from './normalise.js';

export interface Normalised {
  exitCode: number;
  stderr: string;
  /** Parsed and normalised when the step's output is an object and it parsed; else text. */
  stdout: { text: string } | { json: Json };
}

const show = (v: Json | undefined): string => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 160));

export function jsonDifferences(sim: Json | undefined, real: Json | undefined, path = '', out: string[] = []): string[] {
  if (JSON.stringify(sim) === JSON.stringify(real)) return out;
  const isObj = (v: Json | undefined): v is { [k: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(sim) && isObj(real)) {
    for (const k of [...new Set([...Object.keys(sim), ...Object.keys(real)])].sort()) jsonDifferences(sim[k], real[k], `${path}.${k}`, out);
    return out;
  }
  if (Array.isArray(sim) && Array.isArray(real) && sim.length === real.length) {
    sim.forEach((s, i) => jsonDifferences(s, real[i], `${path}[${i}]`, out));
    return out;
  }
  out.push(`${path || '.'}: sim ${show(sim)}, real ${show(real)}`);
  return out;
}

function textDifferences(what: string, sim: string, real: string): string[] {
  if (sim === real) return [];
  const a = sim.split('\n');
  const b = real.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && out.length < 6; i++) {
    if (a[i] !== b[i]) out.push(`${what} line ${i + 1}: sim ${JSON.stringify(a[i] ?? '(none)').slice(0, 200)}, real ${JSON.stringify(b[i] ?? '(none)').slice(0, 200)}`);
  }
  return out;
}

/** Every difference between the two sides' outcomes; empty when they are the same. */
export function differences(sim: Normalised, real: Normalised): string[] {
  const out: string[] = [];
  if (sim.exitCode !== real.exitCode) out.push(`exit code: sim ${sim.exitCode}, real ${real.exitCode}`);
  out.push(...textDifferences('stderr', sim.stderr, real.stderr));
  if ('json' in sim.stdout && 'json' in real.stdout) out.push(...jsonDifferences(sim.stdout.json, real.stdout.json).map((d) => `stdout ${d}`));
  else {
    const t = (s: Normalised['stdout']) => ('json' in s ? JSON.stringify(s.json, null, 2) : s.text);
    out.push(...textDifferences('stdout', t(sim.stdout), t(real.stdout)));
  }
  return out;
}
