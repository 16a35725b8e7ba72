/**
 * `sscsi demo`: one publish end to end with real processes on real sockets — the embedded
 * API server, the fake provider and the driver binaries — driven over the CSI socket as
 * the kubelet drives it. Prints what a user would look at and fails loudly if any step
 * does not hold.
 */
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csiClient } from '../harness/csi-client.js';
import { mountsUnder } from '../driver/mount/mount-info.js';
import { unmountPath } from '../driver/mount/tmpfs-mounter.js';
import { startBin, type ManagedProcess } from '../harness/managed-process.js';
import { SimApiServer } from '../sim/apiserver/api-server.js';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`  ✓ ${what}`);
}

export async function runDemo(): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'sscsi-demo-'));
  const procs: ManagedProcess[] = [];
  const api = await new SimApiServer().start();
  try {
    console.log(`secrets-store-csi-ts demo (temp root ${root})\n`);
    const providerDir = join(root, 'providers');
    const socketDir = join(root, 'plugins', 'csi-secrets-store');
    await mkdir(providerDir, { recursive: true });
    const kubeconfig = join(root, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    console.log(`1. Kubernetes API (embedded) at ${api.url}`);

    const provider = startBin('fake-providers/main.js', ['--name', 'fake', '--socket', join(providerDir, 'fake.sock'), '--control-addr', '127.0.0.1:0']);
    procs.push(provider);
    const ready = JSON.parse(await provider.waitForLine(/^\{"ready":true/)) as { control: string };
    console.log(`2. fake provider on ${join(providerDir, 'fake.sock')}, control API ${ready.control}`);

    const endpoint = join(socketDir, 'csi.sock');
    const driver = startBin('driver/main.js', [
      `--endpoint=unix://${endpoint}`,
      '--nodeid=demo-node',
      `--kubeconfig=${kubeconfig}`,
      `--provider-volume=${providerDir}`,
      `--additional-provider-volume-paths=${join(root, 'no-such-dir')}`,
      '--log-format-json',
    ]);
    procs.push(driver);
    const serving = JSON.parse(await driver.waitForLine(/CSI driver serving/)) as { mountMode: string };
    console.log(`3. driver on ${endpoint} (mount mode: ${serving.mountMode})`);

    api.store.create('secretproviderclasses', {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'demo-secrets', namespace: 'default' },
      spec: {
        provider: 'fake',
        parameters: { objects: '- objectName: db-password\n  mode: "0600"\n- objectName: api-key\n  fileName: keys/api-key\n' },
      },
    });
    console.log('4. SecretProviderClass default/demo-secrets created (db-password, api-key)');

    const node = csiClient(endpoint);

    const podUid = 'd3m0d3m0-0000-4000-8000-000000000001';
    const target = join(root, 'pods', podUid, 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
    await mkdir(join(target, '..'), { recursive: true });
    const started = performance.now();
    await node.nodePublishVolume({
      volume_id: `csi-${podUid}`,
      target_path: target,
      readonly: true,
      volume_capability: { mount: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
      volume_context: {
        secretProviderClass: 'demo-secrets',
        'csi.storage.k8s.io/pod.name': 'demo-pod',
        'csi.storage.k8s.io/pod.namespace': 'default',
        'csi.storage.k8s.io/pod.uid': podUid,
        'csi.storage.k8s.io/serviceAccount.name': 'default',
        'csi.storage.k8s.io/ephemeral': 'true',
      },
    });
    console.log(`5. NodePublishVolume ok in ${(performance.now() - started).toFixed(1)} ms → ${target}`);
    for (const entry of (await readdir(target)).sort()) {
      const st = await lstat(join(target, entry));
      const link = st.isSymbolicLink() ? ` -> ${await readlink(join(target, entry))}` : '/';
      console.log(`     ${entry}${link}`);
    }
    const mounts = await mountsUnder(target);
    if (serving.mountMode === 'tmpfs') check(mounts.some((m) => m.mountPoint === target && m.fsType === 'tmpfs'), 'the target is a tmpfs mount (/proc/self/mountinfo)');
    const password = await readFile(join(target, 'db-password'), 'utf8');
    check(password.length > 0, `db-password readable (${password.length} bytes, mode ${((await stat(join(target, 'db-password'))).mode & 0o777).toString(8)})`);
    check(((await stat(join(target, 'db-password'))).mode & 0o777) === 0o600, 'db-password has mode 0600 from the SecretProviderClass');
    check(((await stat(join(target, 'keys/api-key'))).mode & 0o777) === 0o644, 'keys/api-key has the default mode 0644');

    const status = api.store.get('secretproviderclasspodstatuses', 'default', 'demo-pod-default-demo-secrets') as {
      metadata: { labels: Record<string, string>; ownerReferences: Array<{ kind: string; name: string }> };
      status: { mounted: boolean; objects: Array<{ id: string; version: string }> };
    } | undefined;
    check(status !== undefined, 'SecretProviderClassPodStatus default/demo-pod-default-demo-secrets recorded');
    console.log(`     objects: ${JSON.stringify(status!.status.objects)}`);
    check(status!.metadata.labels['internal.secrets-store.csi.k8s.io/node-name'] === 'demo-node', 'labelled with the node');
    check(status!.metadata.ownerReferences[0]?.kind === 'Pod', 'owned by the pod');

    await node.nodeUnpublishVolume({ volume_id: `csi-${podUid}`, target_path: target });
    console.log('6. NodeUnpublishVolume ok');
    check((await mountsUnder(target)).length === 0, 'no mount left');
    check(await lstat(target).then(() => false, () => true), 'target directory removed');
    node.close();
    console.log('\ndemo passed');
    return 0;
  } catch (err) {
    console.error(`\ndemo FAILED: ${(err as Error).message}`);
    return 1;
  } finally {
    for (const p of procs.reverse()) await p.kill();
    await api.stop();
    for (const m of await mountsUnder(root)) unmountPath(m.mountPoint, true);
    await rm(root, { recursive: true, force: true });
  }
}
