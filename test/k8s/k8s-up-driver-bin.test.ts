/**
 * `sscsi k8s up --driver-bin` with upstream's driver (.peers/bin/secrets-store-csi-driver), as a
 * process on the host beside the DaemonSet's registrar and liveness probe, and with
 * `--driver-in-pod` as the DaemonSet's driver container (an image made from the binary): the
 * real kubelet mounts a pod's inline volume through it, and Ctrl-C on `up` leaves nothing behind.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimDescription } from '../../cluster/sim/sim-cluster.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { peer } from '../../harness/peers.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { k8sUpMissing, kubectlFor, leftovers, podTraces, secretsReaderPod } from './k8s-checks.js';

const upstream = peer('secrets-store-csi-driver');
const missing = [...(await k8sUpMissing()), ...(upstream.missing !== undefined ? [upstream.missing] : [])];

const modes = [
  { inPod: false, title: "upstream's driver on the host" },
  { inPod: true, title: "upstream's driver as the DaemonSet's container" },
];

describe.skipIf(missing.length > 0).each(modes)(`sscsi k8s up --driver-bin ($title)${missing.length ? ` (skipped: ${missing.join('; ')})` : ''}`, ({ inPod }) => {
  let tmp: TempRoot;
  let up: ManagedProcess | undefined;
  let sim: SimDescription;

  beforeAll(async () => {
    tmp = await makeTempRoot('k8s-up-driver-bin');
    up = startBin('cli/main.js', ['k8s', 'up', '--state-dir', tmp.path, '--driver-bin', upstream.path!, ...(inPod ? ['--driver-in-pod'] : [])]);
    await up.waitForLine(/^k8s cluster ready in \d+ ms/, 600_000);
    sim = JSON.parse(await readFile(join(tmp.path, 'sim.json'), 'utf8')) as SimDescription;
  }, 660_000);

  afterAll(async () => {
    await up?.kill('SIGINT');
    await tmp?.cleanup();
  }, 300_000);

  it('names the binary in sim.json; the DaemonSet runs only the sidecars, or the binary in its driver container', async () => {
    expect(sim.driver.bin).toBe(upstream.path);
    const kubectl = kubectlFor(sim.kubeconfig);
    const containers = await kubectl(['-n', 'kube-system', 'get', 'daemonset', 'csi-secrets-store', '-o', 'jsonpath={range .spec.template.spec.containers[*]}{.name}={.image}{"\\n"}{end}']);
    const byName = new Map(containers.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
    if (inPod) {
      expect([...byName.keys()].sort()).toEqual(['liveness-probe', 'node-driver-registrar', 'secrets-store']);
      expect(byName.get('secrets-store')).toMatch(/^docker\.io\/secrets-store-csi-ts\/driver-bin:[0-9a-f]{12}$/);
      // What runs in the pod is upstream's binary: its version, as its own log says it.
      const log = await kubectl(['-n', 'kube-system', 'logs', 'daemonset/csi-secrets-store', '-c', 'secrets-store']);
      expect(log.stdout).toMatch(/"version":"v1\.6\.0"/);
    } else {
      expect([...byName.keys()]).toEqual(['node-driver-registrar', 'liveness-probe']);
    }
    expect((await fetch(sim.driver.metrics)).status).toBe(200);
  });

  it('the real kubelet mounts a pod’s inline volume through that driver', async () => {
    const kubectl = kubectlFor(sim.kubeconfig);
    expect((await kubectl(['apply', '-f', 'kind/examples/fake-provider-spc.yaml'])).exitCode).toBe(0);
    expect((await kubectl(['apply', '-f', '-'], secretsReaderPod)).exitCode).toBe(0);
    const wait = await kubectl(['wait', '--for=condition=Ready', 'pod/secrets-reader', '--timeout=180s']);
    expect(wait.exitCode, wait.stderr).toBe(0);
    expect((await kubectl(['exec', 'secrets-reader', '--', 'ls', '/mnt/secrets'])).stdout.split('\n').filter(Boolean).sort()).toEqual(['db-password', 'db-username', 'keys']);
    // The pod status object only a driver that served the mount writes.
    expect((await kubectl(['get', 'secretproviderclasspodstatus', 'secrets-reader-default-fake-secrets', '-o', 'jsonpath={.status.mounted}'])).stdout).toBe('true');
  });

  it('Ctrl-C on up stops everything, the driver too, and leaves nothing', async () => {
    const traces = await podTraces(sim.kubeconfig);
    up!.child.kill('SIGINT');
    expect(await up!.exited()).toBe(0);
    expect(up!.stderr()).toMatch(/^stopped$/m);
    expect(await leftovers(tmp.path, traces)).toEqual([]);
  }, 300_000);
});
