/**
 * What a scenario is: a name (what `--only` takes and the JUnit suite carries), the
 * cluster it needs, and named steps run in order against the `Cluster` interface. A step
 * checks what a user would look at; a failed check says what was expected, what was seen
 * and, for a pod, its recent events. Key figures a step records end up in the table, the
 * JSON and the JUnit properties.
 */
import type { KubeletTimings } from '../sim/kubelet/kubelet.js';
import type { Cluster, PodRef } from '../sim/cluster/cluster.js';

export interface ClusterNeeds {
  /** Driver flags this scenario needs (e.g. rotation with a short interval). */
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
  /** Polls `fn` until it returns something truthy; on timeout fails the check `what`. */
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
  run(ctx: StepContext): Promise<void>;
}

export interface Scenario {
  name: string;
  title: string;
  cluster?: ClusterNeeds;
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
