/**
 * What the k8s target changes in kind/manifests before applying them (pure, in-process):
 * images mapped everywhere, the driver pod on the host network told where the API server
 * is, DRIVER_FLAGS appended, the driver container dropped for a host driver — and nothing
 * else touched.
 */
import { describe, expect, it } from 'vitest';
import { k8sManifests, loadKindManifests, missingInstallImages, splitCrds, type Manifest } from '../../cluster/k8s/install/manifests.js';
import { standInImage } from '../../kind/bootstrap/images.js';

type Container = { name: string; image: string; args?: string[]; env?: Array<{ name: string; value?: string }> };
type PodTemplate = { hostNetwork?: boolean; containers: Container[]; initContainers?: Container[] };

const template = (m: Manifest) => (m.spec as { template: { spec: PodTemplate } }).template.spec;
const find = (docs: Manifest[], kind: string, name: string) => {
  const d = docs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!d) throw new Error(`${kind}/${name} not in kind/manifests`);
  return d;
};
const apiServer = { host: '127.0.0.1', port: 43210 };
const mapImage = (i: string) => `mapped/${i}`;

describe('kind/manifests for the k8s target', async () => {
  const original = await loadKindManifests();

  it('reads every document of kind/manifests: CSIDriver, both CRDs, RBAC, both DaemonSets', () => {
    const names = original.map((d) => `${d.kind}/${d.metadata.name}`);
    for (const n of ['CSIDriver/secrets-store.csi.k8s.io', 'DaemonSet/csi-secrets-store', 'DaemonSet/fake-provider', 'ServiceAccount/secrets-store-csi-driver']) expect(names).toContain(n);
    expect(splitCrds(original).crds.map((c) => c.metadata.name).sort()).toEqual(['secretproviderclasses.secrets-store.csi.x-k8s.io', 'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io']);
  });

  it('maps every container image, puts the driver pod on the host network and tells it where the API server is', () => {
    const docs = k8sManifests(original, { apiServer, image: mapImage });
    const driver = template(find(docs, 'DaemonSet', 'csi-secrets-store'));
    expect(driver.hostNetwork).toBe(true);
    expect(driver.containers.map((c) => c.name)).toEqual(['node-driver-registrar', 'secrets-store', 'liveness-probe']);
    const before = template(find(original, 'DaemonSet', 'csi-secrets-store'));
    expect(driver.containers.map((c) => c.image)).toEqual(before.containers.map((c) => `mapped/${c.image}`));
    const env = driver.containers.find((c) => c.name === 'secrets-store')!.env!;
    expect(env).toContainEqual({ name: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' });
    expect(env).toContainEqual({ name: 'KUBERNETES_SERVICE_PORT', value: '43210' });
    const provider = template(find(docs, 'DaemonSet', 'fake-provider'));
    expect(provider.hostNetwork).toBeUndefined();
    expect([...provider.containers, ...(provider.initContainers ?? [])].every((c) => c.image.startsWith('mapped/'))).toBe(true);
  });

  it('appends DRIVER_FLAGS to the driver container only', () => {
    const docs = k8sManifests(original, { apiServer, image: (i) => i, driverArgs: ['--rotation-poll-interval=2s'] });
    const driver = template(find(docs, 'DaemonSet', 'csi-secrets-store'));
    const before = template(find(original, 'DaemonSet', 'csi-secrets-store'));
    expect(driver.containers.find((c) => c.name === 'secrets-store')!.args).toEqual([...before.containers.find((c) => c.name === 'secrets-store')!.args!, '--rotation-poll-interval=2s']);
    expect(driver.containers.find((c) => c.name === 'node-driver-registrar')!.args).toEqual(before.containers.find((c) => c.name === 'node-driver-registrar')!.args);
  });

  it('with the driver on the host, keeps the registrar and the liveness probe and drops the driver container', () => {
    const docs = k8sManifests(original, { apiServer, image: (i) => i, driverOnHost: true });
    expect(template(find(docs, 'DaemonSet', 'csi-secrets-store')).containers.map((c) => c.name)).toEqual(['node-driver-registrar', 'liveness-probe']);
  });

  it('leaves every other document as it is, and the documents it was given untouched', () => {
    const snapshot = structuredClone(original);
    const docs = k8sManifests(original, { apiServer, image: mapImage, driverArgs: ['--x'] });
    expect(original).toEqual(snapshot);
    const untouched = (d: Manifest) => d.kind !== 'DaemonSet';
    expect(docs.filter(untouched)).toEqual(original.filter(untouched));
  });

  it('names the images the install needs that the node could not be given, and only those', () => {
    const skipped = [
      { image: 'secrets-store-csi-ts/driver:dev', reason: 'the Docker engine did not answer' },
      { image: 'secrets-store-csi-ts/fake-provider:dev', reason: 'not in the Docker engine' },
      { image: 'someone/else:1', reason: 'not in the Docker engine' },
    ];
    const inContainers = k8sManifests(original, { apiServer, image: standInImage });
    expect(missingInstallImages(inContainers, skipped)).toEqual(['secrets-store-csi-ts/driver:dev: the Docker engine did not answer', 'secrets-store-csi-ts/fake-provider:dev: not in the Docker engine']);
    // A driver on the host needs no driver image.
    const onHost = k8sManifests(original, { apiServer, image: standInImage, driverOnHost: true });
    expect(missingInstallImages(onHost, skipped)).toEqual(['secrets-store-csi-ts/fake-provider:dev: not in the Docker engine']);
    expect(missingInstallImages(inContainers, [])).toEqual([]);
  });

  it('runs another driver binary in the driver container: its image, our flags kept, no readiness probe on /healthz (upstream serves none)', () => {
    const docs = k8sManifests(original, { apiServer, image: standInImage, driverImage: 'docker.io/secrets-store-csi-ts/driver-bin:abc' });
    const driver = template(find(docs, 'DaemonSet', 'csi-secrets-store')).containers.find((c) => c.name === 'secrets-store') as Container & { readinessProbe?: unknown; livenessProbe?: unknown };
    const before = template(find(original, 'DaemonSet', 'csi-secrets-store')).containers.find((c) => c.name === 'secrets-store') as Container & { readinessProbe?: unknown; livenessProbe?: unknown };
    expect(driver.image).toBe('docker.io/secrets-store-csi-ts/driver-bin:abc');
    expect(before.readinessProbe).toBeDefined();
    expect(driver.readinessProbe).toBeUndefined();
    expect(driver.livenessProbe).toEqual(before.livenessProbe);
    expect(driver.args).toEqual(before.args);
  });
});
