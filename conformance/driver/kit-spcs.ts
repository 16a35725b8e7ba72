/**
 * The SecretProviderClasses of the kit's world, created with it — before the driver under
 * test starts, as a cluster has them before a pod that names them is scheduled — and never
 * replaced, so a driver reading them through a watch cache (upstream's controller-runtime
 * client) sees each from its first publish on.
 */
import { stringify } from 'yaml';
import type { KubeObject } from '../../sim/apiserver/object-store.js';
import type { StartedSimApiServer } from '../../sim/apiserver/api-server.js';
import { namespace, otherNamespace, providerName, rotatingObject, type KitObject } from './driver-env.js';

export const spcNames = {
  /** Every kit object. */
  main: 'conformance-spc',
  /** The main SPC, but only in the other namespace: missing from the pod's. */
  elsewhere: 'conformance-elsewhere',
  /** spec.provider "../trap": a path out of the providers directory. */
  attack: 'conformance-attack',
  /** Only the rotating object. */
  rotation: 'conformance-rotation',
  /** Two objects and a secretObjects entry syncing them. */
  sync: 'conformance-sync',
  /** The rotating object, synced to a Secret. */
  syncRotation: 'conformance-sync-rotation',
  /** One object the provider returns with mode 0 (proto3's "not set"). */
  modeUnset: 'conformance-mode-unset',
} as const;

/** The fake provider's `objects` parameter naming `objects`. */
export const objectsParameter = (objects: readonly KitObject[]) =>
  stringify(objects.map((o) => ({ objectName: o.name, fileName: o.fileName, ...(o.mode !== undefined ? { mode: `0${o.mode.toString(8)}` } : {}) })));

/** The Secret the sync-rotation SPC asks for, from the rotating object. */
export const rotatingSecret = { secretName: 'conformance-synced-rotating', type: 'Opaque', data: [{ objectName: rotatingObject, key: 'value' }] };

/** The Secret the sync SPC asks for, from the db-password and db-username objects. */
export const syncedSecret = (objects: readonly KitObject[]) => {
  const file = (name: string) => objects.find((o) => o.name === name)!.fileName;
  return {
    secretName: 'conformance-synced',
    type: 'Opaque',
    labels: { 'conformance.secrets-store-csi-ts/kind': 'db' },
    data: [
      { objectName: file('db-password'), key: 'password' },
      { objectName: file('db-username'), key: 'username' },
    ],
  };
};

export function createKitSpcs(api: StartedSimApiServer, objects: readonly KitObject[]): void {
  const all = objectsParameter(objects);
  const spcs: Array<[string, string, Record<string, unknown>]> = [
    [spcNames.main, namespace, { provider: providerName, parameters: { objects: all } }],
    [spcNames.elsewhere, otherNamespace, { provider: providerName, parameters: { objects: all } }],
    [spcNames.attack, namespace, { provider: '../trap', parameters: { objects: all } }],
    [spcNames.rotation, namespace, { provider: providerName, parameters: { objects: stringify([{ objectName: rotatingObject }]) } }],
    [spcNames.syncRotation, namespace, { provider: providerName, parameters: { objects: stringify([{ objectName: rotatingObject }]) }, secretObjects: [rotatingSecret] }],
    [spcNames.modeUnset, namespace, { provider: providerName, parameters: { objects: stringify([{ objectName: 'db-username', fileName: 'db-username', mode: '0' }]) } }],
    [spcNames.sync, namespace, { provider: providerName, parameters: { objects: objectsParameter(objects.filter((o) => o.name === 'db-password' || o.name === 'db-username')) }, secretObjects: [syncedSecret(objects)] }],
  ];
  for (const [name, ns, spec] of spcs) {
    api.store.create('secretproviderclasses', { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name, namespace: ns }, spec } as KubeObject);
  }
}
