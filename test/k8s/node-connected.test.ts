/**
 * The k8s target's node joined to its control plane: upstream's kubelet registers with the
 * API server (its client certificate from the cluster CA, Node authorization) and becomes
 * Ready; a busybox pod the scheduler places on it runs with the default pull policy (pulled
 * through the node's local registry mirror when docker-registry is installed), and a user's
 * `kubectl logs` and `kubectl exec` reach it through the API server → kubelet path. Stopping
 * the node leaves nothing. Skips naming what is missing (root, a binary, a package).
 */
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingBinary, requireBinary, componentBinary } from '../../cluster/k8s/control-plane/binaries.js';
import { startControlPlane, type ControlPlane } from '../../cluster/k8s/control-plane/control-plane.js';
import { mountsUnder } from '../../cluster/k8s/node/mounts.js';
import { releaseNodeLock } from '../../cluster/k8s/node/node-lock.js';
import { podCgroups } from '../../cluster/k8s/node/pod-cgroups.js';
import { missingPrerequisites } from '../../cluster/k8s/node/prerequisites.js';
import { startNode, type RunningNode } from '../../cluster/k8s/node/start-node.js';
import { stopNode } from '../../cluster/k8s/node/stop-node.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

function opensslMissing(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'openssl is not installed (Debian package openssl)';
  }
}

const kubelet = componentBinary('kubelet');
const missing = [
  ...[missingBinary(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kubelet']), opensslMissing()].filter((m): m is string => m !== undefined),
  ...(kubelet.path ? await missingPrerequisites(kubelet.path) : []),
];

// The API server reaches the kubelet through the node's Hostname address: this machine's
// hostname resolves to 127.0.0.1, where the kubelet listens.
const nodeName = hostname().toLowerCase();
const token = `hello-${process.pid}`;

const pod = `apiVersion: v1
kind: Pod
metadata: {name: hello, namespace: default}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox
      command: [sh, -c, 'echo ${token}; trap "exit 0" TERM; while true; do sleep 1; done']
`;

describe.skipIf(missing.length > 0)(`k8s node joined to the control plane${missing.length ? ` (skipped: ${missing.join('; ')})` : ''}`, () => {
  let tmp: TempRoot;
  let plane: ControlPlane | undefined;
  let node: RunningNode | undefined;
  const kubectl = (...args: string[]) => execa(requireBinary('kubectl'), ['--kubeconfig', plane!.kubeconfigs.admin, ...args], { reject: false, stdin: 'ignore' });

  beforeAll(async () => {
    tmp = await makeTempRoot('k8s-node-connected');
    plane = await startControlPlane({ stateDir: tmp.path, nodeName });
    const started = performance.now();
    node = await startNode({
      stateDir: tmp.path,
      kubeletBin: kubelet.path!,
      nodeName,
      apiServer: { kubeconfig: plane.kubeconfigs.kubelet, clientCaFile: plane.pki.ca.cert, tlsCertFile: plane.pki.kubeletServing.cert, tlsPrivateKeyFile: plane.pki.kubeletServing.key },
      dockerImages: [],
      // Another test file's node may hold the machine: wait for it, then fail naming it.
      lockWaitMs: 200_000,
    });
    console.log(`node Ready in ${Math.round(performance.now() - started)} ms (containerd, images, kubelet)`);
  }, 300_000);

  afterAll(async () => {
    const report = await node?.stop();
    await plane?.stop();
    await tmp?.cleanup();
    expect(report?.leftovers ?? []).toEqual([]);
  }, 120_000);

  it('registers the node, Ready, as kubectl shows it', async () => {
    const r = await kubectl('get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('True');
  });

  it('runs a busybox pod with the default pull policy; kubectl logs and exec reach it', async () => {
    // The service-account controller makes the namespace's `default` account a moment after
    // the control plane is up; until then admission refuses any pod (as on any new cluster).
    await eventually(
      async () => {
        const r = await kubectl('get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name');
        if (r.stdout === 'serviceaccount/default') return true;
        throw new Error(`serviceaccount default/default: ${r.stderr}`);
      },
      'the default service account in namespace default',
      60_000,
    );
    const applied = await execa(requireBinary('kubectl'), ['--kubeconfig', plane!.kubeconfigs.admin, 'apply', '-f', '-'], { input: pod, reject: false });
    expect(applied.stderr).toBe('');
    await eventually(
      async () => {
        const r = await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.phase} {.spec.nodeName}');
        if (r.stdout === `Running ${nodeName}`) return true;
        throw new Error(`pod hello: ${r.stdout} ${r.stderr}`);
      },
      'pod hello Running on the node',
      120_000,
      500,
    );
    const logs = await eventually(async () => {
      const r = await kubectl('logs', 'hello');
      return r.stdout.includes(token) ? r.stdout : undefined;
    }, 'kubectl logs hello to show the pod’s output', 30_000, 500);
    expect(logs.trim()).toBe(token);
    const exec = await kubectl('exec', 'hello', '--', 'sh', '-c', 'echo exec-$((6*7)); cat /etc/hostname');
    expect(exec.stderr).toBe('');
    expect(exec.stdout.split('\n')).toEqual(['exec-42', 'hello']);
  }, 180_000);

  it('deletes the pod, then stops leaving no process, mount, pod cgroup or CNI lease', async () => {
    const del = await kubectl('delete', 'pod', 'hello', '--wait=true', '--timeout=60s');
    expect(del.stderr).toBe('');
    const n = node!;
    node = undefined;
    // Stopped keeping the machine's node lock, so no other test file's node can start before
    // the machine-wide checks below (kubelet root dir, kubepods cgroups, veths) are done.
    const report = await stopNode(tmp.path, { keepLock: true });
    expect(report.leftovers).toEqual([]);
    expect(await mountsUnder([n.paths.kubelet.rootDir, n.paths.dir])).toEqual([]);
    expect(await podCgroups()).toEqual([]);
    await releaseNodeLock(tmp.path);
  }, 120_000);
});
