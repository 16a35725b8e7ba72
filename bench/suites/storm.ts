/**
 * Concurrent NodePublishVolume storms against the driver process (SPC read and SPCPS create
 * against the embedded API server, provider Mount, tmpfs, atomic write): 50, 200 and 500
 * publishes fired at once. Reported per storm: time until all are done (`extra.totalMs`),
 * per-publish p50/p99/max, errors, and the driver's peak RSS during the storm (the idle
 * and per-volume figures are the memory group's).
 */
import { rssBytes, samplePeakRss } from '../../harness/managed-process.js';
import { fromSamples, type SuiteResult } from '../report.js';
import { startPublishStack, type PublishTarget } from '../publish-stack.js';

interface StormOptions {
  sizes: number[];
  log: (line: string) => void;
}

export async function runStormSuites(options: StormOptions): Promise<SuiteResult[]> {
  const stack = await startPublishStack({ objects: 10, objectBytes: 1024 });
  const pid = stack.driver.child.pid!;
  const rows: SuiteResult[] = [];
  try {
    for (const n of options.sizes) {
      const targets: PublishTarget[] = [];
      for (let i = 0; i < n; i++) targets.push(await stack.newTarget());
      const sampler = samplePeakRss(() => rssBytes(pid), 20);
      const latencies: number[] = [];
      let errors = 0;
      let firstError: string | undefined;
      const t = performance.now();
      await Promise.all(
        targets.map(async (target) => {
          const s = performance.now();
          try {
            await stack.publish(target);
            latencies.push(performance.now() - s);
          } catch (err) {
            errors++;
            firstError ??= (err as Error).message;
          }
        }),
      );
      const totalMs = performance.now() - t;
      const peak = Math.max(sampler.stop(), (await rssBytes(pid)) ?? 0);
      options.log(`storm ${n}: ${Math.round(totalMs)} ms, ${errors} errors${firstError ? ` (first: ${firstError})` : ''}`);
      rows.push({
        ...(latencies.length ? fromSamples(`storm ${n} publishes`, latencies) : { name: `storm ${n} publishes`, opsPerSec: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, samples: 0 }),
        opsPerSec: (n - errors) / (totalMs / 1000),
        rssMb: peak / 2 ** 20,
        floorRatio: null,
        extra: { totalMs: Math.round(totalMs), errors, ...(firstError ? { firstError } : {}) },
      });
      await Promise.all(targets.map((target) => stack.unpublish(target).catch(() => undefined)));
    }
    return rows;
  } finally {
    await stack.close();
  }
}
