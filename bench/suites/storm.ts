/**
 * Concurrent NodePublishVolume storms against the driver process (SPC read and SPCPS create
 * against the embedded API server, provider Mount, tmpfs, atomic write): 50, 200 and 500
 * publishes fired at once. Reported per storm: time until all are done (`extra.totalMs`)
 * and until the first is (`extra.firstDoneMs`), per-publish p50/p99/max, errors, and the
 * driver's peak RSS during the storm (the idle and per-volume figures are the memory
 * group's); kept for the HTML report: when each publish completed and the RSS sampled every
 * 20 ms.
 *
 * Given upstream's driver too (`--compare upstream`), both stacks are up at once and each
 * storm size runs against one driver right after the other (which goes first alternates by
 * size), so both see the same stretch of machine noise.
 */
import { rssBytes } from '../../harness/managed-process.js';
import { oursDriver, type DriverUnderTest } from '../driver-under-test.js';
import { fromSamples, type SuiteResult } from '../report.js';
import { startPublishStack, type PublishStack, type PublishTarget } from '../publish-stack.js';

interface StormOptions {
  sizes: number[];
  /** Besides ours, e.g. upstream's driver (`--compare upstream`). */
  others?: DriverUnderTest[];
  log: (line: string) => void;
}

const sampleEveryMs = 20;

async function storm(stack: PublishStack, n: number, log: (line: string) => void): Promise<SuiteResult> {
  const pid = stack.driver.child.pid!;
  const targets: PublishTarget[] = [];
  for (let i = 0; i < n; i++) targets.push(await stack.newTarget());
  const latencies: number[] = [];
  const completionsMs: number[] = [];
  const rss: Array<[number, number]> = [];
  let errors = 0;
  let firstError: string | undefined;
  const t = performance.now();
  const sample = async () => {
    const r = await rssBytes(pid);
    if (r !== undefined) rss.push([performance.now() - t, r / 2 ** 20]);
  };
  await sample();
  const timer = setInterval(() => void sample(), sampleEveryMs);
  try {
    await Promise.all(
      targets.map(async (target) => {
        const s = performance.now();
        try {
          await stack.publish(target);
          const done = performance.now();
          latencies.push(done - s);
          completionsMs.push(done - t);
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
  const totalMs = performance.now() - t;
  await sample();
  const peakMb = Math.max(...rss.map(([, mb]) => mb));
  log(`storm ${n}${stack.driverName === 'ours' ? '' : ` (${stack.driverName})`}: ${Math.round(totalMs)} ms, ${errors} errors${firstError ? ` (first: ${firstError})` : ''}`);
  const name = `storm ${n} publishes`;
  const row: SuiteResult = {
    ...(latencies.length ? fromSamples(name, latencies) : { name, opsPerSec: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, samples: 0 }),
    opsPerSec: (n - errors) / (totalMs / 1000),
    rssMb: peakMb,
    floorRatio: null,
    extra: { totalMs: Math.round(totalMs), ...(completionsMs.length ? { firstDoneMs: Math.round(Math.min(...completionsMs)) } : {}), errors, ...(firstError ? { firstError } : {}) },
    ...(stack.driverName === 'ours' ? {} : { driver: stack.driverName }),
  };
  row.trace = { latenciesMs: latencies, completionsMs: completionsMs.sort((a, b) => a - b), rss };
  await Promise.all(targets.map((target) => stack.unpublish(target).catch(() => undefined)));
  return row;
}

export async function runStormSuites(options: StormOptions): Promise<SuiteResult[]> {
  const stacks: PublishStack[] = [];
  const rows: SuiteResult[] = [];
  try {
    for (const driver of [oursDriver, ...(options.others ?? [])]) stacks.push(await startPublishStack({ objects: 10, objectBytes: 1024, driver }));
    for (const [i, n] of options.sizes.entries()) {
      const order = i % 2 === 0 ? stacks : [...stacks].reverse();
      const byDriver = new Map<PublishStack, SuiteResult>();
      for (const stack of order) byDriver.set(stack, await storm(stack, n, options.log));
      rows.push(...stacks.map((s) => byDriver.get(s)!));
    }
    return rows;
  } finally {
    for (const s of stacks.reverse()) await s.close();
  }
}
