/**
 * mount-storm: N pods (default 200, `--pods`) created at once across several SPCs. Every
 * pod runs, and at the moment it turns Running its volume already holds every object
 * (upstream issue #1051 saw pods run with missing files under load). Reported: create-to-
 * Running and publish latency percentiles, the provider's most concurrent Mount calls, the
 * driver's peak RSS; then all are deleted and nothing may leak. Round 2 kills and restarts
 * the driver mid-storm; round 3 makes the provider slow so calls pile up, and the driver's
 * bound on in-flight Mount calls (--provider-max-inflight) must hold while every pod mounts.
 */
import hdr from 'hdr-histogram-js';
import type { KubeObject } from '../sim/cluster/cluster.js';
import { exampleObjects, histogramBuckets, isRunning, podManifest, providerState, quantileBetween, setFault, spcManifest } from './fixtures.js';
import type { Scenario, Step, StepContext } from './scenario.js';

const objects = exampleObjects();
const maxInflight = 16;
const spcs: Array<{ name: string; objects: string[] }> = [
  { name: 'storm-a', objects: ['db-password', 'api-key'] },
  { name: 'storm-b', objects: ['db-username', 'config.json'] },
  { name: 'storm-c', objects: ['db-password', 'db-username', 'api-key'] },
  { name: 'storm-d', objects: ['config.json', 'api-key'] },
];

interface Round {
  label: string;
  killDriverAt?: number;
  latencyMs?: number;
}

function percentiles(samples: number[]) {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
  for (const s of samples) h.recordValue(Math.max(1, Math.round(s)));
  const max = Math.max(...samples);
  return { p50: Math.min(max, h.getValueAtPercentile(50)), p95: Math.min(max, h.getValueAtPercentile(95)), p99: Math.min(max, h.getValueAtPercentile(99)), max };
}

async function storm(ctx: StepContext, round: Round): Promise<void> {
  const n = ctx.pods ?? 200;
  const ns = ctx.namespace;
  const provider = ctx.cluster.providers('fake')[0]!;
  await fetch(`${provider.control}/state/max-inflight`, { method: 'DELETE' });
  if (round.latencyMs) await setFault(ctx.cluster, { mode: 'latency', latencyMs: round.latencyMs });
  const labels = 'provider="fake",os_type="linux"';
  const metricsBefore = await ctx.cluster.driverMetrics();
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const incomplete: string[] = [];
  const checks: Array<Promise<void>> = [];
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    void ctx.cluster.drivers()[0]!.rssBytes().then((r) => {
      if (r !== undefined) peakRss = Math.max(peakRss, r);
    });
  }, 100);
  let restarted: Promise<void> | undefined;
  const stopWatch = await ctx.cluster.watchPods(ns, ({ type, pod }) => {
    const name = pod.metadata.name!;
    if (type === 'DELETED' || running.has(name) || !isRunning(pod)) return;
    running.set(name, Date.now());
    // At the moment it runs, the pod's volume must hold every object.
    const spc = spcs[Number(name.split('-').at(-1)) % spcs.length]!;
    checks.push(
      (async () => {
        for (const o of spc.objects) {
          const content = await ctx.cluster.readFile({ namespace: ns, name }, 'secrets', o).then((b) => b.toString(), (e: Error) => `(${e.message})`);
          if (content !== objects.get(o)) incomplete.push(`${name}/${o}`);
        }
      })(),
    );
    ctx.progress(running.size, n, `Running (${round.label})`);
    if (round.killDriverAt !== undefined && !restarted && running.size >= round.killDriverAt * n) {
      const driver = ctx.cluster.drivers()[0]!;
      restarted = driver.kill().then(() => driver.start());
      ctx.log(`killed the driver (kill -9) with ${running.size}/${n} pods Running; restarting it`);
    }
  });
  try {
    const names = Array.from({ length: n }, (_, i) => `storm-${i}`);
    await Promise.all(
      names.map(async (name, i) => {
        created.set(name, Date.now());
        await ctx.cluster.apply(podManifest(ns, name, [{ name: 'secrets', spc: spcs[i % spcs.length]!.name }], { app: 'storm' }));
      }),
    );
    ctx.progress(running.size, n, `Running (${round.label})`);
    await ctx.eventually(async () => running.size === n, `all ${n} pods Running`, 60_000 + n * 300, {
      expected: n,
      seen: async () => `${running.size} Running; not yet: ${names.filter((x) => !running.has(x)).slice(0, 5).join(', ')}`,
      pod: { namespace: ns, name: names.find((x) => !running.has(x)) ?? names[0]! },
    });
    await restarted;
    await Promise.all(checks);
  } finally {
    stopWatch();
    clearInterval(rssTimer);
    if (round.latencyMs) await setFault(ctx.cluster, null);
  }
  await ctx.check(incomplete.length === 0, 'every pod had all its objects at the moment it turned Running', { expected: [], seen: incomplete.slice(0, 10) });
  const latencies = [...running].map(([name, t]) => t - created.get(name)!);
  const p = percentiles(latencies);
  const state = await providerState(ctx.cluster);
  const metricsAfter = await ctx.cluster.driverMetrics();
  const before = histogramBuckets(metricsBefore, 'node_publish_duration_seconds', labels);
  const after = histogramBuckets(metricsAfter, 'node_publish_duration_seconds', labels);
  Object.assign(ctx.figures, {
    pods: n,
    runP50Ms: p.p50,
    runP95Ms: p.p95,
    runP99Ms: p.p99,
    runMaxMs: p.max,
    publishP50Ms: Math.round((quantileBetween(before, after, 0.5) ?? 0) * 1000 * 10) / 10,
    publishP99Ms: Math.round((quantileBetween(before, after, 0.99) ?? 0) * 1000 * 10) / 10,
    providerMaxInflight: state.maxInflight,
    driverPeakRssMb: Math.round((peakRss / 2 ** 20) * 10) / 10,
  });
  if (round.latencyMs && round.killDriverAt === undefined) {
    await ctx.check(state.maxInflight <= maxInflight, `the provider never saw more than --provider-max-inflight=${maxInflight} Mount calls at once`, { expected: `<= ${maxInflight}`, seen: state.maxInflight });
    await ctx.check(state.maxInflight >= Math.min(maxInflight, n) / 2, 'the calls did pile up against the bound', { expected: `>= ${Math.min(maxInflight, n) / 2}`, seen: state.maxInflight });
  }

  // Delete them all; nothing may leak.
  const t = Date.now();
  await Promise.all(Array.from({ length: n }, (_, i) => ctx.cluster.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: `storm-${i}` })));
  await ctx.eventually(async () => (await ctx.cluster.list('v1', 'Pod', ns, { labelSelector: 'app=storm' })).length === 0, 'all pods deleted', 60_000 + n * 200);
  ctx.figures.deleteAllMs = Date.now() - t;
  const left = await ctx.cluster.leftovers();
  await ctx.check(left.mounts.length === 0 && left.podDirs.length === 0, 'no leaked mount or pod directory', { expected: { mounts: 0, podDirs: 0 }, seen: { mounts: left.mounts.slice(0, 5), podDirs: left.podDirs.slice(0, 5), counts: [left.mounts.length, left.podDirs.length] } });
  await ctx.eventually(async () => (await ctx.cluster.list('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClassPodStatus', ns)).length === 0, 'every pod status collected', 30_000);
}

const rounds: Step[] = [
  { name: 'storm: all pods Running, complete at Running, nothing leaked', run: (ctx) => storm(ctx, { label: 'storm' }) },
  // The provider is slowed down so that, when the driver dies, many volumes are mounted but
  // not yet written: the restarted driver must not report those as mounted.
  { name: 'storm with the driver killed and restarted midway', run: (ctx) => storm(ctx, { label: 'driver restart', killDriverAt: 0.3, latencyMs: 100 }) },
  { name: `storm against a slow provider: in-flight bound ${maxInflight} holds`, run: (ctx) => storm(ctx, { label: 'slow provider', latencyMs: 100 }) },
];

export const mountStormScenario: Scenario = {
  name: 'mount-storm',
  title: 'N pods at once across several SPCs; driver restart and slow provider rounds',
  cluster: { driverArgs: [`--provider-max-inflight=${maxInflight}`], kubeletTimings: { backoffInitialMs: 200, backoffMaxMs: 2000 } },
  steps: [
    {
      name: 'SecretProviderClasses',
      async run(ctx) {
        for (const s of spcs) await ctx.cluster.apply(spcManifest(ctx.namespace, s.name, s.objects.map((objectName) => ({ objectName }))));
        ctx.figures.spcs = spcs.length;
      },
    },
    ...rounds,
  ],
};
