/**
 * What the driver process holds in memory: idle (started and serving, nothing mounted) and
 * per mounted volume. The driver runs with `--inspect` so the benchmark can force a full
 * garbage collection before each heap reading (bench/inspector-session.ts): the per-volume
 * figure is the heap the driver keeps for a mounted volume (its mount record, the request it
 * replays for rotation, lock and metric entries), not garbage. RSS deltas are reported
 * beside it; RSS only grows in steps as V8 takes pages, so it is the coarser figure.
 * After a second round of mounting and unmounting everything the heap should come back to
 * where the first round left it: `leakKiB`.
 */
import { rssBytes } from '../../harness/managed-process.js';
import { connectInspector } from '../inspector-session.js';
import { startPublishStack, type PublishTarget } from '../publish-stack.js';
import type { SuiteResult } from '../report.js';

interface MemoryOptions {
  volumes: number;
  log: (line: string) => void;
}

/**
 * A reading once it stops moving: two readings 100 ms apart within 1%, or the last one after
 * 3 s. RSS settles as the allocator gives pages back; a collected heap as the driver hears
 * of deletions through its watch and lets go of what they held.
 */
async function settle(read: () => Promise<number>): Promise<number> {
  let last = await read();
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await read();
    if (Math.abs(now - last) <= last * 0.01) return now;
    last = now;
  }
  return last;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

const row = (name: string, rssMb: number, extra: Record<string, number | string>): SuiteResult => ({
  name,
  opsPerSec: 0,
  meanMs: 0,
  p50Ms: 0,
  p99Ms: 0,
  maxMs: 0,
  samples: 1,
  rssMb,
  floorRatio: null,
  extra,
});

export async function runMemorySuites(options: MemoryOptions): Promise<SuiteResult[]> {
  const stack = await startPublishStack({ objects: 10, objectBytes: 1024, driverNodeArgs: ['--inspect=127.0.0.1:0'] });
  const pid = stack.driver.child.pid!;
  const inspector = await connectInspector(stack.driver);
  const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  const kib = (b: number) => Math.round((b / 1024) * 10) / 10;
  // The benchmark's pods exist only as targets, so nothing garbage-collects their pod
  // statuses; delete them as the pods' deletion would, so the driver's watch lets go of them.
  const deletePodStatuses = () => {
    for (const s of stack.api.store.list('secretproviderclasspodstatuses', 'default')) stack.api.store.delete('secretproviderclasspodstatuses', 'default', s.metadata.name!);
  };
  const rss = async () => (await rssBytes(pid)) ?? 0;
  /** The driver's used heap after a full garbage collection. */
  const collectedHeap = async (): Promise<number> => {
    await inspector.collectGarbage();
    return (await inspector.heapUsage()).usedBytes;
  };
  try {
    const idleRss = await settle(rss);
    const idleHeap = await collectedHeap();

    // Warm up with a full round of the same size: code compiled, connections open, metric
    // series created, tables grown to their size; what a second round leaves is a leak.
    const warm: PublishTarget[] = [];
    for (let i = 0; i < options.volumes; i++) warm.push(await stack.newTarget());
    await inBatches(warm, 25, (t) => stack.publish(t));
    await inBatches(warm, 25, (t) => stack.unpublish(t));
    deletePodStatuses();
    const heap0 = await settle(collectedHeap);
    const rss0 = await settle(rss);

    const targets: PublishTarget[] = [];
    for (let i = 0; i < options.volumes; i++) targets.push(await stack.newTarget());
    await inBatches(targets, 25, (t) => stack.publish(t));
    const heap1 = await settle(collectedHeap);
    const rss1 = await settle(rss);

    await inBatches(targets, 25, (t) => stack.unpublish(t));
    deletePodStatuses();
    const heap2 = await settle(collectedHeap);

    const n = options.volumes;
    options.log(`memory: idle RSS ${mib(idleRss)} MiB (heap ${mib(idleHeap)} MiB); ${n} volumes: +${kib((heap1 - heap0) / n)} KiB heap each, +${kib((rss1 - rss0) / n)} KiB RSS each; after unmounting all: ${kib(heap2 - heap0)} KiB heap left`);
    return [
      row('driver idle', idleRss / 2 ** 20, { heapMb: mib(idleHeap) }),
      row(`driver ${n} volumes mounted`, rss1 / 2 ** 20, {
        volumes: n,
        heapKiBPerVolume: kib((heap1 - heap0) / n),
        rssKiBPerVolume: kib((rss1 - rss0) / n),
        leakKiB: kib(heap2 - heap0),
      }),
    ];
  } finally {
    inspector.close();
    await stack.close();
  }
}
