/**
 * `kubectl apply --server-side` against the simulated cluster, checked as a user sees it:
 * create-on-apply, a second identical apply changes nothing, managedFields in the real
 * format (FieldsV1 with `k:{"name":...}` for containers), a conflict with the manager of a
 * client-side apply worded as the real server words it, and `--force-conflicts` taking the
 * field over. Expected texts are what kubectl and kube-apiserver print for the same steps.
 */
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { kubectlFor, kubectlVersion } from './kubectl-runner.js';

let c: StartedSimCluster;
const kubectl = kubectlFor(() => c.kubeconfig);

const deployment = (replicas: number, image: string) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: ${image}
`;

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
}

const managedFields = async (kind: string, name: string): Promise<Entry[]> => {
  const r = await kubectl('get', kind, name, '-o', 'json', '--show-managed-fields');
  return (JSON.parse(r.out) as { metadata: { managedFields: Entry[] } }).metadata.managedFields;
};

describe.skipIf(!kubectlVersion)('kubectl apply --server-side', () => {
  let file: string;
  beforeAll(async () => {
    c = await new SimCluster().start();
    file = join(c.root, 'web.yaml');
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('creates the object, records an Apply entry in FieldsV1; a second apply changes nothing', async () => {
    await writeFile(file, deployment(1, 'busybox:1'));
    const first = await kubectl('apply', '--server-side', '-f', file);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toBe('deployment.apps/web serverside-applied\n');
    const rv = (await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.metadata.resourceVersion}')).out;
    const entries = await managedFields('deployment', 'web');
    const apply = entries.find((e) => e.manager === 'kubectl')!;
    expect(apply).toMatchObject({ operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    expect(apply.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(apply.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': { 'f:matchLabels': { 'f:app': {} } },
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });

    const second = await kubectl('apply', '--server-side', '-f', file);
    expect(second.out).toBe('deployment.apps/web serverside-applied\n');
    expect((await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.metadata.resourceVersion}')).out).toBe(rv);
    expect(await managedFields('deployment', 'web')).toEqual(entries);
  });

  it('a field another manager set is a conflict; --force-conflicts takes it over', async () => {
    // kubectl scale writes spec.replicas through the scale subresource; a plain patch as another manager:
    const patch = await kubectl('patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"replicas":2}}', '--field-manager=ops-tool');
    expect(patch.code, patch.err).toBe(0);
    const owners = await managedFields('deployment', 'web');
    expect(owners.find((e) => e.manager === 'ops-tool')).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    // replicas left the Apply entry of kubectl: it was changed by ops-tool.
    expect((owners.find((e) => e.manager === 'kubectl')!.fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas']).toBeUndefined();

    await writeFile(file, deployment(3, 'busybox:1'));
    const refused = await kubectl('apply', '--server-side', '-f', file);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('Apply failed with 1 conflict: conflict with "ops-tool" using apps/v1: .spec.replicas');
    expect(refused.err).toContain('Please review the fields above--they currently have other managers.');
    expect((await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}')).out).toBe('2');

    const forced = await kubectl('apply', '--server-side', '--force-conflicts', '-f', file);
    expect(forced.code, forced.err).toBe(0);
    expect((await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}')).out).toBe('3');
    const after = await managedFields('deployment', 'web');
    expect(after.map((e) => e.manager)).not.toContain('ops-tool');
    expect((after.find((e) => e.manager === 'kubectl')!.fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas']).toEqual({});
  });

  it('conflicts with a client-side apply list every field under its manager', async () => {
    const other = join(c.root, 'other.yaml');
    await writeFile(other, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  user: admin\n  host: db\n`);
    const csa = await kubectl('apply', '-f', other);
    expect(csa.out).toBe('secret/creds created\n');
    const entry = (await managedFields('secret', 'creds')).find((e) => e.manager === 'kubectl-client-side-apply');
    expect(entry).toMatchObject({ operation: 'Update', apiVersion: 'v1' });
    expect(entry!.fieldsV1).toMatchObject({ 'f:data': { '.': {}, 'f:host': {}, 'f:user': {} }, 'f:type': {} });

    await writeFile(other, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  user: root\n  host: db2\n`);
    const r = await kubectl('apply', '--server-side', '-f', other);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using v1:\n- .data.host\n- .data.user');
  });

  it('dry-run changes nothing; a removed field goes when nobody else owns it', async () => {
    const rv = (await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.metadata.resourceVersion}')).out;
    await writeFile(file, deployment(3, 'busybox:2'));
    const dry = await kubectl('apply', '--server-side', '--dry-run=server', '-f', file, '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    expect(dry.out).toBe('busybox:2');
    expect((await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.metadata.resourceVersion}')).out).toBe(rv);

    await writeFile(file, deployment(3, 'busybox:1').replace('  labels: {app: web}\nspec:', 'spec:'));
    const r = await kubectl('apply', '--server-side', '-f', file);
    expect(r.code, r.err).toBe(0);
    expect((await kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.metadata.labels}')).out).toBe('');
  });

  it('fieldManager is required for an apply patch (422)', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${c.api.url}/apis/apps/v1/namespaces/default/deployments/web`, {
        method: 'PATCH',
        ca: c.api.ca,
        headers: { authorization: `Bearer ${c.api.adminToken}`, 'content-type': 'application/apply-patch+yaml' },
      }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n');
    });
    expect(status).toBe(422);
    expect((JSON.parse(body) as { message: string }).message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  });
});
