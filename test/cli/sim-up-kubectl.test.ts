/**
 * A new user's first session: `sscsi sim up`, then kubectl against the kubeconfig it wrote —
 * typed creates (protobuf on the wire), a Deployment scaled and rolled out, a pod whose
 * secrets-store volume its log describes, what the driver's identity may do, server-side
 * apply, and a namespace deleted with everything in it. The expected outputs are kubectl's
 * own wording against a real cluster.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { kubectlFor, kubectlVersion } from '../sim/kubectl-runner.js';

let proc: ManagedProcess | undefined;
let tmp: TempRoot | undefined;
let kubeconfig = '';
const kubectl = kubectlFor(() => kubeconfig);

const driverSa = 'system:serviceaccount:kube-system:secrets-store-csi-driver';

const podWithVolume = `
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: app, namespace: team-a}
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
---
apiVersion: v1
kind: Pod
metadata: {name: reader, namespace: team-a}
spec:
  containers:
    - name: app
      image: busybox
      volumeMounts: [{name: secrets, mountPath: /mnt/secrets-store, readOnly: true}]
  volumes:
    - name: secrets
      csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: app}}
`;

beforeAll(async () => {
  if (!kubectlVersion) return;
  tmp = await makeTempRoot('sim-up-kubectl');
  const state = join(tmp.path, 'state');
  proc = startBin('cli/main.js', ['sim', 'up', '--state-dir', state]);
  await proc.waitForLine(/simulated cluster ready in \d+ ms/, 60_000);
  kubeconfig = (JSON.parse(await readFile(join(state, 'sim.json'), 'utf8')) as { kubeconfig: string }).kubeconfig;
}, 90_000);

afterAll(async () => {
  if (proc) {
    proc.child.kill('SIGTERM');
    await proc.exited();
  }
  await tmp?.cleanup();
});

describe.skipIf(!kubectlVersion)(`kubectl ${kubectlVersion ?? ''} against sscsi sim up`, () => {
  it('creates a namespace, a secret, a configmap, a service account and a deployment with the typed commands', async () => {
    const expectations: Array<[string[], string]> = [
      [['create', 'namespace', 'team-a'], 'namespace/team-a created'],
      [['create', 'secret', 'generic', 'db', '-n', 'team-a', '--from-literal=password=hunter2'], 'secret/db created'],
      [['create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=mode=prod'], 'configmap/settings created'],
      [['create', 'serviceaccount', 'app', '-n', 'team-a'], 'serviceaccount/app created'],
      [['create', 'deployment', 'web', '-n', 'team-a', '--image=busybox'], 'deployment.apps/web created'],
      [['label', 'configmap', 'settings', '-n', 'team-a', 'tier=backend'], 'configmap/settings labeled'],
    ];
    for (const [args, out] of expectations) {
      const r = await kubectl(...args);
      expect(r, args.join(' ')).toMatchObject({ code: 0, out: `${out}\n` });
    }
    expect((await kubectl('get', 'secret', 'db', '-n', 'team-a', '-o', 'jsonpath={.type} {.data.password}')).out).toBe(`Opaque ${Buffer.from('hunter2').toString('base64')}`);
    expect((await kubectl('get', 'configmaps', '-n', 'team-a', '-l', 'tier=backend', '-o', 'name')).out).toBe('configmap/settings\n');
  });

  it('scales the deployment and waits for its rollout', async () => {
    expect((await kubectl('scale', 'deployment', 'web', '-n', 'team-a', '--replicas=2')).out).toBe('deployment.apps/web scaled\n');
    const rollout = await kubectl('rollout', 'status', 'deployment/web', '-n', 'team-a', '--timeout=60s');
    expect(rollout.code, rollout.err).toBe(0);
    expect(rollout.out).toMatch(/deployment "web" successfully rolled out\n$/);
    expect((await kubectl('get', 'deployment', 'web', '-n', 'team-a', '-o', 'jsonpath={.status.readyReplicas}')).out).toBe('2');
  });

  it('runs a pod with a secrets-store volume, whose log names the files and never their bytes', async () => {
    const apply = await kubectl('apply', '-f', await writeManifest(podWithVolume));
    expect(apply.code, apply.err).toBe(0);
    const wait = await kubectl('wait', '--for=condition=Ready', 'pod/reader', '-n', 'team-a', '--timeout=60s');
    expect(wait.out).toBe('pod/reader condition met\n');
    const logs = await kubectl('logs', 'reader', '-n', 'team-a');
    expect(logs.code, logs.err).toBe(0);
    expect(logs.out).toMatch(/db-password/);
    const secret = (await readFile(join(process.cwd(), 'fake-providers', 'examples', 'store.yaml'), 'utf8')).match(/name: db-password\n[\s\S]*?contents: "([^"]+)"/)?.[1];
    expect(secret).toBeTruthy();
    expect(logs.out).not.toContain(secret!);
  });

  it("says what the driver's identity may do", async () => {
    expect(await kubectl('auth', 'can-i', 'create', 'secrets', '-n', 'team-a', `--as=${driverSa}`)).toMatchObject({ code: 0, out: 'yes\n' });
    expect(await kubectl('auth', 'can-i', 'delete', 'pods', '-n', 'team-a', `--as=${driverSa}`)).toMatchObject({ code: 1, out: 'no\n' });
  });

  it('applies server-side, and a second manager conflicts until it forces', async () => {
    const cm = (mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: team-a}\ndata: {mode: ${mode}}\n`;
    expect((await kubectl('apply', '--server-side', '-f', await writeManifest(cm('one')))).out).toBe('configmap/ssa serverside-applied\n');
    const conflict = await kubectl('apply', '--server-side', '--field-manager=other', '-f', await writeManifest(cm('two')));
    expect(conflict.code).toBe(1);
    // The real server names an Apply manager alone ("using <apiVersion> at <time>" is for Update managers).
    expect(conflict.err).toMatch(/^error: Apply failed with 1 conflict: conflict with "kubectl": \.data\.mode\n/);
    expect((await kubectl('apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', await writeManifest(cm('two')))).code).toBe(0);
    expect((await kubectl('get', 'configmap', 'ssa', '-n', 'team-a', '-o', 'jsonpath={.data.mode}')).out).toBe('two');
  });

  it('explains the CSI volume source of a pod', async () => {
    const r = await kubectl('explain', 'pod.spec.volumes.csi');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/FIELD: csi <CSIVolumeSource>/);
    expect(r.out).toMatch(/volumeAttributes\s+<map\[string\]string>/);
  });

  it('deletes the namespace with everything in it', async () => {
    const r = await kubectl('delete', 'namespace', 'team-a', '--timeout=90s');
    expect(r).toMatchObject({ code: 0, out: 'namespace "team-a" deleted\n' });
    const gone = await kubectl('get', 'namespace', 'team-a');
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/namespaces "team-a" not found/);
  });
});

let manifests = 0;
async function writeManifest(text: string): Promise<string> {
  const file = join(tmp!.path, `manifest-${manifests++}.yaml`);
  await writeFile(file, text);
  return file;
}
