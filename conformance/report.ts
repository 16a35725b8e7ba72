/**
 * Conformance results as people and CI read them, in the shape of the scenario reports: a
 * plain table (group, check, result, duration, evidence), JUnit XML (one testsuite per
 * group, one testcase per check, the evidence as the failure text or system-out) and JSON.
 */
import { emitReports, junitDocument, ms, textTable, type ReportFiles } from '../harness/report-format.js';
import type { CheckResult, KitResult } from './check.js';

/** A failed check beyond upstream is an extension the target lacks, not a failure of the contract. */
const mark = (c: CheckResult) => (c.result === 'passed' ? 'pass' : c.result === 'skipped' ? 'skip' : c.beyondUpstream ? 'lacks' : 'FAIL');

/** The one-word conclusion, with the extensions lacked. */
export function verdictLine(run: KitResult): string {
  if (run.interrupted) return 'INTERRUPTED';
  if (!run.verdict.conforms) return `DOES NOT CONFORM (${run.verdict.failed.join(', ')})`;
  const lacked = run.verdict.extensionsLacked.map((e) => e.id);
  return lacked.length === 0 ? 'CONFORMS' : `CONFORMS, lacking ${lacked.length} extension(s) beyond upstream: ${lacked.join(', ')}`;
}

export function formatKitTable(run: KitResult): string {
  const rows = run.checks.map((c) => [c.group, c.id + (c.beyondUpstream ? ' *' : ''), mark(c), ms(c.durationMs), c.evidence.replace(/\s+/g, ' ')]);
  const header = ['group', 'check', 'result', 'duration', 'evidence'];
  const count = (r: CheckResult['result']) => run.checks.filter((c) => c.result === r).length;
  const beyond = run.checks.some((c) => c.beyondUpstream);
  return [
    ...textTable(header, rows, { maxWidths: [40, 40, 40, 40, 160], rightAlign: 3, truncate: true }),
    '',
    ...(beyond ? ['* beyond upstream v1.6: an extension of this project; failing it ("lacks") does not make a driver non-conforming', ''] : []),
    `${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped of ${run.checks.length} ${run.kit} checks against ${run.target} in ${ms(run.durationMs)}: ${verdictLine(run)}`,
  ].join('\n');
}

export function kitJunitXml(run: KitResult): string {
  const groups = [...new Set(run.checks.map((c) => c.group))];
  return junitDocument(
    `sscsi conformance ${run.kit} (${run.target})`,
    run.durationMs,
    groups.map((g) => {
      const checks = run.checks.filter((c) => c.group === g);
      return {
        name: `${run.kit} conformance: ${g}`,
        durationMs: checks.reduce((a, c) => a + c.durationMs, 0),
        cases: checks.map((c) => ({
          classname: c.group,
          name: `${c.id}: ${c.title}`,
          durationMs: c.durationMs,
          properties: c.beyondUpstream ? { ...c.figures, beyondUpstream: c.beyondUpstream } : c.figures,
          skipped: c.result === 'skipped' ? (c.skipReason ?? c.evidence) : undefined,
          failure: c.result === 'failed' ? { message: c.evidence, type: c.beyondUpstream ? 'ExtensionLacked' : 'ConformanceFailure', text: [c.title, `expected: ${JSON.stringify(c.expected)}`, `seen: ${JSON.stringify(c.seen)}`].join('\n') } : undefined,
          systemOut: c.result === 'passed' ? c.evidence : undefined,
        })),
      };
    }),
  );
}

/** The table on stdout, and the JUnit and JSON files asked for. */
export function emitKitReports(run: KitResult, files: ReportFiles): Promise<void> {
  return emitReports(formatKitTable(run), files, () => kitJunitXml(run), run);
}
