/**
 * Concurrent NodePublishVolume storms against the driver process (SPC read and SPCPS create
 * against the embedded API server, provider Mount, tmpfs, atomic write): 50, 200 and 500
 * publishes fired at once. Reported per storm: time until all are done (`extra.totalMs`),
 * per-publish p50/p99/max, errors, and the driver's peak RSS. Also the driver's idle RSS and
 * what each mounted volume adds to it (`driver memory`).
 */
import { rssBytes } from '../../harness/managed-process.js';
import { fromSamples, type SuiteResult } from '../report.js';
import { startPublishStack, type PublishTarget } from '../publish-stack.js';

export interface StormOptions {
  sizes: number[];
  log: (line: string) => void;
}

export async function runStormSuites(options: StormOptions): Promise<SuiteResult[]> {
  const stack = await startPublishStack({ objects: 10, objectBytes: 1024 });
  const pid = stack.driver.child.pid!;
  const rows: SuiteResult[] = [];
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idle = (await rssBytes(pid)) ?? 0;
    for (const n of options.sizes) {
      const targets: PublishTarget[] = [];
      for (let i = 0; i < n; i++) targets.push(await stack.newTarget());
      let peak = 0;
      const sampler = setInterval(() => void rssBytes(pid).then((r) => (peak = Math.max(peak, r ?? 0))), 20);
      const latencies: number[] = [];
      let errors = 0;
      const t = performance.now();
      await Promise.all(
        targets.map(async (target) => {
          const s = performance.now();
          try {
            await stack.publish(target);
            latencies.push(performance.now() - s);
          } catch {
            errors++;
          }
        }),
      );
      const totalMs = performance.now() - t;
      clearInterval(sampler);
      peak = Math.max(peak, (await rssBytes(pid)) ?? 0);
      const mountedRss = (await rssBytes(pid)) ?? 0;
      options.log(`storm ${n}: ${Math.round(totalMs)} ms, ${errors} errors`);
      rows.push({
        ...(latencies.length ? fromSamples(`storm ${n} publishes`, latencies) : { name: `storm ${n} publishes`, opsPerSec: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, samples: 0 }),
        opsPerSec: (n - errors) / (totalMs / 1000),
        rssMb: peak / 2 ** 20,
        floorRatio: null,
        extra: { totalMs: Math.round(totalMs), errors, perVolumeKiB: Math.round((mountedRss - idle) / n / 1024) },
      });
      await Promise.all(targets.map((target) => stack.unpublish(target).catch(() => undefined)));
    }
    rows.push({ name: 'driver memory', opsPerSec: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, samples: 1, rssMb: idle / 2 ** 20, floorRatio: null, extra: { idleMb: Math.round((idle / 2 ** 20) * 10) / 10 } });
    return rows;
  } finally {
    await stack.close();
  }
}
