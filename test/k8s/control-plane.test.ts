/**
 * The control plane of the k8s target alone (no node): certificates → etcd → kube-apiserver
 * → kube-controller-manager → kube-scheduler as real processes from .peers/bin, checked the
 * way a user would with kubectl. Skips naming what is missing (root, a binary, openssl).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingBinary, requireBinary } from '../../cluster/k8s/control-plane/binaries.js';
import { issueClientCert } from '../../cluster/k8s/control-plane/certificates.js';
import { ComponentError, startComponent } from '../../cluster/k8s/control-plane/component.js';
import { startControlPlane, type ControlPlane } from '../../cluster/k8s/control-plane/control-plane.js';
import { writeKubeconfig } from '../../cluster/k8s/control-plane/kubeconfig.js';
import { eventually } from '../helpers/eventually.js';
import { isRoot, makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

function opensslMissing(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'openssl is not installed (Debian package openssl)';
  }
}

const skipReason = !isRoot ? 'the k8s target needs root' : (missingBinary(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl']) ?? opensslMissing());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(skipReason !== undefined)(`the k8s control plane${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let tmp: TempRoot;
  let plane: ControlPlane | undefined;
  let pids: number[] = [];
  const kubectl = (kubeconfig: string, ...args: string[]) => execa(requireBinary('kubectl'), ['--kubeconfig', kubeconfig, ...args], { reject: false, stdin: 'ignore' });

  beforeAll(async () => {
    tmp = await makeTempRoot('k8s-control-plane');
    const started = performance.now();
    const lines: string[] = [];
    plane = await startControlPlane({ stateDir: tmp.path, nodeName: 'sscsi-test-node', log: (l) => lines.push(l) });
    pids = plane.components.map((c) => c.pid);
    console.log(`control plane up in ${Math.round(performance.now() - started)} ms\n${lines.join('\n')}`);
  }, 240_000);

  afterAll(async () => {
    await plane?.stop();
    await tmp?.cleanup();
  }, 60_000);

  it('answers ok on /readyz through kubectl with the admin kubeconfig', async () => {
    const r = await kubectl(plane!.kubeconfigs.admin, 'get', '--raw', '/readyz');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });

  it('RBAC denies an identity with no role, and allows it once a RoleBinding grants one', async () => {
    const cert = await issueClientCert(plane!.pki, 'jane', 'jane');
    const kubeconfig = await writeKubeconfig(join(tmp.path, 'jane.kubeconfig'), { server: plane!.apiServerUrl, caCert: plane!.pki.ca.cert, client: cert, user: 'jane' });
    const denied = await kubectl(kubeconfig, 'get', 'secrets', '-n', 'default');
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden: User "jane" cannot list resource "secrets"/);
    const admin = plane!.kubeconfigs.admin;
    expect((await kubectl(admin, 'create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane', '-n', 'default')).exitCode).toBe(0);
    // view covers pods but never secrets.
    await eventually(async () => (await kubectl(kubeconfig, 'get', 'pods', '-n', 'default')).exitCode === 0, 'jane may list pods after the RoleBinding');
    expect((await kubectl(kubeconfig, 'get', 'secrets', '-n', 'default')).exitCode).not.toBe(0);
  });

  it('the controller-manager runs its controllers: every namespace gets its default ServiceAccount and the root CA ConfigMap', async () => {
    const admin = plane!.kubeconfigs.admin;
    expect((await kubectl(admin, 'create', 'namespace', 'cp-check')).exitCode).toBe(0);
    await eventually(async () => (await kubectl(admin, 'get', 'serviceaccount', 'default', '-n', 'cp-check')).exitCode === 0, 'the default ServiceAccount in cp-check', 60_000, 200);
    await eventually(async () => (await kubectl(admin, 'get', 'configmap', 'kube-root-ca.crt', '-n', 'cp-check')).exitCode === 0, 'kube-root-ca.crt in cp-check', 60_000, 200);
  });

  it('the scheduler looks at a new pod and marks it Unschedulable (there is no node yet)', async () => {
    const admin = plane!.kubeconfigs.admin;
    const r = await kubectl(admin, 'run', 'waiting', '-n', 'cp-check', '--image=busybox', '--restart=Never', '--', 'true');
    expect(r.exitCode, r.stderr).toBe(0);
    await eventually(
      async () => (await kubectl(admin, 'get', 'pod', 'waiting', '-n', 'cp-check', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}')).stdout === 'Unschedulable',
      'PodScheduled=False reason Unschedulable, set by kube-scheduler',
      40_000,
      200,
    );
  });

  it('a component that cannot start is reported with its name, its log file and the log’s last lines', async () => {
    const logFile = join(tmp.path, 'logs', 'etcd-broken.log');
    const args = [`--data-dir=${join(tmp.path, 'etcd-broken')}`, '--listen-client-urls=http://256.1.1.1:1'];
    const err = await startComponent({ name: 'etcd', binary: requireBinary('etcd'), args, logFile, readyTimeoutMs: 20_000, ready: async () => false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComponentError);
    expect((err as ComponentError).message).toContain(`etcd exited (1) before it was ready; log ${logFile}, last lines:`);
    expect((err as ComponentError).message).toContain('expected IP in URL for binding (http://256.1.1.1:1)');
  });

  it('stop leaves none of its processes running', async () => {
    expect(pids.length).toBe(4);
    expect(pids.every(alive)).toBe(true);
    await plane!.stop();
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
