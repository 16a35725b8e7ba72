/**
 * What the `sscsi k8s up` tests share: why they would skip, the pod that reads an inline
 * secrets-store volume, and what "nothing left" means after the cluster stopped.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { componentBinary, missingBinary, requireBinary } from '../../cluster/k8s/control-plane/binaries.js';
import { processesMentioning } from '../../cluster/k8s/local-cluster/down.js';
import { dockerImagesForNode } from '../../cluster/k8s/node/import-images.js';
import { mountsUnder } from '../../cluster/k8s/node/mounts.js';
import { nodeLockFile } from '../../cluster/k8s/node/node-lock.js';
import { defaultKubeletRootDir } from '../../cluster/k8s/node/paths.js';
import { podCgroups } from '../../cluster/k8s/node/pod-cgroups.js';
import { missingPrerequisites } from '../../cluster/k8s/node/prerequisites.js';

function missingImages(): string[] {
  return dockerImagesForNode.flatMap((image) => {
    try {
      execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
      return [];
    } catch {
      return [`image ${image} not in the Docker engine (npm run sscsi -- image build)`];
    }
  });
}

/** Why `sscsi k8s up` cannot run here (empty when it can). */
export async function k8sUpMissing(): Promise<string[]> {
  const kubelet = componentBinary('kubelet');
  return [
    ...(process.getuid?.() !== 0 ? ['the k8s target needs root'] : []),
    ...[missingBinary(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kubelet'])].filter((m): m is string => m !== undefined),
    ...(kubelet.path ? await missingPrerequisites(kubelet.path) : []),
    ...missingImages(),
  ];
}

export const secretsReaderPod = `apiVersion: v1
kind: Pod
metadata: {name: secrets-reader, namespace: default}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: busybox
      command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
      volumeMounts:
        - {name: secrets, mountPath: /mnt/secrets, readOnly: true}
  volumes:
    - name: secrets
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes: {secretProviderClass: fake-secrets}
`;

export function kubectlFor(kubeconfig: string) {
  return (args: string[], input?: string) => execa(requireBinary('kubectl'), ['--kubeconfig', kubeconfig, ...args], { reject: false, ...(input !== undefined ? { input } : { stdin: 'ignore' }) });
}

/** The cluster's pods, to look for their cgroups and routes once it is gone. */
export async function podTraces(kubeconfig: string): Promise<{ uids: string[]; ips: string[] }> {
  const pods = JSON.parse((await kubectlFor(kubeconfig)(['get', 'pods', '-A', '-o', 'json'])).stdout) as { items: Array<{ metadata: { uid: string }; spec: { hostNetwork?: boolean }; status: { podIP?: string } }> };
  return { uids: pods.items.map((p) => p.metadata.uid), ips: pods.items.filter((p) => !p.spec.hostNetwork && p.status.podIP).map((p) => p.status.podIP!) };
}

/**
 * What is left of a stopped cluster: processes naming its state dir, mounts, its pods' cgroups
 * and routes. Mounts under the kubelet's root dir count only while no other node holds the
 * machine's node lock: once ours is released, a node another test was waiting to start may
 * take it and mount there at once.
 */
export async function leftovers(stateDir: string, traces: { uids: string[]; ips: string[] }): Promise<string[]> {
  const routes = (await execa('ip', ['-4', 'route', 'show'], { reject: false })).stdout;
  const holder = (await readFile(nodeLockFile, 'utf8').catch(() => '')).trim();
  const kubeletRootIsOurs = holder === '' || holder === stateDir;
  return [
    ...(await processesMentioning(stateDir)).map((p) => `process ${p.pid}: ${p.cmdline}`),
    ...(await mountsUnder([...(kubeletRootIsOurs ? [defaultKubeletRootDir] : []), stateDir])).map((m) => `mount ${m}`),
    ...readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(stateDir)).map((l) => `mount ${l}`),
    ...(await podCgroups()).filter((c) => traces.uids.some((uid) => c.includes(`pod${uid}`))).map((c) => `cgroup ${c}`),
    ...traces.ips.filter((ip) => routes.includes(ip)).map((ip) => `route to ${ip}`),
  ];
}
