/**
 * Scenario results as people and CI read them: a plain table (scenario, step, result,
 * duration, key figures), JUnit XML (one testsuite per scenario, one testcase per step)
 * and a JSON document. Skipped scenarios and steps carry the reason they were skipped.
 */
import { writeFile } from 'node:fs/promises';

export type StepOutcome = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  name: string;
  result: StepOutcome;
  durationMs: number;
  figures: Record<string, string | number>;
  failure?: { message: string; expected?: unknown; seen?: unknown; events?: string[] };
  /** Why a skipped step did not run. */
  skipReason?: string;
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** Every step that ran passed (false for a skipped scenario: see `skipped`). */
  passed: boolean;
  /** The whole scenario was skipped (it does not fail the run); `skipReason` says why. */
  skipped?: boolean;
  skipReason?: string;
  durationMs: number;
  steps: StepResult[];
}

export interface RunResult {
  target: string;
  /** The user's provider the scenarios ran against (`--provider`), if any. */
  externalProvider?: { name: string; socket: string };
  startedAt: string;
  durationMs: number;
  /** Nothing failed (skipped scenarios and steps do not count). */
  passed: boolean;
  scenarios: ScenarioResult[];
}

/** The reason of a step skipped because one before it failed. */
export const earlierStepFailed = 'an earlier step of the scenario failed';

const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);
const figuresText = (f: Record<string, string | number>) =>
  Object.entries(f)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v}`)
    .join(' ');

export function formatTable(run: RunResult): string {
  const rows = run.scenarios.flatMap((s) =>
    s.steps.map((st) => [s.name, st.name, st.result === 'passed' ? 'pass' : st.result === 'failed' ? 'FAIL' : 'skip', ms(st.durationMs), st.result === 'skipped' && st.skipReason ? `skipped: ${st.skipReason}` : figuresText(st.figures)]),
  );
  const header = ['scenario', 'step', 'result', 'duration', 'key figures'];
  const widths = header.map((h, i) => Math.min(i === 4 ? 200 : 70, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), '', summaryLine(run)].join('\n');
}

/** E.g. "5/7 scenarios passed, 2 skipped, 2 steps skipped on sim (external provider acme) in 20.1 s". */
export function summaryLine(run: RunResult): string {
  const total = run.scenarios.length;
  const passed = run.scenarios.filter((s) => s.passed).length;
  const skipped = run.scenarios.filter((s) => s.skipped).length;
  // Steps skipped for a reason of their own, in scenarios that ran (not after a failure).
  const skippedSteps = run.scenarios.filter((s) => !s.skipped).reduce((a, s) => a + s.steps.filter((st) => st.result === 'skipped' && st.skipReason !== earlierStepFailed).length, 0);
  const counts = [`${passed}/${total} scenarios passed`, ...(skipped ? [`${skipped} skipped`] : []), ...(skippedSteps ? [`${skippedSteps} step${skippedSteps > 1 ? 's' : ''} skipped`] : [])];
  const target = run.externalProvider ? `${run.target} (external provider ${run.externalProvider.name})` : run.target;
  return `${counts.join(', ')} on ${target} in ${ms(run.durationMs)}`;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd]/gu, '');

export function junitXml(run: RunResult): string {
  const suites = run.scenarios.map((s) => {
    const failures = s.steps.filter((st) => st.result === 'failed').length;
    const skipped = s.steps.filter((st) => st.result === 'skipped').length;
    const cases = s.steps.map((st) => {
      const props = Object.entries(st.figures).map(([k, v]) => `        <property name="${xml(k)}" value="${xml(String(v))}"/>`);
      const body = [
        ...(props.length ? ['      <properties>', ...props, '      </properties>'] : []),
        ...(st.result === 'skipped' ? [`      <skipped message="${xml(st.skipReason ?? earlierStepFailed)}"/>`] : []),
        ...(st.failure
          ? [
              `      <failure message="${xml(st.failure.message)}" type="CheckFailure">${xml(
                [`expected: ${JSON.stringify(st.failure.expected)}`, `seen: ${JSON.stringify(st.failure.seen)}`, ...(st.failure.events?.length ? ['events:', ...st.failure.events] : [])].join('\n'),
              )}</failure>`,
            ]
          : []),
      ];
      return `    <testcase classname="${xml(s.name)}" name="${xml(st.name)}" time="${(st.durationMs / 1000).toFixed(3)}"${body.length ? `>\n${body.join('\n')}\n    </testcase>` : '/>'}`;
    });
    return `  <testsuite name="${xml(s.name)}" tests="${s.steps.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${(s.durationMs / 1000).toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const tests = run.scenarios.reduce((a, s) => a + s.steps.length, 0);
  const failures = run.scenarios.reduce((a, s) => a + s.steps.filter((st) => st.result === 'failed').length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="sscsi scenarios (${xml(run.target)})" tests="${tests}" failures="${failures}" time="${(run.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export async function writeReports(run: RunResult, files: { junit?: string | undefined; json?: string | undefined }): Promise<void> {
  if (files.junit) await writeFile(files.junit, junitXml(run));
  if (files.json) await writeFile(files.json, `${JSON.stringify(run, null, 2)}\n`);
}
