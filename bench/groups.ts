/**
 * The benchmark groups and how they run in full and in `--quick` mode (the CI smoke, under
 * a minute), and the floor ratios that need several groups' results.
 */
import { isRoot } from '../harness/temp-root.js';
import type { DriverUnderTest } from './driver-under-test.js';
import type { SuiteResult } from './report.js';
import { floors, nodePublishName, nodePublishSize, nodeUnpublishName, sizeLabel } from './suite-names.js';
import { runMemorySuites } from './suites/memory.js';
import { runMicroSuites } from './suites/micro.js';
import { runNodePublishSuites } from './suites/node-publish.js';
import { runPodStartupSuites, type PodStartupTarget } from './suites/pod-startup.js';
import { runProviderProxySuites } from './suites/provider-proxy.js';
import { runRotationSuites } from './suites/rotation.js';
import { runSimClusterSuites } from './suites/sim-cluster.js';
import { runStormSuites } from './suites/storm.js';
import { K8sCluster } from '../cluster/k8s/k8s-cluster.js';
import { SimCluster } from '../cluster/sim/sim-cluster.js';

interface RunContext {
  quick: boolean;
  iterations: number | undefined;
  /** Drivers measured beside ours (`--compare upstream`), by the groups that can (`compares`). */
  others?: DriverUnderTest[];
  /** Another build of the project run beside ours (`bench:check --against`); `first`: its tasks before ours. */
  ref?: { root: string; first: boolean };
  /** The state dir of `sscsi k8s up` (`--k8s-state-dir`): groups that can measure a real node do so there too. */
  k8sStateDir?: string;
  log: (line: string) => void;
}

interface Group {
  run(ctx: RunContext): Promise<SuiteResult[]>;
  /** Part of the quick run (and so of the regression gate). */
  quick: boolean;
  /** Has ratios to floors, so repeated runs (the median of N) steady the gate; others run once. */
  floors: boolean;
  /** Measures other drivers beside ours when given some (`--compare upstream`). */
  compares?: boolean;
}

export const groups: Record<string, Group> = {
  micro: { quick: true, floors: true, run: (ctx) => runMicroSuites({ quick: ctx.quick, ...(ctx.ref ? { ref: ctx.ref } : {}), log: ctx.log }) },
  'node-publish': {
    quick: true,
    floors: true,
    compares: true,
    run: (ctx) => runNodePublishSuites({ ...nodePublishSize, iterations: ctx.iterations ?? (ctx.quick ? 200 : 400), timeMs: ctx.quick ? 0 : 4000, rounds: ctx.ref ? 100 : ctx.quick ? 10 : 20, others: ctx.others ?? [], log: ctx.log }),
  },
  storm: { quick: true, floors: false, compares: true, run: (ctx) => runStormSuites({ sizes: ctx.quick ? [50] : [50, 200, 500], others: ctx.others ?? [], log: ctx.log }) },
  memory: { quick: true, floors: false, compares: true, run: (ctx) => runMemorySuites({ volumes: ctx.quick ? 100 : 500, others: ctx.others ?? [], log: ctx.log }) },
  rotation: {
    quick: false,
    floors: false,
    compares: true,
    // Compared in quick mode: fewer volumes and no 1000-volume passes, so the CLI test stays short.
    run: (ctx) =>
      runRotationSuites({ volumes: ctx.quick && ctx.others?.length ? 20 : 100, passes: ctx.quick ? 2 : 10, ...(ctx.quick ? {} : { largeVolumes: 1000 }), others: ctx.others ?? [], log: ctx.log }),
  },
  // The fault proxy's cost per Mount (scenarios against an external provider): its ratio to the direct call.
  'provider-proxy': { quick: false, floors: true, run: (ctx) => runProviderProxySuites({ quick: ctx.quick, log: ctx.log }) },
  // A pod's start on the sim, and under the real kubelet of `sscsi k8s up` beside it when given its state dir.
  'pod-startup': {
    quick: false,
    floors: false,
    run: (ctx) => {
      const targets: PodStartupTarget[] = [{ label: 'sim', start: () => new SimCluster().start() }];
      const stateDir = ctx.k8sStateDir;
      if (stateDir !== undefined) targets.push({ label: 'k8s', start: () => new K8sCluster({ stateDir }).start() });
      else ctx.log('pod-startup: no --k8s-state-dir, so the sim only (sscsi k8s up --state-dir DIR brings up a real node to measure beside it)');
      return runPodStartupSuites(targets, { pods: ctx.iterations ?? (ctx.quick ? 5 : 20), warmup: 2, podTimeoutMs: 120_000, log: ctx.log });
    },
  },
  'sim-cluster': { quick: false, floors: false, run: (ctx) => runSimClusterSuites({ starts: ctx.quick ? 1 : 5, pods: ctx.iterations ?? (ctx.quick ? 10 : 60), log: ctx.log }) },
};

/** The groups of the quick run (`--quick`, and the regression gate), in their order. */
export const quickGroups: readonly string[] = Object.keys(groups).filter((g) => groups[g]!.quick);

/** The groups `--compare upstream` runs for both drivers, in their order (quick or not). */
export const comparedGroups: readonly string[] = Object.keys(groups).filter((g) => groups[g]!.compares);

/** The names among `names` that are no benchmark group. */
export const unknownGroups = (names: readonly string[]) => names.filter((g) => !(g in groups));

/**
 * Floors that combine several measured floors. NodePublishVolume: one empty CSI call, one
 * empty provider call, two bare API GETs (the SPC read and the SPCPS create), a raw
 * mount+umount and the raw write of its 10 × 1 KiB. NodeUnpublishVolume: one empty CSI
 * call and a raw mount+umount. The mount and write floors come from the micro group; without
 * it (`--only node-publish`) the ratio is left empty rather than guessed.
 */
function fillCompositeFloors(suites: SuiteResult[]): void {
  const p50 = (name: string) => suites.find((s) => s.name === name && (s.driver ?? 'ours') === 'ours')?.p50Ms;
  const label = sizeLabel(nodePublishSize.objects, nodePublishSize.objectBytes);
  const csi = p50(floors.csiEmpty);
  const provider = p50(floors.providerEmpty);
  const api = p50(floors.apiGet);
  const mount = p50(floors.mountUmount) ?? (isRoot ? undefined : 0);
  const write = p50(floors.rawWrite(label));
  for (const s of suites) {
    if (s.driver !== undefined && s.driver !== 'ours') continue;
    if (s.name === nodePublishName(label) && csi && provider && api && mount !== undefined && write) s.floorRatio = s.p50Ms / (csi + provider + 2 * api + mount + write);
    if (s.name === nodeUnpublishName(label) && csi && mount !== undefined) s.floorRatio = s.p50Ms / (csi + mount);
  }
}

/**
 * Runs the groups. With `repeat` > 1 each group with floors runs that many times; every run's
 * ratios are computed within that run (its floors were measured alongside it), and each
 * suite reports the run with its median ratio (median p50 for floors) — one noisy run, fast
 * or slow, cannot move the verdict. Groups without floors run once.
 */
export async function runGroups(names: readonly string[], ctx: RunContext, repeat = 1): Promise<SuiteResult[]> {
  const runs: SuiteResult[][] = [];
  const once: SuiteResult[] = [];
  for (const name of names) {
    const group = groups[name]!;
    for (let i = 0; i < (group.floors ? repeat : 1); i++) {
      const rows = await group.run(ctx);
      if (group.floors) (runs[i] ??= []).push(...rows);
      else once.push(...rows);
    }
  }
  for (const run of runs) fillCompositeFloors(run);
  // A row is its name and its driver (`--compare upstream` measures both under one name).
  const key = (s: SuiteResult) => `${s.driver ?? 'ours'} ${s.name}`;
  const order = (runs[0] ?? []).map(key);
  const chosen = order.map((k) => {
    const candidates = runs.map((run) => run.find((s) => key(s) === k)).filter((s): s is SuiteResult => s !== undefined);
    candidates.sort((a, b) => (a.floorRatio ?? a.p50Ms) - (b.floorRatio ?? b.p50Ms));
    return candidates[Math.floor((candidates.length - 1) / 2)]!;
  });
  return [...chosen, ...once];
}
