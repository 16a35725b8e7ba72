/**
 * The simulated cluster as users meet it: how long `sscsi sim up`'s cluster takes to be
 * ready (API server, control plane, fake provider and driver processes up, kubelet
 * registered), and a pod's create-to-Running time on it — from the create request over
 * HTTPS until the API server records the pod Ready (scheduling, the kubelet's
 * NodePublishVolume through the driver, the provider call and the status update included).
 */
import type { KubeObject } from '../../sim/apiserver/object-store.js';
import { rssBytes } from '../../harness/managed-process.js';
import { SimCluster } from '../../cluster/sim/sim-cluster.js';
import { fromSamples, type SuiteResult } from '../report.js';

interface SimClusterBenchOptions {
  starts: number;
  pods: number;
  log: (line: string) => void;
}

const isReady = (o: KubeObject) =>
  ((o.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export async function runSimClusterSuites(options: SimClusterBenchOptions): Promise<SuiteResult[]> {
  const startSamples: number[] = [];
  for (let i = 0; i < options.starts; i++) {
    const t = performance.now();
    const c = await new SimCluster().start();
    startSamples.push(performance.now() - t);
    await c.stop();
  }
  const c = await new SimCluster().start();
  try {
    options.log(`sim-cluster: ${options.starts} starts, then ${options.pods} pods one after another`);
    await c.apply(`
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: bench, namespace: default}
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
      - objectName: api-key
`);
    const podSamples: number[] = [];
    for (let i = 0; i < options.pods + 3; i++) {
      const name = `bench-${i}`;
      const ready = new Promise<number>((resolve) => {
        const off = c.api.store.onEvent((e) => {
          if (e.plural === 'pods' && e.object.metadata.name === name && isReady(e.object)) {
            off();
            resolve(performance.now());
          }
        });
      });
      const t = performance.now();
      await c.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: {
          containers: [{ name: 'app', image: 'busybox' }],
          volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'bench' } } }],
        },
      });
      const done = await Promise.race([ready, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`pod ${name} not Running within 30 s`)), 30_000))]);
      if (i >= 3) podSamples.push(done - t); // the first pods warm up the processes
      await c.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name });
      await c.waitForPod({ namespace: 'default', name }, 'Deleted', 30_000);
    }
    const driverPid = c.nodes[0]!.driver.pid();
    const rss = driverPid === undefined ? undefined : await rssBytes(driverPid);
    return [
      { ...fromSamples('sim-up ready', startSamples), rssMb: null, floorRatio: null },
      { ...fromSamples('sim pod create-to-Running', podSamples), rssMb: rss === undefined ? null : rss / 2 ** 20, floorRatio: null },
    ];
  } finally {
    await c.stop();
  }
}
