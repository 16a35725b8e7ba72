/**
 * Where upstream's sidecar images cannot be pulled, ours stand in for them: every image the
 * manifests name is then one `sscsi image build` makes.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { root } from '../../harness/managed-process.js';
import { builtImageNames, standInImage } from '../../kind/bootstrap/images.js';

async function manifestImages(): Promise<string[]> {
  const dir = join(root, 'kind', 'manifests');
  const images: string[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(await readFile(join(dir, f), 'utf8'))) {
      const spec = (doc.toJS() as { spec?: { template?: { spec?: { containers?: { image: string }[]; initContainers?: { image: string }[] } } } } | null)?.spec?.template?.spec;
      for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) images.push(c.image);
    }
  }
  return images;
}

describe('stand-in images for the sidecars', () => {
  it('maps upstream\'s registrar and liveness probe, at any tag or digest, to ours', () => {
    expect(standInImage('registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0')).toBe('secrets-store-csi-ts/csi-node-driver-registrar:dev');
    expect(standInImage('registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.9.0@sha256:' + 'a'.repeat(64))).toBe('secrets-store-csi-ts/csi-node-driver-registrar:dev');
    expect(standInImage('registry.k8s.io/sig-storage/livenessprobe:v2.15.0')).toBe('secrets-store-csi-ts/livenessprobe:dev');
  });

  it('leaves every other image as it is', () => {
    for (const image of ['secrets-store-csi-ts/driver:dev', 'registry.k8s.io/csi-secrets-store/driver:v1.6.0', 'registry.k8s.io/sig-storage/csi-provisioner:v5.0.0', 'localhost:5000/sig-storage/livenessprobe:v2.15.0']) {
      expect(standInImage(image)).toBe(image);
    }
  });

  it('every image the manifests name is, after the mapping, one `sscsi image build` makes', async () => {
    const images = await manifestImages();
    // The manifests keep upstream's sidecar names (a kind cluster with a registry pulls them).
    expect(images).toEqual(expect.arrayContaining(['registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0', 'registry.k8s.io/sig-storage/livenessprobe:v2.15.0']));
    for (const image of images) expect(builtImageNames).toContain(standInImage(image));
  });
});
