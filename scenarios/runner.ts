/**
 * Runs scenarios against a target: for each scenario a cluster with what it needs (the
 * simulated cluster starts a fresh one per scenario), a namespace of its own, then its
 * steps in order. Progress goes to `out` as it happens (each step; a bar during storms);
 * a failed step stops its scenario (later steps are skipped — they build on it) and is
 * reported with what was expected, what was seen and the pod's recent events. A scenario
 * with a `skip` reason starts no cluster; it, and a step with a `skip` reason (or a
 * `beyondUpstream` one when the driver is another binary), are reported skipped with that
 * reason and do not fail the run.
 *
 * Waits stretch with the machine: a step's `eventually` and the cluster's `waitForPod`
 * limits are written for the reference machine and multiplied by the run's time scale
 * (harness/calibration.ts: the empty gRPC call's p50 against the reference's, at least 1),
 * and a wait that runs out says both figures.
 */
import { describeMachine, scaled, type MachineProfile } from '../harness/calibration.js';
import { describeError } from '../harness/error-chain.js';
import { podWaitDefaultMs, type Cluster, type PodRef } from '../cluster/cluster.js';
import { earlierStepFailed, type RunResult, type ScenarioResult, type StepResult } from './report.js';
import { CheckFailure, type CheckDetails, type ClusterNeeds, type Scenario, type Step, type StepContext } from './scenario.js';

export interface RunOptions {
  target: string;
  /** Starts a cluster for a scenario; stopped by the runner when the scenario ends. */
  startCluster(needs: ClusterNeeds): Promise<Cluster>;
  pods?: number | undefined;
  out?: NodeJS.WritableStream;
  /** The user's provider the scenarios run against, recorded in the result. */
  externalProvider?: { name: string; socket: string };
  /** A driver binary that is not ours (`--driver-bin`): steps beyond upstream are skipped. */
  driverBin?: string | undefined;
  /** The machine as calibrated for this run: reported, and its time scale stretches the waits (1 without). */
  machine?: MachineProfile;
}

/** Why a step does not run against this target, or undefined. */
function skipReason(step: Step, options: RunOptions): string | undefined {
  if (step.skip !== undefined) return step.skip;
  if (step.beyondUpstream !== undefined && options.driverBin !== undefined) return `beyond upstream: ${step.beyondUpstream}; the driver under test is ${options.driverBin}`;
  return undefined;
}

/** A wait's limit on this machine, and how it was derived (for the failure message). */
function waitLimit(timeoutMs: number, scale: number): { ms: number; text: string } {
  const ms = scaled(timeoutMs, scale);
  return { ms, text: scale === 1 ? `${ms} ms` : `${ms} ms = ${timeoutMs} ms × ${scale} for this machine` };
}

/** `cluster` with its waitForPod limit stretched by `scale`; everything else as is. */
function withScaledWaits(cluster: Cluster, scale: number): Cluster {
  if (scale === 1) return cluster;
  const waitForPod: Cluster['waitForPod'] = (pod, until, timeoutMs = podWaitDefaultMs) => cluster.waitForPod(pod, until, scaled(timeoutMs, scale));
  return new Proxy(cluster, {
    get(target, key) {
      if (key === 'waitForPod') return waitForPod;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function podEvents(cluster: Cluster, pod: PodRef): Promise<string[]> {
  try {
    return (await cluster.events(pod.namespace, pod.name)).slice(-8).map((e) => `${e.type} ${e.reason}: ${e.message}${(e.count as number) > 1 ? ` (x${e.count})` : ''}`);
  } catch (err) {
    return [`(could not read events: ${(err as Error).message})`];
  }
}

/** An unexpected error: its whole cause chain, then where it was thrown. */
const errorText = (err: unknown) => [describeError(err), ...((err as Error)?.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l))].join('\n');

const short = (v: unknown) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 400 ? `${s.slice(0, 400)}…` : s;
};

export async function runScenarios(scenarios: Scenario[], options: RunOptions): Promise<RunResult> {
  const out = options.out ?? process.stdout;
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  const write = (s: string) => out.write(s);
  const started = Date.now();
  const results: ScenarioResult[] = [];
  const scale = options.machine?.timeScale ?? 1;
  if (options.machine) write(`machine: ${describeMachine(options.machine)}\n`);
  for (const scenario of scenarios) {
    const sStarted = performance.now();
    const steps: StepResult[] = [];
    write(`\n▶ ${scenario.name}: ${scenario.title}\n`);
    if (scenario.skip !== undefined) {
      const reason = scenario.skip;
      write(`  - skipped: ${reason}\n`);
      const skipped = scenario.steps.map((st): StepResult => ({ name: st.name, result: 'skipped', durationMs: 0, figures: {}, skipReason: reason }));
      results.push({ name: scenario.name, title: scenario.title, passed: false, skipped: true, skipReason: reason, durationMs: 0, steps: skipped });
      continue;
    }
    let cluster: Cluster | undefined;
    let failed = false;
    try {
      cluster = await options.startCluster(scenario.cluster ?? {});
      const namespace = `sc-${scenario.name}`;
      await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      for (const step of scenario.steps) {
        if (failed) {
          steps.push({ name: step.name, result: 'skipped', durationMs: 0, figures: {}, skipReason: earlierStepFailed });
          write(`  - ${step.name} (skipped)\n`);
          continue;
        }
        const skip = skipReason(step, options);
        if (skip !== undefined) {
          steps.push({ name: step.name, result: 'skipped', durationMs: 0, figures: {}, skipReason: skip });
          write(`  - ${step.name} (skipped: ${skip})\n`);
          continue;
        }
        const figures: Record<string, string | number> = {};
        let lastBar = 0;
        const c = withScaledWaits(cluster, scale);
        const ctx: StepContext = {
          cluster: c,
          namespace,
          pods: options.pods,
          figures,
          log: (line) => write(`      ${line}\n`),
          progress(done, total, label) {
            const now = Date.now();
            if (done < total && now - lastBar < (tty ? 100 : 2000)) return;
            lastBar = now;
            const width = 30;
            const filled = Math.round((done / Math.max(1, total)) * width);
            const bar = `      [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}`;
            write(tty ? `\r${bar}${done >= total ? '\n' : ''}` : `${bar}\n`);
          },
          async check(ok: boolean, what: string, details: CheckDetails = {}) {
            if (ok) return;
            const seen = typeof details.seen === 'function' ? await (details.seen as () => Promise<unknown>)().catch((e: Error) => `(unavailable: ${e.message})`) : details.seen;
            throw new CheckFailure(what, details.expected, seen, details.pod ? await podEvents(c, details.pod) : []);
          },
          async eventually<T>(fn: () => Promise<T | undefined | false | null>, what: string, timeoutMs: number, details: CheckDetails = {}): Promise<T> {
            const limit = waitLimit(timeoutMs, scale);
            const until = Date.now() + limit.ms;
            let delay = 20;
            let lastError: unknown;
            for (;;) {
              try {
                const v = await fn();
                if (v) return v;
              } catch (err) {
                lastError = err;
              }
              if (Date.now() > until) {
                await ctx.check(false, `${what} (within ${limit.text})`, { ...details, seen: details.seen ?? (lastError ? `error: ${describeError(lastError)}` : undefined) });
              }
              await new Promise((r) => setTimeout(r, delay));
              delay = Math.min(200, delay * 2);
            }
          },
        };
        write(`  • ${step.name} …${tty ? '' : '\n'}`);
        const t = performance.now();
        try {
          await step.run(ctx);
          const d = performance.now() - t;
          steps.push({ name: step.name, result: 'passed', durationMs: d, figures });
          const f = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v}`).join(' ');
          write(`${tty ? '\r' : ''}  ✓ ${step.name} (${Math.round(d)} ms)${f ? `  ${f}` : ''}\n`);
        } catch (err) {
          failed = true;
          const d = performance.now() - t;
          const failure =
            err instanceof CheckFailure
              ? { message: err.message, expected: err.expected, seen: err.seen, events: err.events }
              : { message: `error: ${errorText(err)}` };
          steps.push({ name: step.name, result: 'failed', durationMs: d, figures, failure });
          write(`${tty ? '\r' : ''}  ✗ ${step.name} (${Math.round(d)} ms)\n      ${failure.message}\n`);
          if ('expected' in failure) write(`      expected: ${short(failure.expected)}\n      seen:     ${short(failure.seen)}\n`);
          if (failure.events?.length) write(`      pod events:\n${failure.events.map((e) => `        ${e}`).join('\n')}\n`);
        }
      }
    } catch (err) {
      failed = true;
      steps.push({ name: 'start the cluster', result: 'failed', durationMs: performance.now() - sStarted, figures: {}, failure: { message: `error: ${describeError(err)}` } });
      write(`  ✗ could not start the cluster: ${describeError(err)}\n`);
    } finally {
      await scenario.cleanup?.().catch((err: Error) => write(`  (cleanup failed: ${err.message})\n`));
      await cluster?.stop().catch((err: Error) => write(`  (stopping the cluster failed: ${err.message})\n`));
    }
    results.push({ name: scenario.name, title: scenario.title, passed: !failed, durationMs: performance.now() - sStarted, steps });
  }
  return {
    target: options.target,
    ...(options.externalProvider ? { externalProvider: options.externalProvider } : {}),
    ...(options.driverBin ? { driverBin: options.driverBin } : {}),
    ...(options.machine ? { machine: options.machine } : {}),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    passed: results.every((r) => r.passed || r.skipped === true),
    scenarios: results,
  };
}
