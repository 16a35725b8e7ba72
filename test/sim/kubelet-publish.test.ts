/**
 * What the simulated kubelet sends and leaves where the real kubelet's csi_mounter
 * (Kubernetes v1.34 pkg/volume/csi) does something a driver can see, checked in-process
 * against a CSI node server that records each NodePublishVolume: the pod's fsGroup goes as
 * volume_mount_group to a driver with VOLUME_MOUNT_GROUP whatever the CSIDriver's
 * fsGroupPolicy, and vol_data.json beside the target holds the kubelet's keys, attachmentID
 * included. Expected values are written out from upstream's code, not taken from the sim.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindUnixSocket, shutdownServer } from '../../grpc/unix-socket.js';
import { createLogger } from '../../log/logger.js';
import { loadCsiProto } from '../../proto/load.js';
import { ObjectStore } from '../../sim/apiserver/object-store.js';
import { SimKubelet } from '../../sim/kubelet/kubelet.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

type Publish = { volume_id: string; target_path: string; volume_capability: { mount: { volume_mount_group: string } } };

let tmp: TempRoot;
let server: grpc.Server;
let kubelet: SimKubelet;
const store = new ObjectStore();
const published: Publish[] = [];
/** Pods whose publishes fail, and with which code. */
const failures: Array<{ uid: string; code: grpc.status }> = [];
const node = 'kubelet-test-node';

beforeAll(async () => {
  tmp = await makeTempRoot('kubelet-publish');
  const { csi } = loadCsiProto();
  server = new grpc.Server();
  server.addService(csi.v1.Node.service, {
    NodeGetCapabilities: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { capabilities: [{ rpc: { type: 'VOLUME_MOUNT_GROUP' } }] }),
    NodePublishVolume: (call: grpc.ServerUnaryCall<Publish, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      published.push(call.request);
      const fail = failures.find((f) => call.request.target_path.includes(f.uid));
      cb(fail ? { code: fail.code, details: 'provider said no' } : null, fail ? undefined : {});
    },
    NodeUnpublishVolume: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
  });
  const socket = join(tmp.path, 'csi.sock');
  await bindUnixSocket(server, socket);
  store.create('csidrivers', { apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'secrets-store.csi.k8s.io' }, spec: { podInfoOnMount: true, fsGroupPolicy: 'None', volumeLifecycleModes: ['Ephemeral'] } });
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' } });
  kubelet = new SimKubelet({ store, nodeName: node, rootDir: join(tmp.path, 'kubelet'), csiSocket: socket, logger: createLogger({ name: 'test', level: 'silent' }) }).start();
});
afterAll(async () => {
  await kubelet?.stop({ unpublish: false });
  if (server) await shutdownServer(server, 100);
  await tmp?.cleanup();
});

describe('the simulated kubelet publishes as the real one', () => {
  it('gives a VOLUME_MOUNT_GROUP driver the fsGroup even with fsGroupPolicy None, and saves vol_data.json with the attachment ID', async () => {
    const pod = store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'grouped', namespace: 'default' },
      spec: {
        nodeName: node,
        securityContext: { fsGroup: 2000 },
        containers: [{ name: 'app', image: 'busybox' }],
        volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'x' } } }],
      },
    });
    const req = await eventually(() => published.find((p) => p.target_path.includes(pod.metadata.uid!)), 'NodePublishVolume for the pod', 10_000);
    expect(req.volume_capability.mount.volume_mount_group).toBe('2000');
    const volData = JSON.parse(await readFile(join(req.target_path, '..', 'vol_data.json'), 'utf8')) as Record<string, string>;
    const handle = `csi-${createHash('sha256').update(`${pod.metadata.uid}secrets`).digest('hex')}`;
    expect(req.volume_id).toBe(handle);
    expect(volData).toEqual({
      attachmentID: `csi-${createHash('sha256').update(`${handle}secrets-store.csi.k8s.io${node}`).digest('hex')}`,
      driverName: 'secrets-store.csi.k8s.io',
      nodeName: node,
      specVolID: 'secrets',
      volumeHandle: handle,
      volumeLifecycleMode: 'Ephemeral',
    });
  });

  const failingPod = (name: string, code: grpc.status) => {
    const pod = store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', uid: `uid-${name}` },
      spec: { nodeName: node, containers: [{ name: 'app', image: 'busybox' }], volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'x' } } }] },
    });
    failures.push({ uid: pod.metadata.uid!, code });
    return pod;
  };
  const exists = (path: string) => access(path).then(() => true, () => false);
  const failedMount = (name: string) => store.list('events', 'default').some((e) => (e.involvedObject as { name: string }).name === name && e.reason === 'FailedMount');

  it('after a final error (INTERNAL) removes vol_data.json and the volume dir, as csi_mounter removeMountDir', async () => {
    const pod = failingPod('fails-final', grpc.status.INTERNAL);
    await eventually(() => failedMount('fails-final'), 'FailedMount', 10_000);
    const volumeDir = join(tmp.path, 'kubelet', 'pods', pod.metadata.uid!, 'volumes', 'kubernetes.io~csi', 'secrets');
    await eventually(async () => !(await exists(volumeDir)), 'the volume dir removed', 5000);
  });

  it('after an error that may still be in progress (UNAVAILABLE) leaves the volume dir and vol_data.json for the teardown', async () => {
    const pod = failingPod('fails-uncertain', grpc.status.UNAVAILABLE);
    await eventually(() => failedMount('fails-uncertain'), 'FailedMount', 10_000);
    expect(await exists(join(tmp.path, 'kubelet', 'pods', pod.metadata.uid!, 'volumes', 'kubernetes.io~csi', 'secrets', 'vol_data.json'))).toBe(true);
  });
});
