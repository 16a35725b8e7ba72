/**
 * `kubectl delete namespace` against the simulated cluster: the namespace goes Terminating,
 * its pods are torn down by their kubelet and its secrets deleted, then the namespace itself
 * is gone; while it terminates, nothing new may be created in it (403 as the real server
 * words it).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { kubectlFor, kubectlVersion } from './kubectl-runner.js';

let c: StartedSimCluster;
const kubectl = kubectlFor(() => c.kubeconfig);

const app = `
apiVersion: v1
kind: Namespace
metadata:
  name: doomed
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: doomed
stringData:
  password: not-printed
---
apiVersion: v1
kind: Secret
metadata:
  name: held
  namespace: doomed
  finalizers: [example.com/hold]
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: app
  namespace: doomed
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: doomed
spec:
  terminationGracePeriodSeconds: 5
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

describe.skipIf(!kubectlVersion)('kubectl delete namespace', () => {
  beforeAll(async () => {
    c = await new SimCluster().start();
    const file = join(c.root, 'doomed.yaml');
    await writeFile(file, app);
    const r = await kubectl('apply', '-f', file);
    expect(r.code, r.err).toBe(0);
    await c.waitForPod({ namespace: 'doomed', name: 'web' }, 'Running', 20_000);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('a new namespace is Active with the kubernetes finalizer', async () => {
    const r = await kubectl('get', 'namespace', 'doomed', '-o', 'jsonpath={.status.phase} {.spec.finalizers}');
    expect(r.out).toBe('Active ["kubernetes"]');
  });

  it('goes Terminating, refuses new content, removes its pods and secrets, then itself', async () => {
    const del = await kubectl('delete', 'namespace', 'doomed', '--wait=false');
    expect(del.code, del.err).toBe(0);
    expect(del.out).toBe('namespace "doomed" deleted\n');

    // A secret with a finalizer of ours holds the namespace in Terminating until we let go.
    const ns = await kubectl('get', 'namespace', 'doomed', '-o', 'jsonpath={.status.phase} {.metadata.deletionTimestamp}');
    expect(ns.out).toMatch(/^Terminating \d{4}-\d\d-\d\dT/);
    const late = join(c.root, 'late.yaml');
    await writeFile(late, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: late\n  namespace: doomed\nstringData:\n  a: b\n');
    const refused = await kubectl('create', '-f', late);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('Error from server (Forbidden): error when creating "' + late + '": secrets "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');

    const podGone = await kubectl('wait', '--for=delete', 'pod/web', '-n', 'doomed', '--timeout=30s');
    expect(podGone.code, podGone.err).toBe(0);
    await expect
      .poll(async () => (await kubectl('get', 'namespace', 'doomed', '-o', 'jsonpath={.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}')).out, { timeout: 10_000 })
      .toBe('Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
    expect((await kubectl('get', 'secrets', '-n', 'doomed', '-o', 'name')).out).toBe('secret/held\n');

    const release = await kubectl('patch', 'secret', 'held', '-n', 'doomed', '--type=merge', '-p', '{"metadata":{"finalizers":null}}');
    expect(release.code, release.err).toBe(0);
    const wait = await kubectl('wait', '--for=delete', 'namespace/doomed', '--timeout=30s');
    expect(wait.code, wait.err).toBe(0);
    const get = await kubectl('get', 'namespace', 'doomed');
    expect(get.err).toContain('Error from server (NotFound): namespaces "doomed" not found');
    const left = await kubectl('get', 'pods,secrets,secretproviderclasses', '-n', 'doomed', '-o', 'name');
    expect(left.out).toBe('');
    await c.waitForPod({ namespace: 'doomed', name: 'web' }, 'Deleted', 1_000);
  });

  it('delete namespace without --wait=false returns once the namespace is gone', async () => {
    const file = join(c.root, 'brief.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: brief\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: brief\nstringData:\n  k: v\n');
    expect((await kubectl('apply', '-f', file)).code).toBe(0);
    const del = await kubectl('delete', 'namespace', 'brief');
    expect(del.code, del.err).toBe(0);
    expect((await kubectl('get', 'namespace', 'brief')).code).not.toBe(0);
  });
});
