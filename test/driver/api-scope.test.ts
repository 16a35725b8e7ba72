/**
 * What the driver binary asks the Kubernetes API for, read from the API server's own request
 * log: every list and watch is scoped to this node — pods by `spec.nodeName`, pod statuses by
 * the node label — and Secrets are never listed or watched (the sync reads and writes the
 * ones it names). So a cluster that grows elsewhere costs the driver nothing (the API server
 * here holds Secrets and pods on other nodes from the start; bench/suites/memory.ts measures
 * the driver's idle RSS in a crowded cluster).
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { serviceAccountUser } from '../../sim/apiserver/authorizer.js';
import { SimApiServer, type StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

const node = 'node-1';
const driverUser = 'system:serviceaccount:kube-system:secrets-store-csi-driver';
let tmp: TempRoot;
let api: StartedSimApiServer;
let driver: ManagedProcess;

beforeAll(async () => {
  tmp = await makeTempRoot('api-scope');
  api = await new SimApiServer({ controlPlane: false }).start();
  for (let i = 0; i < 50; i++) {
    api.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${i}`, namespace: 'default' }, data: { k: 'dg==' } });
    api.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `elsewhere-${i}`, namespace: 'default', uid: randomUUID() }, spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'i' }] } });
  }
  const kubeconfig = join(tmp.path, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig, { token: api.addIdentity(serviceAccountUser('kube-system', 'secrets-store-csi-driver')), user: 'secrets-store-csi-driver' });
  await mkdir(join(tmp.path, 'providers'));
  driver = startBin('driver/main.js', [`--endpoint=unix://${join(tmp.path, 'csi.sock')}`, `--nodeid=${node}`, `--provider-volume=${join(tmp.path, 'providers')}`, `--additional-provider-volume-paths=${join(tmp.path, 'providers')}-none`, `--kubeconfig=${kubeconfig}`, '--enable-secret-rotation', '--log-format-json', '--metrics-addr=127.0.0.1:0']);
  await driver.waitForLine(/CSI driver serving/, 30_000);
});

afterAll(async () => {
  await driver?.kill();
  await api?.stop();
  await tmp?.cleanup();
});

it('lists and watches only this node\'s pods and pod statuses, and never Secrets', async () => {
  const mine = (verb: string, resource: string) => api.requestLog.filter((r) => r.user === driverUser && r.verb === verb && r.resource === resource);
  // Both watches established (each after its list).
  await eventually(() => mine('watch', 'pods').length > 0 && mine('watch', 'secretproviderclasspodstatuses').length > 0, 'the driver watching pods and pod statuses');
  const collections = api.requestLog.filter((r) => r.user === driverUser && (r.verb === 'list' || r.verb === 'watch'));
  expect(collections.length).toBeGreaterThanOrEqual(4);
  for (const r of collections) {
    if (r.resource === 'pods') expect(r, `${r.verb} pods`).toMatchObject({ fieldSelector: `spec.nodeName=${node}` });
    else if (r.resource === 'secretproviderclasspodstatuses') expect(r, `${r.verb} pod statuses`).toMatchObject({ labelSelector: `internal.secrets-store.csi.k8s.io/node-name=${node}` });
    else expect.fail(`the driver ${r.verb}s ${r.resource} (labelSelector ${r.labelSelector ?? 'none'}, fieldSelector ${r.fieldSelector ?? 'none'}): a node agent lists and watches only its node's pods and pod statuses`);
  }
  expect(api.requestLog.filter((r) => r.user === driverUser && r.resource === 'secrets')).toEqual([]);
});
