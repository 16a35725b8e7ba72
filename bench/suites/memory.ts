/**
 * What the driver process holds in memory: idle (started and serving, nothing mounted) and
 * per mounted volume. The driver runs with `--inspect` so the benchmark can force a full
 * garbage collection before each heap reading (bench/inspector-session.ts): the per-volume
 * figure is the heap the driver keeps for a mounted volume (its mount record, the request it
 * replays for rotation, lock and metric entries), not garbage. RSS deltas are reported
 * beside it; RSS only grows in steps as V8 takes pages, so it is the coarser figure.
 * After a second round of mounting and unmounting everything the heap should come back to
 * where the first round left it: `leakKiB`.
 *
 * Given upstream's driver too (`--compare upstream`), both stacks are up at once and each
 * step runs against one right after the other. Upstream's is a Go process: RSS only (its
 * rows say so in `extra.heap`); Go gives freed pages back to the system lazily, so its RSS,
 * like ours, is read once it stops moving.
 *
 * `driver idle, crowded cluster`: a second driver of each kind started against an API server
 * that already holds 10,000 Secrets and 5,000 pods bound to other nodes (none of them the
 * driver's): its idle RSS beside the empty cluster's (`extra.vsEmptyMb`). A driver that
 * watches only its node's pods and the objects it labelled holds none of them.
 */
import { randomUUID } from 'node:crypto';
import { rssBytes, rssParts } from '../../harness/managed-process.js';
import type { StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { connectInspector } from '../inspector-session.js';
import { oursDriver, type DriverUnderTest } from '../driver-under-test.js';
import { startPublishStack, type PublishStack, type PublishTarget } from '../publish-stack.js';
import type { SuiteResult } from '../report.js';

interface MemoryOptions {
  volumes: number;
  /** Besides ours, e.g. upstream's driver (`--compare upstream`): RSS only, each step right after ours. */
  others?: DriverUnderTest[];
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

/** One driver's stack and how to read its memory. */
interface Subject {
  stack: PublishStack;
  rss(): Promise<number>;
  /** RSS split into anonymous and file-backed pages (harness rssParts). */
  parts(): Promise<{ anon: number; file: number } | undefined>;
  /** The used heap after a full garbage collection; only for a Node driver (ours). */
  collectedHeap?: () => Promise<number>;
  close(): void;
}

/** What the crowded cluster holds: Secrets and pods, none of them on the driver's node. */
export const crowd = { secrets: 10_000, pods: 5_000 } as const;

/** Fills `api` with the crowd: Secrets of 1 KiB, pods bound to 50 other nodes. */
function seedCrowd(api: StartedSimApiServer): void {
  const data = { value: Buffer.alloc(1024, 'x').toString('base64') };
  for (let i = 0; i < crowd.secrets; i++) api.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: `crowd-${i}`, namespace: 'default' }, type: 'Opaque', data });
  for (let i = 0; i < crowd.pods; i++) {
    api.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `crowd-${i}`, namespace: 'default', uid: randomUUID() },
      spec: { nodeName: `other-node-${i % 50}`, containers: [{ name: 'app', image: 'busybox' }] },
    });
  }
}

async function subject(driver: DriverUnderTest, crowded = false): Promise<Subject> {
  const stack = await startPublishStack({ objects: 10, objectBytes: 1024, driver, ...(driver.node ? { driverNodeArgs: ['--inspect=127.0.0.1:0'] } : {}), ...(crowded ? { seed: seedCrowd } : {}) });
  const pid = stack.driver.child.pid!;
  const rss = async () => (await rssBytes(pid)) ?? 0;
  const parts = () => rssParts(pid);
  if (!driver.node) return { stack, rss, parts, close: () => undefined };
  try {
    const inspector = await connectInspector(stack.driver);
    return {
      stack,
      rss,
      parts,
      collectedHeap: async () => {
        await inspector.collectGarbage();
        return (await inspector.heapUsage()).usedBytes;
      },
      close: () => inspector.close(),
    };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

interface Readings {
  idleRss: number;
  /**
   * The `driver idle` row's split of its RSS, read right after it settled: `rssAnonMb` (the
   * driver's own allocations) and `rssFileMb` (mapped files, mostly its executable: Node's
   * binary, or upstream's Go binary); empty when unreadable.
   */
  idleParts: { rssAnonMb?: number; rssFileMb?: number };
  idleHeap?: number;
  heap0?: number;
  rss0: number;
  heap1?: number;
  rss1: number;
  heap2?: number;
}

export async function runMemorySuites(options: MemoryOptions): Promise<SuiteResult[]> {
  const subjects: Subject[] = [];
  const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  const kib = (b: number) => Math.round((b / 1024) * 10) / 10;
  const signed = (n: number) => (n < 0 ? String(n) : `+${n}`);
  // The benchmark's pods exist only as targets, so nothing garbage-collects their pod
  // statuses; delete them as the pods' deletion would, so the driver's watch lets go of them.
  const deletePodStatuses = (stack: PublishStack) => {
    for (const s of stack.api.store.list('secretproviderclasspodstatuses', 'default')) stack.api.store.delete('secretproviderclasspodstatuses', 'default', s.metadata.name!);
  };
  /** Runs `step` for every driver, one after the other, so both see the same stretch of the machine's life. */
  const each = async (step: (s: Subject, r: Partial<Readings>) => Promise<void>) => {
    for (const [i, s] of subjects.entries()) await step(s, readings[i]!);
  };
  const readings: Array<Partial<Readings>> = [];
  try {
    for (const driver of [oursDriver, ...(options.others ?? [])]) {
      subjects.push(await subject(driver));
      readings.push({});
    }
    await each(async (s, r) => {
      r.idleRss = await settle(s.rss);
      const parts = await s.parts();
      r.idleParts = parts ? { rssAnonMb: mib(parts.anon), rssFileMb: mib(parts.file) } : {};
      if (s.collectedHeap) r.idleHeap = await s.collectedHeap();
    });
    // The same idle driver, started against a crowded cluster, right after: then gone again.
    const crowdedRows: SuiteResult[] = [];
    for (const [i, driver] of [oursDriver, ...(options.others ?? [])].entries()) {
      const c = await subject(driver, true);
      try {
        const rss = await settle(c.rss);
        const heap = c.collectedHeap ? await c.collectedHeap() : undefined;
        const empty = readings[i]!.idleRss!;
        options.log(`memory (${c.stack.driverName}): idle RSS with ${crowd.secrets} Secrets and ${crowd.pods} pods on other nodes ${mib(rss)} MiB (empty cluster ${mib(empty)} MiB)`);
        crowdedRows.push({
          ...row('driver idle, crowded cluster', rss / 2 ** 20, { secrets: crowd.secrets, podsOnOtherNodes: crowd.pods, emptyClusterMb: mib(empty), vsEmptyMb: mib(rss - empty), ...(heap !== undefined ? { heapMb: mib(heap), emptyClusterHeapMb: mib(readings[i]!.idleHeap ?? 0) } : {}) }),
          ...(c.stack.driverName === 'ours' ? {} : { driver: c.stack.driverName }),
        });
      } finally {
        c.close();
        await c.stack.close();
      }
    }

    // Warm up with a full round of the same size: code compiled, connections open, metric
    // series created, tables grown to their size; what a second round leaves is a leak.
    await each(async (s, r) => {
      const warm: PublishTarget[] = [];
      for (let i = 0; i < options.volumes; i++) warm.push(await s.stack.newTarget());
      await inBatches(warm, 25, (t) => s.stack.publish(t));
      await inBatches(warm, 25, (t) => s.stack.unpublish(t));
      deletePodStatuses(s.stack);
      if (s.collectedHeap) r.heap0 = await settle(s.collectedHeap);
      r.rss0 = await settle(s.rss);
    });

    const targets: PublishTarget[][] = [];
    await each(async (s) => {
      const mine: PublishTarget[] = [];
      for (let i = 0; i < options.volumes; i++) mine.push(await s.stack.newTarget());
      targets.push(mine);
    });
    await each(async (s, r) => {
      await inBatches(targets[subjects.indexOf(s)]!, 25, (t) => s.stack.publish(t));
      if (s.collectedHeap) r.heap1 = await settle(s.collectedHeap);
      r.rss1 = await settle(s.rss);
    });
    await each(async (s, r) => {
      await inBatches(targets[subjects.indexOf(s)]!, 25, (t) => s.stack.unpublish(t));
      deletePodStatuses(s.stack);
      if (s.collectedHeap) r.heap2 = await settle(s.collectedHeap);
    });

    const n = options.volumes;
    const rows: SuiteResult[] = [];
    for (const [i, s] of subjects.entries()) {
      const r = readings[i] as Readings;
      const driver = s.stack.driverName === 'ours' ? {} : { driver: s.stack.driverName };
      const perVolumeRss = kib((r.rss1 - r.rss0) / n);
      if (r.idleHeap !== undefined && r.heap0 !== undefined && r.heap1 !== undefined && r.heap2 !== undefined) {
        options.log(`memory: idle RSS ${mib(r.idleRss)} MiB (heap ${mib(r.idleHeap)} MiB); ${n} volumes: ${signed(kib((r.heap1 - r.heap0) / n))} KiB heap each, ${signed(perVolumeRss)} KiB RSS each; after unmounting all: ${kib(r.heap2 - r.heap0)} KiB heap left`);
        rows.push(
          { ...row('driver idle', r.idleRss / 2 ** 20, { heapMb: mib(r.idleHeap), ...r.idleParts }), ...driver },
          {
            ...row(`driver ${n} volumes mounted`, r.rss1 / 2 ** 20, { volumes: n, heapKiBPerVolume: kib((r.heap1 - r.heap0) / n), rssKiBPerVolume: perVolumeRss, leakKiB: kib(r.heap2 - r.heap0), unpublishRetries: s.stack.unpublishRetries() }),
            ...driver,
          },
        );
      } else {
        const heap = 'not measured: not a Node process (RSS only)';
        options.log(`memory (${s.stack.driverName}): idle RSS ${mib(r.idleRss)} MiB; ${n} volumes: ${signed(perVolumeRss)} KiB RSS each (RSS only: not a Node process)`);
        rows.push(
          { ...row('driver idle', r.idleRss / 2 ** 20, { heap, ...r.idleParts }), ...driver },
          { ...row(`driver ${n} volumes mounted`, r.rss1 / 2 ** 20, { volumes: n, rssKiBPerVolume: perVolumeRss, heap, unpublishRetries: s.stack.unpublishRetries() }), ...driver },
        );
      }
    }
    return [...rows, ...crowdedRows];
  } finally {
    for (const s of subjects.reverse()) {
      s.close();
      await s.stack.close();
    }
  }
}
