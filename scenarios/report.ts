/**
 * Scenario results as people and CI read them: a plain table (scenario, step, result,
 * duration, key figures), JUnit XML (one testsuite per scenario, one testcase per step)
 * and a JSON document. Skipped scenarios and steps carry the reason they were skipped.
 */
import { describeMachine, type MachineProfile } from '../harness/calibration.js';
import { emitReports, junitDocument, ms, textTable, type ReportFiles } from '../harness/report-format.js';
import type { FaultCounts } from '../sim/apiserver/faults.js';

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
  /** The driver binary the scenarios ran against (`--driver-bin`), when not ours. */
  driverBin?: string;
  /** The machine the run was calibrated on (cores, the empty gRPC call's p50, the waits' time scale). */
  machine?: MachineProfile;
  startedAt: string;
  durationMs: number;
  /** Nothing failed (skipped scenarios and steps do not count). */
  passed: boolean;
  scenarios: ScenarioResult[];
  /** With `--api-fault-rate`: the rate and the faults the simulated API server injected, by kind. */
  apiFaults?: { rate: number; injected: number; byKind: FaultCounts };
}

/** The reason of a step skipped because one before it failed. */
export const earlierStepFailed = 'an earlier step of the scenario failed';

const figuresText = (f: Record<string, string | number>) =>
  Object.entries(f)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v}`)
    .join(' ');

export function formatTable(run: RunResult): string {
  const rows = run.scenarios.flatMap((s) =>
    s.steps.map((st) => [s.name, st.name, st.result === 'passed' ? 'pass' : st.result === 'failed' ? 'FAIL' : 'skip', ms(st.durationMs), st.result === 'skipped' && st.skipReason ? `skipped: ${st.skipReason}` : figuresText(st.figures)]),
  );
  const header = ['scenario', 'step', 'result', 'duration', 'key figures'];
  return [...(run.machine ? [`machine: ${describeMachine(run.machine)}`, ''] : []), ...textTable(header, rows, { maxWidths: [70, 70, 70, 70, 200], rightAlign: 3 }), '', summaryLine(run), ...(run.apiFaults ? [apiFaultsLine(run.apiFaults)] : [])].join('\n');
}

/** E.g. "API faults injected: 412 (409: 40, 429: 93, 500: 95, 503: 90, latency: 94)". */
export function apiFaultsLine(f: NonNullable<RunResult['apiFaults']>): string {
  const k = f.byKind;
  return `API faults injected: ${f.injected} (409: ${k['409']}, 429: ${k['429']}, 500: ${k['500']}, 503: ${k['503']}, latency: ${k.latency})`;
}

/** E.g. "5/7 scenarios passed, 2 skipped, 2 steps skipped on sim (external provider acme) in 20.1 s". */
export function summaryLine(run: RunResult): string {
  const total = run.scenarios.length;
  const passed = run.scenarios.filter((s) => s.passed).length;
  const skipped = run.scenarios.filter((s) => s.skipped).length;
  // Steps skipped for a reason of their own, in scenarios that ran (not after a failure).
  const skippedSteps = run.scenarios.filter((s) => !s.skipped).reduce((a, s) => a + s.steps.filter((st) => st.result === 'skipped' && st.skipReason !== earlierStepFailed).length, 0);
  const counts = [`${passed}/${total} scenarios passed`, ...(skipped ? [`${skipped} skipped`] : []), ...(skippedSteps ? [`${skippedSteps} step${skippedSteps > 1 ? 's' : ''} skipped`] : [])];
  const target = [run.target, ...(run.externalProvider ? [`(external provider ${run.externalProvider.name})`] : []), ...(run.driverBin ? [`(driver ${run.driverBin})`] : [])].join(' ');
  return `${counts.join(', ')} on ${target} in ${ms(run.durationMs)}`;
}

export function junitXml(run: RunResult): string {
  return junitDocument(
    `sscsi scenarios (${run.target})`,
    run.durationMs,
    run.scenarios.map((s) => ({
      name: s.name,
      durationMs: s.durationMs,
      cases: s.steps.map((st) => ({
        classname: s.name,
        name: st.name,
        durationMs: st.durationMs,
        properties: st.figures,
        skipped: st.result === 'skipped' ? (st.skipReason ?? earlierStepFailed) : undefined,
        failure: st.failure && {
          message: st.failure.message,
          type: 'CheckFailure',
          text: [`expected: ${JSON.stringify(st.failure.expected)}`, `seen: ${JSON.stringify(st.failure.seen)}`, ...(st.failure.events?.length ? ['events:', ...st.failure.events] : [])].join('\n'),
        },
      })),
    })),
  );
}

/** The table on stdout, and the JUnit and JSON files asked for. */
export function emitRunReports(run: RunResult, files: ReportFiles): Promise<void> {
  return emitReports(formatTable(run), files, () => junitXml(run), run);
}
