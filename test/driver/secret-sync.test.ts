/**
 * The Secret sync controller against fakes of its two API boundaries: it syncs from the
 * SecretProviderClass a publish just read instead of reading it again (one API request
 * fewer per mount), and reads it afresh once that copy is older than `freshSpcMs`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeProviderFiles } from '../../driver/fileutil/atomic-writer.js';
import type { NodeApi, PodInfo, SecretInfo, WatchHandlers } from '../../driver/k8s/node-api.js';
import type { SecretsStoreApi } from '../../driver/k8s/secrets-store-api.js';
import type { SecretProviderClass, SecretProviderClassPodStatus } from '../../driver/k8s/types.js';
import { DriverMetrics } from '../../driver/metrics/driver-metrics.js';
import { MountRecords } from '../../driver/mount-records.js';
import { SecretSyncController } from '../../driver/sync/secret-sync-controller.js';
import { createLogger } from '../../log/logger.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';
import { eventually } from '../helpers/eventually.js';

let tmp: TempRoot;
beforeAll(async () => {
  tmp = await makeTempRoot('sync');
});
afterAll(async () => {
  await tmp.cleanup();
});

const spc = (secretName: string): SecretProviderClass => ({
  metadata: { name: 'app', namespace: 'default' },
  spec: { provider: 'fake', parameters: { objects: '- objectName: password' }, secretObjects: [{ secretName, type: 'Opaque', data: [{ objectName: 'password', key: 'pw' }] }] },
});

function fakes(spcInApi: SecretProviderClass) {
  const spcReads: string[] = [];
  const created: Array<Omit<SecretInfo, 'resourceVersion'>> = [];
  let handlers: WatchHandlers<SecretProviderClassPodStatus> | undefined;
  const pod: PodInfo = { name: 'web-0', namespace: 'default', uid: 'uid-1', serviceAccountName: 'default', phase: 'Running', terminating: false, annotations: {}, ownerReferences: [] };
  const publishApi: SecretsStoreApi = {
    getSecretProviderClass: async (ns, name) => {
      spcReads.push(`${ns}/${name}`);
      return spcInApi;
    },
    upsertPodStatus: async () => {
      throw new Error('not used');
    },
    getPodStatus: async () => null,
  };
  const nodeApi: NodeApi = {
    recordEvent: async () => undefined,
    getPod: async () => pod,
    getSecret: async () => null,
    createSecret: async (s) => {
      created.push(s);
    },
    patchSecret: async () => undefined,
    listPodStatuses: async () => [],
    annotatePodStatus: async () => undefined,
    watchPodStatuses: (_selector, h) => {
      handlers = h;
      return () => undefined;
    },
    watchPods: () => () => undefined,
  };
  return { spcReads, created, publishApi, nodeApi, deliver: (s: SecretProviderClassPodStatus) => handlers!.upsert(s) };
}

async function mountedTarget(name: string): Promise<string> {
  const target = join(tmp.path, name);
  await mkdir(target);
  writeProviderFiles(target, [{ path: 'password', mode: 0o644, contents: Buffer.from('hunter2') }], 0o644);
  return target;
}

const podStatus = (targetPath: string): SecretProviderClassPodStatus => ({
  apiVersion: 'secrets-store.csi.x-k8s.io/v1',
  kind: 'SecretProviderClassPodStatus',
  metadata: { name: 'web-0-default-app', namespace: 'default', uid: 'spcps-uid', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web-0', uid: 'uid-1' }] },
  status: { podName: 'web-0', secretProviderClassName: 'app', targetPath, mounted: true, objects: [] },
});

/** The records of a driver that mounted `target` for web-0 (uid-1) from SPC app. */
function recordsOf(target: string): MountRecords {
  const records = new MountRecords();
  const now = new Date().toISOString();
  records.upsert(
    { pod: 'web-0', namespace: 'default', podUid: 'uid-1', serviceAccount: 'default', secretProviderClass: 'app', provider: 'fake', targetPath: target, objects: [], syncedSecrets: [], mountedAt: now, lastUpdate: now },
    {} as never,
  );
  return records;
}

const until = (cond: () => boolean, what: string) => eventually(cond, what, 10_000, 10);

describe('SecretSyncController', () => {
  it('syncs a fresh mount from the SPC its publish read, without reading it again', async () => {
    const f = fakes(spc('from-api'));
    const target = await mountedTarget('fresh');
    const sync = new SecretSyncController({ nodeId: 'n', publishApi: f.publishApi, nodeApi: f.nodeApi, metrics: new DriverMetrics(), records: recordsOf(target), logger: createLogger({ name: 't', level: 'silent' }) }).start();
    try {
      // The publish finishes first, then the watch brings the pod status it created.
      sync.volumeUpdated('default', 'web-0-default-app', spc('from-publish'));
      f.deliver(podStatus(target));
      await until(() => f.created.length === 1, 'the Secret');
      expect(f.created[0]).toMatchObject({ name: 'from-publish', namespace: 'default', data: { pw: Buffer.from('hunter2').toString('base64') } });
      expect(f.spcReads).toEqual([]);
    } finally {
      sync.stop();
    }
  });

  it('reads the SPC from the API when the publish copy is older than freshSpcMs, or there is none', async () => {
    const f = fakes(spc('from-api'));
    const target = await mountedTarget('stale');
    const sync = new SecretSyncController({ nodeId: 'n', publishApi: f.publishApi, nodeApi: f.nodeApi, metrics: new DriverMetrics(), records: recordsOf(target), logger: createLogger({ name: 't', level: 'silent' }), freshSpcMs: 0 }).start();
    try {
      sync.volumeUpdated('default', 'web-0-default-app', spc('from-publish'));
      await new Promise((r) => setTimeout(r, 5)); // let the copy age past freshSpcMs = 0
      f.deliver(podStatus(target));
      await until(() => f.created.length === 1, 'the Secret');
      expect(f.created[0]!.name).toBe('from-api');
      expect(f.spcReads).toEqual(['default/app']);
    } finally {
      sync.stop();
    }
  });

  it('reads the volume it mounted for the pod, never the targetPath a pod status names', async () => {
    const f = fakes(spc('copied'));
    const own = await mountedTarget('own-volume');
    const elsewhere = join(tmp.path, 'other-namespace-volume');
    await mkdir(elsewhere);
    writeProviderFiles(elsewhere, [{ path: 'password', mode: 0o644, contents: Buffer.from('someone-elses') }], 0o644);
    const sync = new SecretSyncController({ nodeId: 'n', publishApi: f.publishApi, nodeApi: f.nodeApi, metrics: new DriverMetrics(), records: recordsOf(own), logger: createLogger({ name: 't', level: 'silent' }) }).start();
    try {
      f.deliver(podStatus(elsewhere));
      await until(() => f.created.length === 1, 'the Secret');
      expect(f.created[0]!.data).toEqual({ pw: Buffer.from('hunter2').toString('base64') });
    } finally {
      sync.stop();
    }
  });

  it('syncs nothing for a pod status with no volume of that pod in its records', async () => {
    const f = fakes(spc('copied'));
    const elsewhere = await mountedTarget('forged-target');
    const logs: string[] = [];
    const logger = createLogger({ name: 't', level: 'debug', destination: new Writable({ write: (chunk: Buffer, _enc, cb) => (logs.push(chunk.toString()), cb()) }) });
    const sync = new SecretSyncController({ nodeId: 'n', publishApi: f.publishApi, nodeApi: f.nodeApi, metrics: new DriverMetrics(), records: new MountRecords(), logger }).start();
    try {
      f.deliver(podStatus(elsewhere));
      await until(() => logs.some((l) => l.includes('nothing to sync')), 'the sync to pass over it');
      expect(f.created).toEqual([]);
    } finally {
      sync.stop();
    }
  });
});
