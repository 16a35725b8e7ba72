/**
 * `npm run openapi:refresh`: the OpenAPI v3 schemas of the built-in kinds the simulated API
 * server serves, taken from a real kube-apiserver (the sim-fidelity test's control plane,
 * cluster/fidelity/api-control-plane.ts, in a temp dir, stopped at the end) and trimmed to those kinds and
 * the definitions they reach. Written to sim/apiserver/openapi/kubernetes-schemas.json,
 * committed: the descriptions `kubectl explain` prints are facts from Kubernetes, not ours.
 * The custom resources' schemas come from the CRDs in kind/manifests at run time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../driver/version.js';
import { resourceKinds } from '../../sim/apiserver/resources.js';
import { startApiControlPlane, type ApiControlPlane } from '../fidelity/api-control-plane.js';
import { httpGet } from './control-plane/https-get.js';

type Schema = Record<string, unknown>;
interface Gvk {
  group: string;
  version: string;
  kind: string;
}

export const schemasFile = () => join(packageRoot(), 'sim', 'apiserver', 'openapi', 'kubernetes-schemas.json');

/** Every `#/components/schemas/<name>` that `value` refers to. */
function refsOf(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) refsOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.replace('#/components/schemas/', ''));
      else refsOf(v, out);
    }
  }
}

/** The schemas of `wanted` kinds and everything they reach, in name order. */
export function trimSchemas(schemas: Record<string, Schema>, wanted: (gvk: Gvk) => boolean): Record<string, Schema> {
  const queue = Object.keys(schemas).filter((name) => ((schemas[name]!['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? []).some(wanted));
  const kept = new Set<string>();
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (kept.has(name) || !schemas[name]) continue;
    kept.add(name);
    const refs = new Set<string>();
    refsOf(schemas[name], refs);
    queue.push(...refs);
  }
  return Object.fromEntries([...kept].sort().map((n) => [n, schemas[n]!]));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sscsi-openapi-'));
  let cp: ApiControlPlane | undefined;
  try {
    cp = await startApiControlPlane({ stateDir: dir, controllerManager: false });
    const { pki, apiServerUrl } = cp;
    const get = async (path: string) => {
      const r = await httpGet(`${apiServerUrl}${path}`, { ca: pki.ca.cert, client: pki.admin }, 30_000);
      if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      return JSON.parse(r.body) as Record<string, unknown>;
    };
    const version = (await get('/version')) as { gitVersion: string };
    const served = resourceKinds.filter((r) => r.group !== 'secrets-store.csi.x-k8s.io');
    const gvs = new Map<string, Gvk[]>();
    for (const r of served) {
      for (const v of r.versions) {
        const gv = r.group === '' ? `api/${v}` : `apis/${r.group}/${v}`;
        gvs.set(gv, [...(gvs.get(gv) ?? []), { group: r.group, version: v, kind: r.kind }]);
      }
    }
    // The scale subresource's kind is served under apps/v1 (the real apps/v1 document has it).
    gvs.get('apis/apps/v1')!.push({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const out: Record<string, Record<string, Schema>> = {};
    for (const [gv, kinds] of gvs) {
      const doc = (await get(`/openapi/v3/${gv}`)) as { components: { schemas: Record<string, Schema> } };
      out[gv] = trimSchemas(doc.components.schemas, (g) => kinds.some((k) => k.group === g.group && k.version === g.version && k.kind === g.kind));
      const missing = kinds.filter((k) => !Object.values(out[gv]!).some((s) => ((s['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? []).some((g) => g.kind === k.kind && g.group === k.group)));
      if (missing.length > 0) throw new Error(`${gv}: the real server has no schema for ${missing.map((k) => k.kind).join(', ')}`);
    }
    const file = schemasFile();
    await writeFile(file, `${JSON.stringify({ source: `kube-apiserver ${version.gitVersion} /openapi/v3, trimmed by npm run openapi:refresh`, groupVersions: out }, null, 1)}\n`);
    console.log(`wrote ${file}: ${Object.entries(out).map(([gv, s]) => `${gv} ${Object.keys(s).length} schemas`).join(', ')} (from ${version.gitVersion})`);
  } finally {
    await cp?.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('openapi-refresh.js')) {
  main().catch((err: unknown) => {
    console.error(`openapi:refresh failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
