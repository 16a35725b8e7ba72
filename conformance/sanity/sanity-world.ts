/**
 * The world csi-sanity's driver lives in: the driver conformance kit's world (embedded API
 * server with the CRDs and RBAC, the driver's kubeconfig, a fake provider), plus a pod and a
 * SecretProviderClass naming the provider's objects, and the volume parameters file
 * (`--csi.testvolumeparameters`) holding the volume context the kubelet sends for that pod.
 * csi-test v5.4.0 sends those parameters only in CreateVolume (a driver with a controller
 * returns them as the volume context its publish specs use); a node-only driver is never
 * asked, but a complete world costs nothing and keeps the file truthful.
 *
 *   <root>/sanity/volume-parameters.yaml
 *   <root>/sanity/mount, <root>/sanity/staging   made and removed by csi-sanity per spec
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { podVolumeContext } from '../../harness/provider-request.js';
import type { KubeObject } from '../../sim/apiserver/object-store.js';
import { namespace, providerName, startDriverEnv, type DriverEnv } from '../driver/driver-env.js';

export const spcName = 'csi-sanity';
export const podName = 'csi-sanity-0';

export interface SanityWorld {
  env: DriverEnv;
  volumeParametersFile: string;
  mountDir: string;
  stagingDir: string;
  close(): Promise<void>;
}

export async function startSanityWorld(options: { stateDir?: string | undefined; nodeId: string }): Promise<SanityWorld> {
  const env = await startDriverEnv(options);
  try {
    const store = env.api.store;
    const pod = store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName, namespace },
      spec: { nodeName: env.nodeId, serviceAccountName: 'default', containers: [{ name: 'app', image: 'registry.example/app:1' }] },
    } as KubeObject);
    const objects = stringify(env.objects.map((o) => ({ objectName: o.name, fileName: o.fileName })));
    store.create('secretproviderclasses', {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: spcName, namespace },
      spec: { provider: providerName, parameters: { objects } },
    } as KubeObject);
    const dir = join(env.root, 'sanity');
    await mkdir(dir, { recursive: true });
    const volumeParametersFile = join(dir, 'volume-parameters.yaml');
    await writeFile(volumeParametersFile, stringify(podVolumeContext(spcName, { name: podName, namespace, uid: pod.metadata.uid! })));
    return { env, volumeParametersFile, mountDir: join(dir, 'mount'), stagingDir: join(dir, 'staging'), close: () => env.close() };
  } catch (err) {
    await env.close();
    throw err;
  }
}
