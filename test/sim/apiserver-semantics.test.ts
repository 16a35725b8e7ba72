/**
 * The embedded API server's Kubernetes semantics over real HTTPS: watch (initial state,
 * live events, resume, 410 Gone, selector transitions), selectors, every patch type, status
 * and scale subresources, graceful pod deletion, garbage collection, the fresh-cluster
 * objects, Deployments, RBAC and authentication, discovery and server-side tables.
 */
import protobuf from 'protobufjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serviceAccountUser } from '../../sim/apiserver/authorizer.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { apiRequest, apiWatch, type WatchStream } from '../helpers/api-request.js';
import { eventually } from '../helpers/eventually.js';

let api: StartedSimApiServer;
let driverToken: string;
const watches: WatchStream[] = [];
const spcs = '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasses';
const pods = '/api/v1/namespaces/default/pods';
const req = (method: string, path: string, body?: unknown, extra: { token?: string | null; contentType?: string; accept?: string } = {}) =>
  apiRequest(api, method, path, { ...(body === undefined ? {} : { body }), ...extra });
const watch = async (path: string, token?: string) => {
  const w = await apiWatch(api, path, token ? { token } : {});
  watches.push(w);
  return w;
};
const spc = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'secrets-store.csi.x-k8s.io/v1',
  kind: 'SecretProviderClass',
  metadata: { name, labels },
  spec: { provider: 'fake', parameters: { objects: '- objectName: a' } },
});
const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: name } },
  spec: { containers: [{ name: 'app', image: 'busybox', env: [{ name: 'A', value: '1' }] }], ...extra },
});

beforeAll(async () => {
  api = await new SimApiServer().start();
  driverToken = api.addIdentity(serviceAccountUser('kube-system', 'secrets-store-csi-driver'));
});
afterEach(() => {
  for (const w of watches.splice(0)) w.close();
  api.faults.clear();
});
afterAll(async () => {
  await api?.stop();
});

describe('a fresh cluster', () => {
  it('has its namespaces, a default ServiceAccount in each (and in new ones), the CSIDriver and both CRDs', async () => {
    const ns = await req('GET', '/api/v1/namespaces');
    expect(ns.body.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual(['default', 'kube-public', 'kube-system']);
    for (const n of ['default', 'kube-system']) expect((await req('GET', `/api/v1/namespaces/${n}/serviceaccounts/default`)).status).toBe(200);
    expect((await req('POST', '/api/v1/namespaces', { metadata: { name: 'team-a' } })).status).toBe(201);
    await eventually(async () => (await req('GET', '/api/v1/namespaces/team-a/serviceaccounts/default')).status === 200, 'default SA in team-a');
    const driver = await req('GET', '/apis/storage.k8s.io/v1/csidrivers/secrets-store.csi.k8s.io');
    expect(driver.body.spec).toMatchObject({ attachRequired: false, podInfoOnMount: true, requiresRepublish: true, volumeLifecycleModes: ['Ephemeral'] });
    const crds = await req('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    expect(crds.body.items.map((c: { metadata: { name: string } }) => c.metadata.name).sort()).toEqual([
      'secretproviderclasses.secrets-store.csi.x-k8s.io',
      'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
    ]);
  });
});

describe('watch', () => {
  it('streams the current objects as ADDED, then live changes, from one line-delimited JSON stream', async () => {
    await req('POST', spcs, spc('w-existing'));
    const w = await watch(`${spcs}?watch=true&fieldSelector=metadata.name%3Dw-existing`);
    expect(w.status).toBe(200);
    const first = await w.next();
    expect(first).toMatchObject({ type: 'ADDED', object: { apiVersion: 'secrets-store.csi.x-k8s.io/v1', metadata: { name: 'w-existing' } } });
    await req('PATCH', `${spcs}/w-existing`, { spec: { provider: 'other' } }, { contentType: 'application/merge-patch+json' });
    expect(await w.next()).toMatchObject({ type: 'MODIFIED', object: { spec: { provider: 'other' } } });
    await req('DELETE', `${spcs}/w-existing`);
    expect(await w.next()).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'w-existing' } } });
  });

  it('sends BOOKMARKs (allowWatchBookmarks) whose object is of the watched kind and version, as client-go decodes them', async () => {
    const w = await watch(`${pods}?watch=true&allowWatchBookmarks=true&resourceVersion=${(await req('GET', pods)).body.metadata.resourceVersion}`);
    const b = await w.next(3000);
    expect(b).toMatchObject({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } } });
    const v = await watch(`/apis/secrets-store.csi.x-k8s.io/v1alpha1/namespaces/default/secretproviderclasses?watch=true&allowWatchBookmarks=true&resourceVersion=${(await req('GET', spcs)).body.metadata.resourceVersion}`);
    expect(await v.next(3000)).toMatchObject({ type: 'BOOKMARK', object: { kind: 'SecretProviderClass', apiVersion: 'secrets-store.csi.x-k8s.io/v1alpha1' } });
  });

  it('resumes from a resourceVersion with exactly the events after it, and serves v1alpha1 objects on a v1alpha1 watch', async () => {
    const created = await req('POST', spcs, spc('w-resume'));
    const rv = created.body.metadata.resourceVersion as string;
    await req('PATCH', `${spcs}/w-resume`, { metadata: { labels: { step: '2' } } }, { contentType: 'application/merge-patch+json' });
    await req('PATCH', `${spcs}/w-resume`, { metadata: { labels: { step: '3' } } }, { contentType: 'application/merge-patch+json' });
    const w = await watch(`/apis/secrets-store.csi.x-k8s.io/v1alpha1/namespaces/default/secretproviderclasses?watch=1&resourceVersion=${rv}&fieldSelector=metadata.name=w-resume`);
    const a = await w.next();
    const b = await w.next();
    expect([a.type, a.object.metadata.labels.step, b.type, b.object.metadata.labels.step]).toEqual(['MODIFIED', '2', 'MODIFIED', '3']);
    expect(a.object.apiVersion).toBe('secrets-store.csi.x-k8s.io/v1alpha1');
    expect(Number(b.object.metadata.resourceVersion)).toBeGreaterThan(Number(a.object.metadata.resourceVersion));
  });

  it('ends with a 410 Expired ERROR event when the resourceVersion is older than the history kept', async () => {
    const small = await new SimApiServer({ historySize: 5, controlPlane: false }).start();
    try {
      const first = await apiRequest(small, 'POST', spcs, { body: spc('old-0') });
      for (let i = 1; i < 10; i++) await apiRequest(small, 'POST', spcs, { body: spc(`old-${i}`) });
      const w = await apiWatch(small, `${spcs}?watch=true&resourceVersion=${first.body.metadata.resourceVersion}`);
      const e = await w.next();
      expect(e).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
      expect(e.object.message).toMatch(/too old resource version/);
      expect(await w.ended()).toBe(true);
    } finally {
      await small.stop();
    }
  });

  it('with a label selector, sends DELETED when an object stops matching and ADDED when it matches again', async () => {
    await req('POST', spcs, spc('w-sel', { tier: 'db' }));
    const w = await watch(`${spcs}?watch=true&labelSelector=tier%3Ddb`);
    expect(await w.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'w-sel' } } });
    await req('PATCH', `${spcs}/w-sel`, { metadata: { labels: { tier: 'web' } } }, { contentType: 'application/merge-patch+json' });
    expect(await w.next()).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'w-sel', labels: { tier: 'web' } } } });
    await req('PATCH', `${spcs}/w-sel`, { metadata: { labels: { tier: 'db' } } }, { contentType: 'application/merge-patch+json' });
    expect(await w.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'w-sel' } } });
  });
});

describe('list selectors', () => {
  it('filters by label (set-based too) and by field, and refuses an unsupported field', async () => {
    await req('POST', pods, pod('sel-a', { nodeName: 'node-x' }));
    await req('POST', pods, { ...pod('sel-b'), metadata: { name: 'sel-b', labels: { app: 'sel-b', env: 'prod' } } });
    const names = (r: { body: Record<string, any> }) => (r.body.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name).filter((n) => n.startsWith("sel-"));
    expect(names(await req('GET', `${pods}?labelSelector=${encodeURIComponent('app in (sel-a,sel-b),env!=prod')}`))).toEqual(['sel-a']);
    expect(names(await req('GET', `${pods}?labelSelector=env`))).toEqual(['sel-b']);
    expect(names(await req('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent('spec.nodeName=node-x')}`))).toEqual(['sel-a']);
    expect(names(await req('GET', `${pods}?fieldSelector=${encodeURIComponent('metadata.name=sel-b,metadata.namespace=default')}`))).toEqual(['sel-b']);
    const bad = await req('GET', `${pods}?fieldSelector=spec.hostname%3Dx`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/"spec.hostname" is not a known field selector/);
    expect((await req('GET', `${pods}?labelSelector=${encodeURIComponent('app in (')}`)).status).toBe(400);
  });
});

describe('patch', () => {
  it('merge patch on a custom resource; strategic merge is refused there with 415 as for CRDs', async () => {
    await req('POST', spcs, spc('p-merge'));
    const merged = await req('PATCH', `${spcs}/p-merge`, { spec: { parameters: { objects: null, extra: 'x' } } }, { contentType: 'application/merge-patch+json' });
    expect(merged.body.spec.parameters).toEqual({ extra: 'x' });
    const smp = await req('PATCH', `${spcs}/p-merge`, { spec: {} }, { contentType: 'application/strategic-merge-patch+json' });
    expect(smp).toMatchObject({ status: 415, body: { reason: 'UnsupportedMediaType' } });
  });

  it('strategic merge on a pod merges lists by their keys (containers by name, ownerReferences by uid)', async () => {
    await req('POST', pods, { ...pod('p-smp'), metadata: { name: 'p-smp', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: 'uid-a' }] } });
    const r = await req(
      'PATCH',
      `${pods}/p-smp`,
      {
        metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'b', uid: 'uid-b' }] },
        spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }] },
      },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    expect(r.status).toBe(200);
    expect(r.body.metadata.ownerReferences.map((o: { uid: string }) => o.uid)).toEqual(['uid-a', 'uid-b']);
    expect(r.body.spec.containers).toHaveLength(1);
    expect(r.body.spec.containers[0].image).toBe('busybox');
    expect(r.body.spec.containers[0].env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
  });

  it('JSON patch applies ops in order; a failed test op changes nothing', async () => {
    const created = await req('POST', spcs, spc('p-json'));
    const ok = await req(
      'PATCH',
      `${spcs}/p-json`,
      [
        { op: 'test', path: '/spec/provider', value: 'fake' },
        { op: 'add', path: '/metadata/labels/added', value: 'yes' },
        { op: 'replace', path: '/spec/provider', value: 'vault' },
      ],
      { contentType: 'application/json-patch+json' },
    );
    expect(ok.body).toMatchObject({ spec: { provider: 'vault' }, metadata: { labels: { added: 'yes' } } });
    const failed = await req('PATCH', `${spcs}/p-json`, [{ op: 'test', path: '/spec/provider', value: 'fake' }, { op: 'remove', path: '/spec' }], { contentType: 'application/json-patch+json' });
    expect(failed.status).toBe(422);
    expect((await req('GET', `${spcs}/p-json`)).body.spec.provider).toBe('vault');
    expect(Number(ok.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.body.metadata.resourceVersion));
  });

  it('a patch carrying a stale resourceVersion is a 409 Conflict', async () => {
    const created = await req('POST', spcs, spc('p-stale'));
    await req('PATCH', `${spcs}/p-stale`, { metadata: { labels: { a: '1' } } }, { contentType: 'application/merge-patch+json' });
    const stale = await req('PATCH', `${spcs}/p-stale`, { metadata: { resourceVersion: created.body.metadata.resourceVersion, labels: { a: '2' } } }, { contentType: 'application/merge-patch+json' });
    expect(stale).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
  });
});

describe('pods', () => {
  it('keep status out of spec writes and spec out of status writes (status subresource)', async () => {
    const created = await req('POST', pods, pod('st-1'));
    expect(created.body.status.phase).toBe('Pending');
    const put = await req('PUT', `${pods}/st-1`, { ...created.body, status: { phase: 'Running' }, metadata: { ...created.body.metadata, labels: { x: 'y' } } });
    expect(put.body.status.phase).toBe('Pending');
    expect(put.body.metadata.labels).toEqual({ x: 'y' });
    const st = await req('PATCH', `${pods}/st-1/status`, { status: { phase: 'Running' }, metadata: { labels: { ignored: 'yes' } } }, { contentType: 'application/merge-patch+json' });
    expect(st.body.status.phase).toBe('Running');
    expect(st.body.metadata.labels).toEqual({ x: 'y' });
  });

  it('bound to a node are deleted gracefully: deletionTimestamp first, gone after a grace-0 delete', async () => {
    await req('POST', pods, pod('grace-1', { nodeName: 'no-such-kubelet' }));
    const first = await req('DELETE', `${pods}/grace-1`);
    expect(first.status).toBe(200);
    expect(first.body.metadata.deletionTimestamp).toBeDefined();
    expect(first.body.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await req('GET', `${pods}/grace-1`)).status).toBe(200);
    await req('DELETE', `${pods}/grace-1?gracePeriodSeconds=0`);
    expect((await req('GET', `${pods}/grace-1`)).status).toBe(404);
    // Unscheduled pods have no kubelet to wait for.
    await req('POST', pods, pod('grace-2'));
    await req('DELETE', `${pods}/grace-2`);
    expect((await req('GET', `${pods}/grace-2`)).status).toBe(404);
  });
});

describe('garbage collection and workloads', () => {
  it('removes a dependent when its last owner goes, and keeps one that still has an owner', async () => {
    const a = await req('POST', spcs, spc('owner-a'));
    const b = await req('POST', spcs, spc('owner-b'));
    const ref = (o: { body: Record<string, any> }) => ({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', name: o.body.metadata.name, uid: o.body.metadata.uid });
    const secrets = '/api/v1/namespaces/default/secrets';
    await req('POST', secrets, { metadata: { name: 'shared', ownerReferences: [ref(a), ref(b)] }, data: {} });
    await req('POST', secrets, { metadata: { name: 'only-a', ownerReferences: [ref(a)] }, data: {} });
    await req('DELETE', `${spcs}/owner-a`);
    await eventually(async () => (await req('GET', `${secrets}/only-a`)).status === 404, 'only-a collected');
    expect((await req('GET', `${secrets}/shared`)).status).toBe(200);
    await req('DELETE', `${spcs}/owner-b`);
    await eventually(async () => (await req('GET', `${secrets}/shared`)).status === 404, 'shared collected');
  });

  it('runs a Deployment: a ReplicaSet it owns, pods the ReplicaSet owns, scaling through /scale, cascade on delete', async () => {
    const deploy = await req('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'web' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    const webPods = async () => (await req('GET', `${pods}?labelSelector=app%3Dweb`)).body.items as Array<{ metadata: { name: string; ownerReferences: Array<{ kind: string; name: string; controller: boolean }> } }>;
    const list = (await eventually(async () => ((await webPods()).length === 2 ? webPods() : undefined), 'two pods'))!;
    const rsName = list[0]!.metadata.ownerReferences[0]!.name;
    expect(list[0]!.metadata.ownerReferences[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
    const rs = await req('GET', `/apis/apps/v1/namespaces/default/replicasets/${rsName}`);
    expect(rs.body.metadata.ownerReferences[0]).toMatchObject({ kind: 'Deployment', name: 'web', uid: deploy.body.metadata.uid, controller: true });
    expect(rs.body.metadata.labels['pod-template-hash']).toBe(rsName.slice('web-'.length));
    const scaled = await req('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', { spec: { replicas: 3 } }, { contentType: 'application/merge-patch+json' });
    expect(scaled.body).toMatchObject({ kind: 'Scale', spec: { replicas: 3 } });
    await eventually(async () => (await webPods()).length === 3, 'three pods');
    await req('DELETE', '/apis/apps/v1/namespaces/default/deployments/web');
    await eventually(async () => (await webPods()).length === 0 && (await req('GET', `/apis/apps/v1/namespaces/default/replicasets/${rsName}`)).status === 404, 'cascade');
  });
});

describe('authentication and RBAC', () => {
  it('answers 401 without a valid token', async () => {
    for (const token of [null, 'not-a-token']) {
      const r = await req('GET', pods, undefined, { token });
      expect(r).toMatchObject({ status: 401, body: { kind: 'Status', reason: 'Unauthorized', code: 401 } });
    }
  });

  it('gives the driver identity exactly the ClusterRole rules of kind/manifests, with 403s worded as kube-apiserver words them', async () => {
    const as = (method: string, path: string, body?: unknown) => req(method, path, body, { token: driverToken });
    expect((await as('GET', pods)).status).toBe(200);
    expect((await as('GET', `${spcs}`)).status).toBe(200);
    expect((await as('POST', '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/default/secretproviderclasspodstatuses', { metadata: { name: 'rbac-x' } })).status).toBe(201);
    expect((await as('GET', '/apis/storage.k8s.io/v1/csidrivers/secrets-store.csi.k8s.io')).status).toBe(200);
    const denied = await as('DELETE', `${pods}/anything`);
    expect(denied).toMatchObject({ status: 403, body: { kind: 'Status', reason: 'Forbidden', code: 403 } });
    expect(denied.body.message).toBe(
      'pods "anything" is forbidden: User "system:serviceaccount:kube-system:secrets-store-csi-driver" cannot delete resource "pods" in API group "" in the namespace "default"',
    );
    const otherDriver = await as('GET', '/apis/storage.k8s.io/v1/csidrivers/other.csi.k8s.io');
    expect(otherDriver.status).toBe(403);
    expect(otherDriver.body.message).toMatch(/at the cluster scope$/);
    expect((await as('POST', spcs, spc('rbac-spc'))).status).toBe(403);
    expect((await as('PUT', `${pods}/x/status`, pod('x'))).body.message).toMatch(/cannot update resource "pods\/status"/);
  });

  it('applies a ClusterRole change at once', async () => {
    const role = (await req('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/secretproviderclasses-role')).body;
    const without = { ...role, rules: role.rules.filter((r: { resources: string[] }) => !r.resources.includes('pods')) };
    await req('PUT', '/apis/rbac.authorization.k8s.io/v1/clusterroles/secretproviderclasses-role', without);
    try {
      expect((await req('GET', pods, undefined, { token: driverToken })).status).toBe(403);
    } finally {
      const current = (await req('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/secretproviderclasses-role')).body;
      await req('PUT', '/apis/rbac.authorization.k8s.io/v1/clusterroles/secretproviderclasses-role', { ...current, rules: role.rules });
    }
    expect((await req('GET', pods, undefined, { token: driverToken })).status).toBe(200);
  });
});

describe('discovery, OpenAPI and tables', () => {
  it('serves legacy discovery with subresources, short names and both secrets-store versions', async () => {
    expect((await req('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const v1 = (await req('GET', '/api/v1')).body;
    const names = v1.resources.map((r: { name: string }) => r.name);
    expect(names).toEqual(expect.arrayContaining(['pods', 'pods/status', 'secrets', 'events', 'serviceaccounts', 'namespaces']));
    expect(v1.resources.find((r: { name: string }) => r.name === 'pods')).toMatchObject({ kind: 'Pod', namespaced: true, shortNames: ['po'] });
    const groups = (await req('GET', '/apis')).body.groups;
    expect(groups.find((g: { name: string }) => g.name === 'secrets-store.csi.x-k8s.io')).toMatchObject({
      versions: [{ groupVersion: 'secrets-store.csi.x-k8s.io/v1', version: 'v1' }, { groupVersion: 'secrets-store.csi.x-k8s.io/v1alpha1', version: 'v1alpha1' }],
      preferredVersion: { version: 'v1' },
    });
    expect((await req('GET', '/apis/apps/v1')).body.resources.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['deployments', 'deployments/scale', 'replicasets']));
    expect((await req('GET', '/version')).body.major).toBe('1');
  });

  it('serves OpenAPI v3 documents whose PATCH operations take fieldValidation, with the CRD schemas', async () => {
    const root = (await req('GET', '/openapi/v3')).body;
    const url = root.paths['apis/secrets-store.csi.x-k8s.io/v1'].serverRelativeURL as string;
    const doc = (await req('GET', url)).body;
    const item = doc.paths['/apis/secrets-store.csi.x-k8s.io/v1/namespaces/{namespace}/secretproviderclasses/{name}'];
    expect(item.patch['x-kubernetes-group-version-kind']).toEqual({ group: 'secrets-store.csi.x-k8s.io', version: 'v1', kind: 'SecretProviderClass' });
    expect(item.patch.parameters).toContainEqual(expect.objectContaining({ name: 'fieldValidation', in: 'query' }));
    const schema = doc.components.schemas['io.x-k8s.csi.secrets-store.v1.SecretProviderClass'];
    expect(schema.properties.spec.properties.provider).toEqual(expect.objectContaining({ type: 'string' }));
  });

  it('answers kubectl-style Table requests with the columns users know', async () => {
    await req('POST', pods, pod('tbl-1'));
    const t = await req('GET', `${pods}/tbl-1`, undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(t.body.kind).toBe('Table');
    expect(t.body.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'IP', 'Node', 'Age']);
    expect(t.body.rows[0].cells.slice(0, 4)).toEqual(['tbl-1', '0/1', 'Pending', '0']);
    expect(t.body.rows[0].object.metadata.namespace).toBe('default');
  });
});

describe('faults', () => {
  it('fails a fraction of matching requests with the given code', async () => {
    api.faults.add({ verb: 'list', resource: 'secrets', code: 503, fraction: 0.5 });
    const codes: number[] = [];
    for (let i = 0; i < 60; i++) codes.push((await req('GET', '/api/v1/namespaces/default/secrets')).status);
    const failed = codes.filter((c) => c === 503).length;
    expect(failed).toBeGreaterThan(10);
    expect(failed).toBeLessThan(50);
    expect(codes.every((c) => c === 200 || c === 503)).toBe(true);
  });
});

describe('protobuf bodies (application/vnd.kubernetes.protobuf, what controller-runtime sends for built-in kinds)', () => {
  const secrets = '/api/v1/namespaces/default/secrets';
  /** A string map entry (key = 1, value = 2) as field `field`. */
  const mapEntry = (w: protobuf.Writer, field: number, key: string, value: string | Uint8Array) => {
    const e = protobuf.Writer.create().uint32(10).string(key);
    if (typeof value === 'string') e.uint32(18).string(value);
    else e.uint32(18).bytes(value);
    w.uint32((field << 3) | 2).bytes(e.finish());
  };
  /** A v1 Secret in k8s.io/api's field numbers, in the k8s\0 + runtime.Unknown envelope. */
  function secretBody(kind = 'Secret'): Buffer {
    const owner = protobuf.Writer.create().uint32(10).string('ReplicaSet').uint32(26).string('web-1').uint32(34).string('uid-1').uint32(42).string('apps/v1').finish();
    const meta = protobuf.Writer.create().uint32(10).string('pb-secret').uint32(26).string('default');
    mapEntry(meta, 11, 'secrets-store.csi.k8s.io/managed', 'true');
    mapEntry(meta, 12, 'note', 'synced');
    meta.uint32(106).bytes(owner);
    const secret = protobuf.Writer.create().uint32(10).bytes(meta.finish());
    mapEntry(secret, 2, 'password', Buffer.from('s3cr3t\u0000bytes'));
    secret.uint32(26).string('Opaque');
    const typeMeta = protobuf.Writer.create().uint32(10).string('v1').uint32(18).string(kind).finish();
    const unknown = protobuf.Writer.create().uint32(10).bytes(typeMeta).uint32(18).bytes(secret.finish()).finish();
    return Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), unknown]);
  }

  it('creates and updates a Secret sent as protobuf, stored as its JSON form', async () => {
    const created = await req('POST', secrets, secretBody(), { contentType: 'application/vnd.kubernetes.protobuf' });
    expect(created.status, created.text).toBe(201);
    const got = (await req('GET', `${secrets}/pb-secret`)).body;
    expect(got).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      data: { password: Buffer.from('s3cr3t\u0000bytes').toString('base64') },
      metadata: { name: 'pb-secret', namespace: 'default', labels: { 'secrets-store.csi.k8s.io/managed': 'true' }, annotations: { note: 'synced' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'uid-1' }] },
    });
    const updated = await req('PUT', `${secrets}/pb-secret`, secretBody(), { contentType: 'application/vnd.kubernetes.protobuf' });
    expect(updated.status, updated.text).toBe(200);
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(Number(got.metadata.resourceVersion));
  });

  it('answers 415 for a protobuf kind it has no schema for, 400 for another kind than the URL\'s and for a body without the envelope', async () => {
    const other = await req('POST', secrets, secretBody('ClusterRole'), { contentType: 'application/vnd.kubernetes.protobuf' });
    expect(other.status).toBe(415);
    expect(other.body).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', message: expect.stringContaining('send application/json') });
    const wrongKind = await req('POST', secrets, secretBody('ConfigMap'), { contentType: 'application/vnd.kubernetes.protobuf' });
    expect(wrongKind.status).toBe(400);
    // A Secret's bytes under a ConfigMap envelope do not even decode as a ConfigMap.
    expect(wrongKind.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    const bare = await req('POST', secrets, Buffer.from([1, 2, 3]), { contentType: 'application/vnd.kubernetes.protobuf' });
    expect(bare.status).toBe(400);
  });
});
