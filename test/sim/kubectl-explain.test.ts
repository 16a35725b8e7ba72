/**
 * `kubectl explain` against the simulated cluster reads its OpenAPI v3 documents: the
 * built-in kinds' fields and descriptions are the real server's (the committed snapshot
 * from `npm run openapi:refresh`), the custom resources' come from the CRDs in
 * kind/manifests. Expected texts are Kubernetes' own descriptions and the CRD file's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster, type StartedSimCluster } from '../../cluster/sim/sim-cluster.js';
import { kubectlFor, kubectlVersion } from './kubectl-runner.js';

let c: StartedSimCluster;
const kubectl = kubectlFor(() => c.kubeconfig);
/** kubectl wraps descriptions at 80 columns: compare texts with whitespace folded. */
const folded = (text: string) => text.replace(/\s+/g, ' ');

describe.skipIf(!kubectlVersion)('kubectl explain', () => {
  beforeAll(async () => {
    c = await new SimCluster().start();
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('pod.spec.volumes.csi lists the CSI volume source fields with their descriptions', async () => {
    const r = await kubectl('explain', 'pod.spec.volumes.csi');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^KIND:\s+Pod\nVERSION:\s+v1\n/);
    expect(r.out).toMatch(/FIELD: csi <CSIVolumeSource>/);
    expect(folded(r.out)).toContain('csi (Container Storage Interface) represents ephemeral storage that is handled by certain external CSI drivers.');
    for (const field of ['driver\t<string> -required-', 'fsType\t<string>', 'nodePublishSecretRef\t<LocalObjectReference>', 'readOnly\t<boolean>', 'volumeAttributes\t<map[string]string>']) {
      expect(r.out).toContain(field);
    }
    expect(folded(r.out)).toContain('driver is the name of the CSI driver that handles this volume.');
  });

  it('deployment.spec.replicas', async () => {
    const r = await kubectl('explain', 'deployment.spec.replicas');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);
    expect(r.out).toContain('FIELD: replicas <integer>');
    expect(folded(r.out)).toContain('Number of desired pods. This is a pointer to distinguish between explicit zero and not specified. Defaults to 1.');
  });

  it('secretproviderclass.spec comes from the CRD in kind/manifests', async () => {
    const crd = parse(await readFile(join(process.cwd(), 'kind', 'manifests', 'secrets-store.csi.x-k8s.io_secretproviderclasses.yaml'), 'utf8')) as {
      spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: { properties: { spec: { description: string; properties: Record<string, { description?: string }> } } } } }> };
    };
    const spec = crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema.properties.spec;
    const r = await kubectl('explain', 'secretproviderclass.spec');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^GROUP:\s+secrets-store\.csi\.x-k8s\.io\nKIND:\s+SecretProviderClass\nVERSION:\s+v1\n/);
    expect(folded(r.out)).toContain(folded(spec.description));
    for (const [name, field] of Object.entries(spec.properties)) {
      expect(r.out).toMatch(new RegExp(`\\n  ${name}\\t<`));
      if (field.description) expect(folded(r.out)).toContain(folded(field.description));
    }
    const meta = await kubectl('explain', 'secretproviderclass.metadata.labels');
    expect(meta.out).toContain('FIELD: labels <map[string]string>');
    expect(folded(meta.out)).toContain('Map of string keys and values that can be used to organize and categorize');
  });
});
