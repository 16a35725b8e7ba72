/**
 * One mount-storm round, for any provider: N pods (`--pods`, default 200) created at once;
 * every pod runs and, at the moment it turns Running, its volume already holds every file
 * it should (upstream issue #1051 saw pods run with missing files under load). Recorded:
 * create-to-Running and publish latency percentiles, the driver's peak RSS and, for the fake
 * provider, its most concurrent Mount calls; then all pods are deleted and nothing may leak.
 * A round may kill and restart the driver midway, or (fake provider only) slow the provider
 * down; a round with a bound makes the calls pile up against the driver's bound on
 * in-flight Mount calls whatever the machine's speed: the provider holds every call until
 * it holds as many as the bound allows and the driver queues the rest, and only then
 * answers (slowly) — how fast the pods arrive no longer decides whether the bound is met.
 */
import hdr from 'hdr-histogram-js';
import { histogramBuckets, isRunning, metricSum, podDirsCleared, podManifest, quantileBetween } from './fixtures.js';
import type { StepContext } from './scenario.js';
import { samplePeakRss } from '../harness/managed-process.js';

export interface StormRound {
  label: string;
  /** Kill -9 the driver when this share of the pods runs, and start it again. */
  killDriverAt?: number;
  /** The fake provider answers this much later (fake provider only). */
  latencyMs?: number;
  /**
   * Without a driver kill (fake provider only): the driver's --provider-max-inflight. The
   * calls are made to pile up against it (the provider holds them until it holds this many
   * and the driver queues more), and the provider's in-flight peak must stay within it.
   */
  maxInflight?: number;
}

/** The fake provider's hooks a round may use; an external provider has none. */
export interface FakeProviderHooks {
  resetMaxInflight(): Promise<void>;
  /** Holds every Mount call unanswered until the next setLatency. */
  hold(): Promise<void>;
  /** Answers Mount calls this much later (null: at once); releases held calls. */
  setLatency(latencyMs: number | null): Promise<void>;
  /** Mount calls in flight at the provider now, and the most at once since the reset. */
  inflight(): Promise<{ now: number; max: number }>;
}

export interface StormPlan {
  /** The provider the pods mount from (the metrics' provider label). */
  provider: string;
  /** The SecretProviderClass of pod i. */
  spcOf(i: number): string;
  /** What pod i's volume must hold when it runs: path → contents. */
  expected(i: number): ReadonlyMap<string, Buffer>;
  fake?: FakeProviderHooks;
}

function percentiles(samples: number[]) {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
  for (const s of samples) h.recordValue(Math.max(1, Math.round(s)));
  const max = Math.max(...samples);
  return { p50: Math.min(max, h.getValueAtPercentile(50)), p95: Math.min(max, h.getValueAtPercentile(95)), p99: Math.min(max, h.getValueAtPercentile(99)), max };
}

/**
 * With the provider holding every call: waits until it holds as many as the bound allows
 * (all `n`, when fewer) and, with more pods than the bound, the driver's own gauge shows
 * calls queued behind it — the pile-up the round is about, reached on any machine — then
 * lets the provider answer, `latencyMs` late.
 */
async function pileUp(ctx: StepContext, bound: number, n: number, plan: StormPlan, labels: string, latencyMs: number | null): Promise<void> {
  const fake = plan.fake!;
  const want = Math.min(bound, n);
  const seen = { held: 0, driverQueued: 0 };
  await ctx.eventually(
    async () => {
      seen.held = (await fake.inflight()).now;
      seen.driverQueued = metricSum(await ctx.cluster.driverMetrics(), 'provider_mount_queued', Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))) ?? 0;
      return seen.held >= want && (n <= bound || seen.driverQueued > 0);
    },
    'the calls did pile up against the bound',
    10_000,
    { expected: { held: want, driverQueued: n > bound ? '> 0' : 0 }, seen: async () => seen },
  );
  ctx.figures.heldAtBound = seen.held;
  ctx.figures.driverQueuedAtBound = seen.driverQueued;
  await fake.setLatency(latencyMs);
}

export async function storm(ctx: StepContext, round: StormRound, plan: StormPlan): Promise<void> {
  const n = ctx.pods ?? 200;
  const ns = ctx.namespace;
  if ((round.latencyMs || round.maxInflight !== undefined) && !plan.fake) throw new Error(`the round "${round.label}" slows the provider down: only the fake provider can`);
  if (round.maxInflight !== undefined && round.killDriverAt !== undefined) throw new Error(`the round "${round.label}" cannot both pile calls up against the bound and kill the driver`);
  await plan.fake?.resetMaxInflight();
  if (round.maxInflight !== undefined) await plan.fake!.hold();
  else if (round.latencyMs) await plan.fake!.setLatency(round.latencyMs);
  const labels = `provider="${plan.provider}",os_type="linux"`;
  const metricsBefore = await ctx.cluster.driverMetrics();
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const incomplete: string[] = [];
  const checks: Array<Promise<void>> = [];
  const rss = samplePeakRss(() => ctx.cluster.drivers()[0]!.rssBytes(), 100);
  let peakRss = 0;
  let restarted: Promise<void> | undefined;
  const stopWatch = await ctx.cluster.watchPods(ns, ({ type, pod }) => {
    const name = pod.metadata.name!;
    if (type === 'DELETED' || running.has(name) || !isRunning(pod)) return;
    running.set(name, Date.now());
    // At the moment it runs, the pod's volume must hold every file.
    const expected = plan.expected(Number(name.split('-').at(-1)));
    checks.push(
      (async () => {
        for (const [path, contents] of expected) {
          const seen = await ctx.cluster.readFile({ namespace: ns, name }, 'secrets', path).catch(() => undefined);
          if (!seen?.equals(contents)) incomplete.push(`${name}/${path}`);
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
        await ctx.cluster.apply(podManifest(ns, name, [{ name: 'secrets', spc: plan.spcOf(i) }], { app: 'storm' }));
      }),
    );
    ctx.progress(running.size, n, `Running (${round.label})`);
    if (round.maxInflight !== undefined) await pileUp(ctx, round.maxInflight, n, plan, labels, round.latencyMs ?? null);
    await ctx.eventually(async () => running.size === n, `all ${n} pods Running`, 60_000 + n * 300, {
      expected: n,
      seen: async () => `${running.size} Running; not yet: ${names.filter((x) => !running.has(x)).slice(0, 5).join(', ')}`,
      pod: { namespace: ns, name: names.find((x) => !running.has(x)) ?? names[0]! },
    });
    await restarted;
    await Promise.all(checks);
  } finally {
    stopWatch();
    peakRss = rss.stop();
    if (round.latencyMs || round.maxInflight !== undefined) await plan.fake!.setLatency(null);
  }
  await ctx.check(incomplete.length === 0, 'every pod had all its objects at the moment it turned Running', { expected: [], seen: incomplete.slice(0, 10) });
  const latencies = [...running].map(([name, t]) => t - created.get(name)!);
  const p = percentiles(latencies);
  const providerMaxInflight = (await plan.fake?.inflight())?.max;
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
    ...(providerMaxInflight === undefined ? {} : { providerMaxInflight }),
    driverPeakRssMb: Math.round((peakRss / 2 ** 20) * 10) / 10,
  });
  if (round.maxInflight !== undefined && providerMaxInflight !== undefined) {
    const bound = round.maxInflight;
    await ctx.check(providerMaxInflight <= bound, `the provider never saw more than --provider-max-inflight=${bound} Mount calls at once`, { expected: `<= ${bound}`, seen: providerMaxInflight });
  }

  // Delete them all; nothing may leak.
  const t = Date.now();
  await Promise.all(Array.from({ length: n }, (_, i) => ctx.cluster.delete({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: `storm-${i}` })));
  await ctx.eventually(async () => (await ctx.cluster.list('v1', 'Pod', ns, { labelSelector: 'app=storm' })).length === 0, 'all pods deleted', 60_000 + n * 200);
  ctx.figures.deleteAllMs = Date.now() - t;
  const left = await ctx.cluster.leftovers();
  await ctx.check(left.mounts.length === 0, 'no leaked mount', { expected: 0, seen: { mounts: left.mounts.slice(0, 5), count: left.mounts.length } });
  await podDirsCleared(ctx);
  await ctx.eventually(async () => (await ctx.cluster.list('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClassPodStatus', ns)).length === 0, 'every pod status collected', 30_000);
}
