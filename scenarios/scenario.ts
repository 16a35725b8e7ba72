/**
 * What a scenario is: a name (what `--only` takes and the JUnit suite carries), the
 * cluster it needs, and named steps run in order against the `Cluster` interface. A step
 * checks what a user would look at; a failed check says what was expected, what was seen
 * and, for a pod, its recent events. Key figures a step records end up in the table, the
 * JSON and the JUnit properties. A scenario or a step that cannot run against the target
 * (e.g. it needs the fake provider's control API and the provider is the user's) carries a
 * `skip` reason: it is reported as skipped with that reason and does not fail the run. A
 * step that checks one of our extensions (`beyondUpstream`) is skipped likewise when the
 * driver under test is another binary, such as upstream's.
 */
import type { KubeletTimings } from '../sim/kubelet/kubelet.js';
import type { Cluster, PodRef } from '../cluster/cluster.js';

export interface ClusterNeeds {
  /**
   * Driver flags this scenario needs (e.g. rotation with a short interval). Against another
   * driver binary only upstream's flags are passed (harness/upstream-flags.ts); a step that
   * needs one of ours says so with `beyondUpstream`.
   */
  driverArgs?: string[];
  kubeletTimings?: Partial<KubeletTimings>;
}

export interface StepContext {
  readonly cluster: Cluster;
  /** A namespace of the scenario's own, created before its first step. */
  readonly namespace: string;
  /** Pods requested with `--pods` (storms), or the scenario's default. */
  readonly pods: number | undefined;
  /** Key figures of this step, shown in the table and written to JSON and JUnit. */
  readonly figures: Record<string, string | number>;
  log(line: string): void;
  progress(done: number, total: number, label: string): void;
  /** Throws a CheckFailure when `ok` is false. */
  check(ok: boolean, what: string, details?: CheckDetails): Promise<void>;
  /**
   * Polls `fn` until it returns something truthy; on timeout fails the check `what`.
   * `timeoutMs` is for the reference machine: the runner stretches it by the run's time scale.
   */
  eventually<T>(fn: () => Promise<T | undefined | false | null>, what: string, timeoutMs: number, details?: CheckDetails): Promise<T>;
}

export interface CheckDetails {
  expected?: unknown;
  seen?: unknown | (() => Promise<unknown>);
  /** The pod whose recent events explain a failure. */
  pod?: PodRef;
}

export interface Step {
  name: string;
  /** Why this step does not run here; the steps after it still run. */
  skip?: string;
  /**
   * What of ours beyond upstream's driver this step checks (an extension only this package's
   * driver has): run against another driver binary (`--driver-bin`), the step is skipped
   * with this reason.
   */
  beyondUpstream?: string;
  run(ctx: StepContext): Promise<void>;
}

export interface Scenario {
  name: string;
  title: string;
  cluster?: ClusterNeeds;
  /** Why this scenario does not run here: no cluster is started and every step is skipped. */
  skip?: string;
  steps: Step[];
  /** Runs after the steps whatever happened (stop readers, timers, faults). */
  cleanup?: () => Promise<void>;
}

export class CheckFailure extends Error {
  constructor(
    readonly what: string,
    readonly expected: unknown,
    readonly seen: unknown,
    readonly events: string[],
  ) {
    super(`check failed: ${what}`);
    this.name = 'CheckFailure';
  }
}
