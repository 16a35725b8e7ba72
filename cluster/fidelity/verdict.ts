/**
 * Judging the differences against the allow-list, and the table. A step is:
 *   same      — no difference, not on the list
 *   allowed   — differs, and every difference is covered by an entry of the list saying why
 *               (out of scope, or not fixed yet and by which branch)
 *   DIFFERENT — a difference no entry covers: a sim bug until shown otherwise
 *   STALE     — an entry of the list covers none of its differences any more: delete the
 *               entry (or narrow it) so the test tightens
 * An entry naming no step is an error too, so the list cannot rot.
 */
import type { AllowEntry } from './allow-list.js';
import type { StepResult } from './runner.js';

export type Verdict = 'same' | 'allowed' | 'DIFFERENT' | 'STALE';

export interface Judged {
  result: StepResult;
  verdict: Verdict;
  /** The step's allow-list entries. */
  entries: AllowEntry[];
  /** Differences no entry covers. */
  unexplained: string[];
  /** Entries that cover nothing any more. */
  stale: AllowEntry[];
}

export interface Judgement {
  judged: Judged[];
  /** Allow-list entries that name no step of the list. */
  unknownEntries: AllowEntry[];
  failures: Judged[];
}

const covers = (e: AllowEntry, difference: string) => !e.differences || e.differences.some((re) => re.test(difference));

/**
 * Each difference must be covered by one of the step's entries (an entry without
 * `differences` covers all of them); an entry that covers none is stale.
 */
export function judge(results: readonly StepResult[], allowList: readonly AllowEntry[]): Judgement {
  const judged = results.map((result): Judged => {
    const entries = allowList.filter((e) => e.id === result.step.id);
    const unexplained = result.differences.filter((d) => !entries.some((e) => covers(e, d)));
    const stale = entries.filter((e) => !result.differences.some((d) => covers(e, d)));
    const verdict: Verdict = unexplained.length > 0 ? 'DIFFERENT' : stale.length > 0 ? 'STALE' : entries.length > 0 ? 'allowed' : 'same';
    return { result, verdict, entries, unexplained, stale };
  });
  const ids = new Set(results.map((r) => r.step.id));
  const unknownEntries = allowList.filter((e) => !ids.has(e.id));
  return { judged, unknownEntries, failures: judged.filter((j) => j.verdict === 'DIFFERENT' || j.verdict === 'STALE') };
}

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

/** One row per step: id, exit codes, verdict, the command; then the details asked for. */
export function formatTable(j: Judgement, options: { details: 'failures' | 'all' } = { details: 'failures' }): string {
  const idW = Math.max(4, ...j.judged.map((x) => x.result.step.id.length));
  const lines = [`${pad('#', 3)} ${pad('step', idW)} ${pad('exit sim/real', 13)} ${pad('verdict', 9)} command`];
  j.judged.forEach((x, i) => {
    const exits = `${x.result.sim.raw.exitCode}/${x.result.real.raw.exitCode}`;
    lines.push(`${pad(String(i + 1), 3)} ${pad(x.result.step.id, idW)} ${pad(exits, 13)} ${pad(x.verdict, 9)} ${pad(x.result.title, 110)}`);
  });
  const count = (v: Verdict) => j.judged.filter((x) => x.verdict === v).length;
  lines.push(`${j.judged.length} steps: ${count('same')} same, ${count('allowed')} allowed differences, ${count('DIFFERENT')} unexplained differences, ${count('STALE')} stale allow-list entries`);
  for (const e of j.unknownEntries) lines.push(`allow-list entry ${e.id} names no step`);
  const detailed = j.judged.filter((x) => options.details === 'all' ? x.verdict !== 'same' : x.verdict === 'DIFFERENT' || x.verdict === 'STALE');
  for (const x of detailed) {
    lines.push('', `── ${x.result.step.id} (${x.verdict})`, `   ${x.result.title}`);
    for (const e of x.entries) lines.push(`   allowed [${e.kind}]${x.stale.includes(e) ? ' STALE, covers nothing now: delete or narrow it' : ''}: ${e.reason}`);
    for (const d of x.result.differences) lines.push(`   ${x.unexplained.includes(d) ? 'UNEXPLAINED ' : ''}${d}`);
    if (x.verdict === 'DIFFERENT') {
      for (const side of ['sim', 'real'] as const) {
        const raw = x.result[side].raw;
        lines.push(`   ${side} (exit ${raw.exitCode}) stdout: ${JSON.stringify(raw.stdout.slice(0, 600))}`, `   ${side} stderr: ${JSON.stringify(raw.stderr.slice(0, 600))}`);
      }
    }
  }
  return lines.join('\n');
}
