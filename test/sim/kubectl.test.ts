/**
 * Plain kubectl against the simulated cluster's admin kubeconfig, without extra flags:
 * apply -f, get (tables, -A, several kinds, -o yaml, -o jsonpath), re-apply, delete.
 * Skipped with a message where kubectl is not installed.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { kubectlFor, kubectlVersion } from './kubectl-runner.js';

let c: StartedSimCluster;
const kubectl = kubectlFor(() => c.kubeconfig, 30_000);

const manifest = `
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
apiVersion: v1
kind: Pod
metadata:
  name: web
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

describe.skipIf(!kubectlVersion)(`kubectl ${kubectlVersion ?? ''} against the simulated cluster`, () => {
  let file: string;
  beforeAll(async () => {
    c = await new SimCluster().start();
    file = join(c.root, 'app.yaml');
    await writeFile(file, manifest);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('apply -f creates the objects and the pod runs', async () => {
    const r = await kubectl('apply', '-f', file);
    expect(r.err).toBe('');
    expect(r.out).toContain('secretproviderclass.secrets-store.csi.x-k8s.io/app created');
    expect(r.out).toContain('pod/web created');
    await c.waitForPod({ namespace: 'default', name: 'web' }, 'Running', 20_000);
  });

  it('get pods,secretproviderclasses,secretproviderclasspodstatuses -A prints tables', async () => {
    const r = await kubectl('get', 'pods,secretproviderclasses,secretproviderclasspodstatuses', '-A');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    expect(r.out).toMatch(/default\s+pod\/web\s+1\/1\s+Running\s+0/);
    expect(r.out).toContain('secretproviderclass.secrets-store.csi.x-k8s.io/app');
    expect(r.out).toContain('secretproviderclasspodstatus.secrets-store.csi.x-k8s.io/web-default-app');
  });

  it('get -o yaml and -o jsonpath read the objects', async () => {
    const yaml = await kubectl('get', 'secretproviderclasspodstatus', 'web-default-app', '-o', 'yaml');
    expect(yaml.code, yaml.err).toBe(0);
    expect(yaml.out).toContain('kind: SecretProviderClassPodStatus');
    expect(yaml.out).toContain('internal.secrets-store.csi.k8s.io/node-name: sim-node');
    const jp = await kubectl('get', 'pod', 'web', '-o', 'jsonpath={.status.phase} {.spec.nodeName}');
    expect(jp.out).toBe('Running sim-node');
  });

  it('re-apply of an unchanged file changes nothing; a changed one is patched', async () => {
    expect((await kubectl('apply', '-f', file)).out).toContain('secretproviderclass.secrets-store.csi.x-k8s.io/app unchanged');
    await writeFile(file, manifest.replace('provider: fake', 'provider: fake\n  secretObjects: []'));
    const r = await kubectl('apply', '-f', file);
    expect(r.out, r.err).toContain('secretproviderclass.secrets-store.csi.x-k8s.io/app configured');
  });

  it('delete -f removes them; the pod goes through its kubelet', async () => {
    const r = await kubectl('delete', '-f', file);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('pod "web" deleted');
    await c.waitForPod({ namespace: 'default', name: 'web' }, 'Deleted', 30_000);
    const after = await kubectl('get', 'pods', '-A');
    expect(after.out + after.err).toMatch(/No resources found/);
    const missing = await kubectl('get', 'pod', 'web');
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('Error from server (NotFound): pods "web" not found');
  });
});
