/**
 * A pod's create-to-Running time, measured the same way on every target through the
 * `Cluster` contract: from the create request until a pod watch reports the pod Running and
 * Ready (scheduling, the kubelet's NodePublishVolume through the driver, the provider's Mount
 * and, on a real node, the sandbox and container start). One pod at a time, each deleted
 * before the next, so the figure is a pod's start and not a storm's queue.
 *
 * With several targets (the sim beside `sscsi k8s up`'s real node) the pods alternate between
 * them, so both rows see the same minutes of machine noise.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, KubeObject, PodEvent } from '../../cluster/cluster.js';
import { isRunning } from '../../cluster/kube-objects.js';
import { podManifest, spcManifest } from '../../scenarios/fixtures.js';
import { fromSamples, type SuiteResult } from '../report.js';

export interface PodStartupTarget {
  /** The row's label: `pod create-to-Running (<label>)`. */
  label: string;
  start(): Promise<Cluster>;
}

export interface PodStartupOptions {
  pods: number;
  /** Pods started first and not counted (the processes' first calls). */
  warmup: number;
  /** Longest wait for one pod. */
  podTimeoutMs: number;
  log: (line: string) => void;
}

export const podStartupRow = (label: string) => `pod create-to-Running (${label})`;

/** One cluster's side of the measurement: a namespace, an SPC, a pod watch. */
class PodStarter {
  private readonly waiting = new Map<string, (pod: KubeObject) => void>();
  private unwatch: (() => void) | undefined;
  readonly samples: number[] = [];

  constructor(
    readonly cluster: Cluster,
    private readonly namespace: string,
  ) {}

  async prepare(): Promise<void> {
    await this.cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace } }, spcManifest(this.namespace, 'startup', [{ objectName: 'db-password' }, { objectName: 'api-key' }])]);
    this.unwatch = await this.cluster.watchPods(this.namespace, (e: PodEvent) => {
      if (e.type === 'DELETED' || !isRunning(e.pod)) return;
      this.waiting.get(e.pod.metadata.name!)?.(e.pod);
    });
  }

  /** Creates pod `name`, waits until the watch sees it Running, deletes it; the create-to-Running ms. */
  async startOne(name: string, timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const running = new Promise<number>((resolve, reject) => {
      this.waiting.set(name, () => resolve(performance.now()));
      timer = setTimeout(() => reject(new Error(`pod ${this.namespace}/${name} on ${this.cluster.target} not Running within ${timeoutMs} ms`)), timeoutMs);
    });
    const t = performance.now();
    try {
      await this.cluster.apply(podManifest(this.namespace, name, [{ name: 'secrets', spc: 'startup' }]));
      const done = await running.catch(async (err: Error) => {
        // The timeout names where the pod got stuck (phase, conditions, events).
        await this.cluster.waitForPod({ namespace: this.namespace, name }, 'Running', 1);
        throw err;
      });
      return done - t;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(name);
      await this.cluster.delete({ apiVersion: 'v1', kind: 'Pod', namespace: this.namespace, name }, { gracePeriodSeconds: 0 });
      await this.cluster.waitForPod({ namespace: this.namespace, name }, 'Deleted', timeoutMs);
    }
  }

  async finish(): Promise<void> {
    this.unwatch?.();
    await this.cluster.delete({ apiVersion: 'v1', kind: 'Namespace', name: this.namespace });
  }
}

/** Starts each target's cluster, measures `pods` pods on each (alternating), stops them. */
export async function runPodStartupSuites(targets: PodStartupTarget[], options: PodStartupOptions): Promise<SuiteResult[]> {
  const sides: Array<{ label: string; starter: PodStarter }> = [];
  try {
    for (const t of targets) {
      const cluster = await t.start();
      const starter = new PodStarter(cluster, `pod-startup-${randomBytes(3).toString('hex')}`);
      sides.push({ label: t.label, starter });
      await starter.prepare();
    }
    options.log(`pod-startup: ${options.warmup} + ${options.pods} pods one after another on ${sides.map((s) => s.label).join(' and ')}${sides.length > 1 ? ', alternating' : ''}`);
    for (let i = 0; i < options.warmup + options.pods; i++) {
      for (const { starter } of sides) {
        const ms = await starter.startOne(`startup-${i}`, options.podTimeoutMs);
        if (i >= options.warmup) starter.samples.push(ms);
      }
    }
    return sides.map(({ label, starter }) => ({ ...fromSamples(podStartupRow(label), starter.samples), rssMb: null, floorRatio: null }));
  } finally {
    for (const { starter } of sides.reverse()) {
      await starter.finish().catch(() => undefined);
      await starter.cluster.stop().catch(() => undefined);
    }
  }
}
