/**
 * `kubectl auth can-i` and `kubectl auth whoami` against the simulated cluster, for the
 * admin and, through impersonation (`--as`), for the driver's ServiceAccount. What the
 * driver may do is read off kind/manifests/rbac-*.yaml (written here by hand from those
 * files, not from the authorizer); yes/no and exit codes are kubectl's (0 yes, 1 no).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { kubectlFor, kubectlVersion } from './kubectl-runner.js';

let c: StartedSimCluster;
const kubectl = kubectlFor(() => c.kubeconfig);
const asDriver = kubectlFor(() => join(c.root, 'driver-kubeconfig'));
const driverSa = 'system:serviceaccount:kube-system:secrets-store-csi-driver';

/** [what, namespace, expected answer] — from rbac-secretproviderclass.yaml and rbac-secretprovidersyncing.yaml. */
const driverCan: Array<[string[], string, 'yes' | 'no']> = [
  [['create', 'secrets'], 'default', 'yes'],
  [['delete', 'secrets'], 'default', 'yes'],
  [['get', 'pods'], 'default', 'yes'],
  [['watch', 'pods'], 'kube-system', 'yes'],
  [['delete', 'pods'], 'default', 'no'],
  [['create', 'pods'], 'default', 'no'],
  [['create', 'events'], 'default', 'yes'],
  [['delete', 'events'], 'default', 'no'],
  [['list', 'secretproviderclasses.secrets-store.csi.x-k8s.io'], 'default', 'yes'],
  [['create', 'secretproviderclasses.secrets-store.csi.x-k8s.io'], 'default', 'no'],
  [['create', 'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io'], 'default', 'yes'],
  [['update', 'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io', '--subresource=status'], 'default', 'yes'],
  [['delete', 'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io', '--subresource=status'], 'default', 'no'],
  [['get', 'csidrivers.storage.k8s.io/secrets-store.csi.k8s.io'], '', 'yes'],
  [['get', 'csidrivers.storage.k8s.io/other.csi.k8s.io'], '', 'no'],
  [['list', 'nodes'], '', 'no'],
  [['create', 'selfsubjectaccessreviews.authorization.k8s.io'], '', 'yes'],
];

describe.skipIf(!kubectlVersion)('kubectl auth', () => {
  beforeAll(async () => {
    c = await new SimCluster().start();
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('can-i as the admin: yes to everything', async () => {
    const r = await kubectl('auth', 'can-i', 'create', 'secrets', '-n', 'default');
    expect(r).toMatchObject({ code: 0, out: 'yes\n' });
    expect((await kubectl('auth', 'can-i', '*', '*', '--all-namespaces')).out).toBe('yes\n');
  });

  it.each(driverCan)('can-i %j in %j as the driver', async (what, namespace, expected) => {
    const r = await kubectl('auth', 'can-i', ...what, `--as=${driverSa}`, ...(namespace ? ['-n', namespace] : []));
    expect(r.out, r.err).toBe(`${expected}\n`);
    expect(r.code).toBe(expected === 'yes' ? 0 : 1);
  });

  it('can-i --list as the driver lists its rules', async () => {
    const r = await kubectl('auth', 'can-i', '--list', `--as=${driverSa}`, '-n', 'default');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n/);
    expect(r.out).toMatch(/\nsecretproviderclasspodstatuses\.secrets-store\.csi\.x-k8s\.io\s+\[\]\s+\[\]\s+\[create delete get list patch update watch\]\n/);
    expect(r.out).toMatch(/\ncsidrivers\.storage\.k8s\.io\s+\[\]\s+\[secrets-store\.csi\.k8s\.io\]\s+\[get list watch\]\n/);
    expect(r.out).toMatch(/\nsecrets\s+\[\]\s+\[\]\s+\[create delete get list patch update watch\]\n/);
    expect(r.out).toMatch(/\n\s+\[\/healthz\]\s+\[\]\s+\[get\]\n/);
    expect(r.out).not.toMatch(/\nnodes\s/);
  });

  it('whoami as the admin and as the driver', async () => {
    const admin = await kubectl('auth', 'whoami');
    expect(admin.code, admin.err).toBe(0);
    expect(admin.out).toMatch(/^ATTRIBUTE\s+VALUE\nUsername\s+kubernetes-admin\nGroups\s+\[system:masters system:authenticated\]\n$/);
    const driver = await kubectl('auth', 'whoami', `--as=${driverSa}`, '-o', 'json');
    expect(JSON.parse(driver.out)).toMatchObject({
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      status: { userInfo: { username: driverSa, groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] } },
    });
    const viaGroup = await kubectl('auth', 'whoami', '--as=jane', '--as-group=devs');
    expect(viaGroup.out).toMatch(/Username\s+jane\nGroups\s+\[devs system:authenticated\]\n/);
  });

  it('impersonation is honoured for real requests, and only for those who may impersonate', async () => {
    const denied = await kubectl('get', 'nodes', `--as=${driverSa}`);
    expect(denied.code).toBe(1);
    expect(denied.err).toContain(`Error from server (Forbidden): nodes is forbidden: User "${driverSa}" cannot list resource "nodes" in API group "" at the cluster scope`);
    const allowed = await kubectl('get', 'pods', '-n', 'kube-system', `--as=${driverSa}`);
    expect(allowed.code, allowed.err).toBe(0);
    const noImpersonate = await asDriver('get', 'pods', '--as=jane');
    expect(noImpersonate.code).toBe(1);
    expect(noImpersonate.err).toContain(`Error from server (Forbidden): users "jane" is forbidden: User "${driverSa}" cannot impersonate resource "users" in API group "" at the cluster scope`);
    const saCannot = await asDriver('auth', 'can-i', 'list', 'nodes');
    expect(saCannot).toMatchObject({ code: 1, out: 'no\n' });
  });

  it('discovery lists the review kinds as create-only', async () => {
    const r = await kubectl('api-resources', '--api-group=authorization.k8s.io', '-o', 'wide');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview\s+create/);
    expect(r.out).toMatch(/localsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+true\s+LocalSubjectAccessReview\s+create/);
    const authn = await kubectl('api-resources', '--api-group=authentication.k8s.io');
    expect(authn.out).toMatch(/selfsubjectreviews\s+authentication\.k8s\.io\/v1\s+false\s+SelfSubjectReview/);
  });
});
