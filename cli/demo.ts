/**
 * `sscsi demo` (the README's main job until the scenarios exist): a pod with a
 * secrets-store volume on the simulated cluster, end to end — the driver and the fake
 * provider as real processes on real sockets, the kubelet publishing over the CSI socket.
 * Prints what a user would look at and fails loudly if any step does not hold.
 */
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { mountsUnder } from '../driver/mount/mount-info.js';
import { SimCluster } from '../cluster/sim/sim-cluster.js';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`  ✓ ${what}`);
}

const manifests = `
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: demo-secrets
  namespace: default
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
        mode: "0600"
      - objectName: api-key
        fileName: keys/api-key
---
apiVersion: v1
kind: Pod
metadata:
  name: demo-app
  namespace: default
spec:
  containers:
    - name: app
      image: registry.example/app:1.0
      volumeMounts:
        - name: secrets
          mountPath: /mnt/secrets
          readOnly: true
  volumes:
    - name: secrets
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes:
          secretProviderClass: demo-secrets
`;

export async function runDemo(): Promise<number> {
  const started = performance.now();
  const cluster = await new SimCluster().start();
  try {
    const node = cluster.nodes[0]!;
    const mode = /"mountMode":"(\w+)"/.exec(node.driver.logs())?.[1] ?? 'unknown';
    console.log(`secrets-store-csi-ts demo on the simulated cluster (ready in ${Math.round(performance.now() - started)} ms)\n`);
    console.log(`1. API server ${cluster.api.url}, kubeconfig ${cluster.kubeconfig}`);
    console.log(`2. driver on unix://${node.csiSocket} (mount mode: ${mode}), fake provider control ${node.providers[0]!.control}`);
    await cluster.apply(manifests);
    console.log('3. applied SecretProviderClass default/demo-secrets and Pod default/demo-app');
    const t = performance.now();
    const pod = await cluster.waitForPod({ namespace: 'default', name: 'demo-app' }, 'Running', 30_000);
    console.log(`4. pod Running in ${Math.round(performance.now() - t)} ms`);
    const target = node.kubelet.targetPath(pod!.metadata.uid!, 'secrets');
    console.log(`   volume at ${target}:`);
    for (const entry of (await readdir(target)).sort()) {
      const st = await lstat(join(target, entry));
      console.log(`     ${entry}${st.isSymbolicLink() ? ` -> ${await readlink(join(target, entry))}` : '/'}`);
    }
    if (mode === 'tmpfs') check((await mountsUnder(target)).some((m) => m.mountPoint === target && m.fsType === 'tmpfs'), 'the volume is a tmpfs mount (/proc/self/mountinfo)');
    const password = (await cluster.readFile({ namespace: 'default', name: 'demo-app' }, 'secrets', 'db-password')).toString();
    check(password.length > 0, `db-password readable by the container (${password.length} bytes)`);
    check(((await stat(join(target, 'db-password'))).mode & 0o777) === 0o600, 'db-password has mode 0600 from the SecretProviderClass');
    check(((await stat(join(target, 'keys/api-key'))).mode & 0o777) === 0o644, 'keys/api-key has the default mode 0644');
    const status = await cluster.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: 'default', name: 'demo-app-default-demo-secrets' });
    check(status !== undefined, 'SecretProviderClassPodStatus default/demo-app-default-demo-secrets recorded');
    console.log(`     objects: ${JSON.stringify((status!.status as { objects: unknown }).objects)}`);
    check(status!.metadata.labels?.['internal.secrets-store.csi.k8s.io/node-name'] === node.name, `labelled with the node (${node.name})`);
    check(status!.metadata.ownerReferences?.[0]?.uid === pod!.metadata.uid, 'owned by the pod');

    await cluster.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'demo-app' });
    await cluster.waitForPod({ namespace: 'default', name: 'demo-app' }, 'Deleted', 30_000);
    console.log('5. pod deleted');
    check((await mountsUnder(target)).length === 0, 'volume unpublished: no mount left');
    check(await lstat(join(target, '..', '..', '..')).then(() => false, () => true), "the pod's directory is gone");
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      gone = (await cluster.get({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassPodStatus', namespace: 'default', name: 'demo-app-default-demo-secrets' })) === undefined;
      if (!gone) await new Promise((r) => setTimeout(r, 50));
    }
    check(gone, 'SecretProviderClassPodStatus garbage-collected with its pod');
    console.log('\ndemo passed');
    return 0;
  } catch (err) {
    console.error(`\ndemo FAILED: ${(err as Error).message}`);
    console.error(`driver log tail:\n${cluster.nodes[0]?.driver.logs().slice(-2000)}`);
    return 1;
  } finally {
    await cluster.stop();
  }
}
