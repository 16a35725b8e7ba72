/**
 * The k8s target's node on its own: upstream's kubelet in standalone mode (no API server)
 * over our containerd runs static pods from our locally made images. Checked through the
 * kubelet's own interfaces (its running-pods endpoint, the container logs it writes) and
 * the host (a privileged pod's tmpfs seen on the host through Bidirectional propagation,
 * as the driver DaemonSet needs); then stopping leaves no process, mount, cgroup, CNI
 * lease or veth behind. Needs root and the node's prerequisites; skips naming what is missing.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPrerequisites } from '../../cluster/k8s/node/prerequisites.js';
import { startNode, type RunningNode } from '../../cluster/k8s/node/start-node.js';
import { mountsUnder } from '../../cluster/k8s/node/mounts.js';
import { findProcesses } from '../../cluster/k8s/node/daemon.js';
import { nodeLockFile } from '../../cluster/k8s/node/node-lock.js';
import { defaultKubeletRootDir, nodePaths } from '../../cluster/k8s/node/paths.js';
import { podCgroups } from '../../cluster/k8s/node/pod-cgroups.js';
import { run } from '../../cluster/k8s/node/command.js';
import { registryBinary, registryPaths } from '../../cluster/k8s/node/registry-mirror.js';
import { componentBinary } from '../../cluster/k8s/control-plane/binaries.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { eventually } from '../helpers/eventually.js';

const kubelet = componentBinary('kubelet');
const kubeletBin = kubelet.path ?? '';
const missing = kubelet.missing ? [kubelet.missing] : await missingPrerequisites(kubeletBin);

const token = `hello-${process.pid}`;
// With Debian's docker-registry the node mirrors docker.io locally: the plain pod then keeps
// the default pull policy (Always, for an untagged image) and its image is pulled through it.
const mirror = existsSync(registryBinary);
const nodeName = 'sscsi-standalone';
// Under the kubelet's root dir, which the kubelet makes an rshared mount: Bidirectional
// propagation needs a shared mount at the host path, as the driver's pods dir has.
const hostDir = `/var/lib/kubelet/sscsi-propagation-${process.pid}`;

const plainPod = `apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: default}
spec:
  containers:
    - name: app
      image: busybox${mirror ? '' : '\n      imagePullPolicy: IfNotPresent'}
      command: [sh, -c, 'echo ${token}; trap "exit 0" TERM; while true; do sleep 1; done']
`;

// The shape of the driver DaemonSet's container: privileged, a hostPath with Bidirectional
// propagation, mounting a tmpfs that the host must see.
const privilegedPod = `apiVersion: v1
kind: Pod
metadata: {name: privileged, namespace: default}
spec:
  containers:
    - name: mounter
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      securityContext: {privileged: true}
      command: [sh, -c, 'mkdir -p /host/dir && mount -t tmpfs sscsi-propagation /host/dir && echo ${token} > /host/dir/seen && echo mounted; trap "exit 0" TERM; while true; do sleep 1; done']
      volumeMounts:
        - {name: host, mountPath: /host, mountPropagation: Bidirectional}
  volumes:
    - name: host
      hostPath: {path: ${hostDir}, type: DirectoryOrCreate}
`;

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

interface PodList {
  items?: { metadata: { name: string }; status?: { phase?: string; containerStatuses?: { name: string; image: string; state?: { running?: object } }[] } }[];
}

/** Phase and running containers of each pod, from the kubelet's own /pods endpoint. */
async function kubeletPods(node: RunningNode): Promise<Map<string, { phase: string; running: string[]; images: string[] }>> {
  const r = await fetch(`https://127.0.0.1:${node.kubeletPort}/pods`, { dispatcher: insecure });
  if (!r.ok) throw new Error(`kubelet /pods answered ${r.status}`);
  const list = (await r.json()) as PodList;
  return new Map(
    (list.items ?? []).map((p) => [
      p.metadata.name,
      { phase: p.status?.phase ?? '', running: (p.status?.containerStatuses ?? []).filter((c) => c.state?.running).map((c) => c.name), images: (p.status?.containerStatuses ?? []).map((c) => c.image) },
    ]),
  );
}

async function podRunning(node: RunningNode, name: string): Promise<{ phase: string; running: string[]; images: string[] } | undefined> {
  const pod = (await kubeletPods(node)).get(`${name}-${nodeName}`);
  return pod?.phase === 'Running' && pod.running.length > 0 ? pod : undefined;
}

/** The log the kubelet keeps for a pod's container (podLogsDir/<ns>_<name>_<uid>/<container>/0.log). */
async function containerLog(node: RunningNode, pod: string, container: string): Promise<string> {
  const dirs = (await readdir(node.paths.kubelet.podLogs)).filter((d) => d.startsWith(`default_${pod}-`) || d.startsWith(`default_${pod}_`));
  let text = '';
  for (const d of dirs) text += await readFile(join(node.paths.kubelet.podLogs, d, container, '0.log'), 'utf8').catch(() => '');
  return text;
}

describe.skipIf(missing.length > 0)(`k8s node, kubelet standalone${missing.length ? ` (skipped: ${missing.join('; ')})` : ''}`, () => {
  let tmp: TempRoot;
  let node: RunningNode | undefined;

  beforeAll(async () => {
    tmp = await makeTempRoot('k8s-node');
    node = await startNode({
      stateDir: tmp.path,
      kubeletBin,
      nodeName,
      dockerImages: [],
      staticPods: { 'plain.yaml': plainPod, 'privileged.yaml': privilegedPod },
    });
  }, 180_000);

  afterAll(async () => {
    const report = await node?.stop();
    await tmp?.cleanup();
    expect(report?.leftovers ?? []).toEqual([]);
  }, 120_000);

  it('runs a static busybox pod from the locally made image, its output in the kubelet’s container log', async () => {
    const pod = await eventually(() => podRunning(node!, 'plain'), 'static pod "plain" running', 90_000, 500);
    expect(pod.running).toEqual(['app']);
    const log = await eventually(async () => (await containerLog(node!, 'plain', 'app')).includes(token) && containerLog(node!, 'plain', 'app'), 'the pod’s output in its container log', 30_000, 250);
    expect(log).toContain(token);
  }, 120_000);

  it.skipIf(!mirror)('pulls `busybox` with the default pull policy through the local registry mirror', async () => {
    await eventually(() => podRunning(node!, 'plain'), 'static pod "plain" running', 90_000, 500);
    expect(node!.registryPort).toBeGreaterThan(0);
    const registryLog = await readFile(registryPaths(node!.paths).log, 'utf8');
    // The kubelet's pull resolved the tag through the mirror (`ns=docker.io`: asked as docker.io's mirror).
    expect(registryLog).toMatch(/(HEAD|GET) \/v2\/library\/busybox\/manifests\/latest\?ns=docker\.io/);
  }, 120_000);

  it('runs a privileged pod whose tmpfs, mounted inside with Bidirectional propagation, the host sees', async () => {
    await eventually(() => podRunning(node!, 'privileged'), 'static pod "privileged" running', 90_000, 500);
    const seen = await eventually(() => readFile(join(hostDir, 'dir', 'seen'), 'utf8'), 'the file written in the pod’s tmpfs, on the host', 30_000, 250).catch(async (e: Error) => {
      throw new Error(`${e.message}; the pod's log: ${await containerLog(node!, 'privileged', 'mounter')}`);
    });
    expect(seen.trim()).toBe(token);
    expect(await mountsUnder([join(hostDir, 'dir')])).toEqual([join(hostDir, 'dir')]);
  }, 120_000);

  it('refuses a second node on the machine, naming the running one, and leaves it running', async () => {
    const other = await makeTempRoot('k8s-node-second');
    try {
      await expect(startNode({ stateDir: other.path, kubeletBin, lockWaitMs: 0, dockerImages: [] })).rejects.toThrow(`another k8s node runs on this machine (state dir ${tmp.path})`);
      expect(await podRunning(node!, 'plain')).toBeTruthy();
    } finally {
      await other.cleanup();
    }
  }, 60_000);

  it('stops leaving no process, mount, pod cgroup, CNI lease or veth — even after containerd and the kubelet were SIGKILLed', async () => {
    const n = node!;
    node = undefined;
    const record = JSON.parse(await readFile(n.paths.record, 'utf8')) as { kubeletPid: number; containerdPid: number };
    const shimsBefore = await findProcesses(['-address', n.containerdSocket]);
    expect(shimsBefore.length).toBeGreaterThan(0);
    process.kill(record.kubeletPid, 'SIGKILL');
    process.kill(record.containerdPid, 'SIGKILL');
    const report = await n.stop();
    expect(report.leftovers).toEqual([]);
    expect(await findProcesses(['-address', n.containerdSocket])).toEqual([]);
    expect(await mountsUnder([n.paths.kubelet.rootDir, n.paths.dir])).toEqual([]);
    expect(await podCgroups()).toEqual([]);
    expect(await readdir(n.paths.cni.ipamDir).catch(() => [])).toEqual([]);
    const veths = (await run('ip', ['-o', 'link', 'show', 'type', 'veth'])).stdout.trim();
    expect(veths).toBe('');
    expect(existsSync(nodeLockFile)).toBe(false);
  }, 120_000);

  it('a start whose kubelet dies says so with the end of its log, and leaves nothing', async () => {
    const other = await makeTempRoot('k8s-node-failed');
    try {
      // A "kubelet" that exits at once with a message: the start must fail, not hang.
      const fake = join(other.path, 'kubelet');
      await writeFile(fake, '#!/bin/sh\necho "kubelet: refusing to start (test)" >&2\nexit 3\n', { mode: 0o755 });
      await expect(startNode({ stateDir: other.path, kubeletBin: fake, dockerImages: [], registryMirror: false })).rejects.toThrow(/the kubelet exited \(3\)[\s\S]*kubelet: refusing to start \(test\)/);
      expect(await findProcesses([nodePaths(other.path).containerd.config])).toEqual([]);
      expect(await mountsUnder([defaultKubeletRootDir, other.path])).toEqual([]);
      expect(existsSync(nodeLockFile)).toBe(false);
    } finally {
      await other.cleanup();
    }
  }, 120_000);
});
