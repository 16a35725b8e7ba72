/**
 * A Deployment's everyday commands against the simulated cluster: `kubectl scale` through
 * the scale subresource, `kubectl rollout status` until the rollout completes, and `kubectl
 * wait` for a condition and for deletion. What is expected is what kubectl prints against a
 * real cluster for the same commands.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { kubectlFor, kubectlVersion } from './kubectl-runner.js';

let c: StartedSimCluster;
const kubectl = kubectlFor(() => c.kubeconfig);

const deployment = `
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: app
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: busybox
      volumes:
        - name: secrets
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes:
              secretProviderClass: app
`;

describe.skipIf(!kubectlVersion)('kubectl scale, rollout status, wait', () => {
  beforeAll(async () => {
    c = await new SimCluster().start();
    const file = join(c.root, 'web.yaml');
    await writeFile(file, deployment);
    const r = await kubectl('apply', '-f', file);
    expect(r.code, r.err).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('rollout status waits for the first replica set and says it rolled out', async () => {
    const r = await kubectl('rollout', 'status', 'deployment/web', '--timeout=30s');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('deployment "web" successfully rolled out');
    const conditions = await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason}{"\\n"}{end}');
    expect(conditions.out).toBe('Available=True/MinimumReplicasAvailable\nProgressing=True/NewReplicaSetAvailable\n');
  });

  it('scale reads and writes the autoscaling/v1 Scale; rollout status follows to 3 ready', async () => {
    const scale = await kubectl('get', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/scale');
    const s = JSON.parse(scale.out) as { apiVersion: string; kind: string; spec: { replicas: number }; status: { replicas: number; selector: string } };
    expect(s).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 1 }, status: { replicas: 1, selector: 'app=web' } });

    const r = await kubectl('scale', 'deployment', 'web', '--replicas=3');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('deployment.apps/web scaled\n');
    const status = await kubectl('rollout', 'status', 'deployment/web', '--timeout=30s');
    expect(status.code, status.err).toBe(0);
    expect(status.out).toContain('deployment "web" successfully rolled out');
    const counts = await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas} {.status.replicas} {.status.updatedReplicas} {.status.readyReplicas} {.status.availableReplicas}');
    expect(counts.out).toBe('3 3 3 3 3');
    const gen = await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.metadata.generation} {.status.observedGeneration}');
    expect(gen.out).toBe('2 2');
    expect((await kubectl('get', 'pods', '-l', 'app=web', '-o', 'name')).out.trim().split('\n')).toHaveLength(3);
  });

  it('wait --for=condition=Ready on the pods, then --for=delete on one that is deleted', async () => {
    const ready = await kubectl('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s');
    expect(ready.code, ready.err).toBe(0);
    const names = ready.out.trim().split('\n');
    expect(names).toHaveLength(3);
    for (const line of names) expect(line).toMatch(/^pod\/web-[a-z0-9]+-[a-z0-9]+ condition met$/);
    const pod = names[0]!.split(' ')[0]!;

    const del = await kubectl('delete', pod, '--wait=false');
    expect(del.code, del.err).toBe(0);
    const gone = await kubectl('wait', '--for=delete', pod, '--timeout=30s');
    expect(gone.code, gone.err).toBe(0);
    // A pod already gone when kubectl looks is as good as deleted (kubectl 1.32 says nothing, or "condition met").
    expect(gone.out).toMatch(/^(|pod\/web-\S+ condition met\n)$/);
  });

  it('scale to 0 and back; wait on a missing pod times out with an error', async () => {
    expect((await kubectl('scale', 'deployment/web', '--replicas=0')).out).toBe('deployment.apps/web scaled\n');
    const status = await kubectl('rollout', 'status', 'deployment/web', '--timeout=30s');
    expect(status.out).toContain('deployment "web" successfully rolled out');
    expect((await kubectl('get', 'pods', '-l', 'app=web', '-o', 'name')).out).toBe('');
    const never = await kubectl('wait', '--for=condition=Ready', 'pod/nope', '--timeout=1s');
    expect(never.code).not.toBe(0);
    expect(never.err).toContain('pods "nope" not found');
  });
});
