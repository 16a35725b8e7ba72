/**
 * Conformance results as people and CI read them, in the shape of the scenario reports: a
 * plain table (group, check, result, duration, evidence), JUnit XML (one testsuite per
 * group, one testcase per check, the evidence as the failure text or system-out) and JSON.
 */
import { writeFile } from 'node:fs/promises';
import type { CheckResult, KitResult } from './check.js';

const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);
const mark = (r: CheckResult['result']) => (r === 'passed' ? 'pass' : r === 'failed' ? 'FAIL' : 'skip');

export function formatKitTable(run: KitResult): string {
  const rows = run.checks.map((c) => [c.group, c.id, mark(c.result), ms(c.durationMs), c.evidence.replace(/\s+/g, ' ')]);
  const header = ['group', 'check', 'result', 'duration', 'evidence'];
  const widths = header.map((h, i) => Math.min(i === 4 ? 160 : 40, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const cell = (c: string, i: number) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!));
  const line = (cells: string[]) => cells.map(cell).join('  ').trimEnd();
  const count = (r: CheckResult['result']) => run.checks.filter((c) => c.result === r).length;
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped of ${run.checks.length} ${run.kit} checks against ${run.target} in ${ms(run.durationMs)}: ${run.interrupted ? 'INTERRUPTED' : run.passed ? 'CONFORMS' : 'DOES NOT CONFORM'}`,
  ].join('\n');
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd]/gu, '');

function testcase(c: CheckResult): string {
  const props = Object.entries(c.figures).map(([k, v]) => `        <property name="${xml(k)}" value="${xml(String(v))}"/>`);
  const body = [
    ...(props.length ? ['      <properties>', ...props, '      </properties>'] : []),
    ...(c.result === 'skipped' ? [`      <skipped message="${xml(c.skipReason ?? c.evidence)}"/>`] : []),
    ...(c.result === 'failed'
      ? [`      <failure message="${xml(c.evidence)}" type="ConformanceFailure">${xml([c.title, `expected: ${JSON.stringify(c.expected)}`, `seen: ${JSON.stringify(c.seen)}`].join('\n'))}</failure>`]
      : []),
    ...(c.result === 'passed' ? [`      <system-out>${xml(c.evidence)}</system-out>`] : []),
  ];
  return `    <testcase classname="${xml(c.group)}" name="${xml(`${c.id}: ${c.title}`)}" time="${(c.durationMs / 1000).toFixed(3)}">\n${body.join('\n')}\n    </testcase>`;
}

export function kitJunitXml(run: KitResult): string {
  const groups = [...new Set(run.checks.map((c) => c.group))];
  const suites = groups.map((g) => {
    const cs = run.checks.filter((c) => c.group === g);
    const n = (r: CheckResult['result']) => cs.filter((c) => c.result === r).length;
    const time = cs.reduce((a, c) => a + c.durationMs, 0) / 1000;
    return `  <testsuite name="${xml(`${run.kit} conformance: ${g}`)}" tests="${cs.length}" failures="${n('failed')}" errors="0" skipped="${n('skipped')}" time="${time.toFixed(3)}">\n${cs.map(testcase).join('\n')}\n  </testsuite>`;
  });
  const failures = run.checks.filter((c) => c.result === 'failed').length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="sscsi conformance ${xml(run.kit)} (${xml(run.target)})" tests="${run.checks.length}" failures="${failures}" time="${(run.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export async function writeKitReports(run: KitResult, files: { junit?: string | undefined; json?: string | undefined }): Promise<void> {
  if (files.junit) await writeFile(files.junit, kitJunitXml(run));
  if (files.json) await writeFile(files.json, `${JSON.stringify(run, null, 2)}\n`);
}
