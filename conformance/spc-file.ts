/**
 * A SecretProviderClass read from a YAML file, as the conformance kits take them: the
 * provider's name and its parameters, checked enough to give a clear error for a wrong file.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

export interface SpcDoc {
  name: string;
  namespace: string;
  provider: string;
  parameters: Record<string, string>;
  /** The whole object, for applying it to a cluster. */
  object: Record<string, unknown>;
}

export class SpcFileError extends Error {}

export async function readSpcFile(path: string): Promise<SpcDoc> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SpcFileError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseSpc(text, path);
}

export function parseSpc(text: string, where: string): SpcDoc {
  const docs = parseAllDocuments(text);
  const objects = docs.map((d) => {
    if (d.errors.length > 0) throw new SpcFileError(`${where} is not valid YAML: ${d.errors[0]!.message}`);
    return d.toJS() as Record<string, unknown> | null;
  });
  const spc = objects.find((o) => o?.kind === 'SecretProviderClass');
  if (!spc) throw new SpcFileError(`${where} holds no SecretProviderClass (kind: SecretProviderClass, apiVersion: secrets-store.csi.x-k8s.io/v1)`);
  const apiVersion = String(spc.apiVersion ?? '');
  if (apiVersion !== 'secrets-store.csi.x-k8s.io/v1' && apiVersion !== 'secrets-store.csi.x-k8s.io/v1alpha1') {
    throw new SpcFileError(`${where}: apiVersion must be secrets-store.csi.x-k8s.io/v1 or v1alpha1, got ${JSON.stringify(spc.apiVersion)}`);
  }
  const metadata = (spc.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  if (typeof metadata.name !== 'string' || metadata.name === '') throw new SpcFileError(`${where}: metadata.name is required`);
  const spec = (spc.spec ?? {}) as { provider?: unknown; parameters?: unknown };
  if (typeof spec.provider !== 'string' || spec.provider === '') throw new SpcFileError(`${where}: spec.provider is required`);
  const params = spec.parameters ?? {};
  if (typeof params !== 'object' || Array.isArray(params) || params === null) throw new SpcFileError(`${where}: spec.parameters must be a map of strings`);
  const parameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (typeof v !== 'string') throw new SpcFileError(`${where}: spec.parameters.${k} must be a string (quote it in YAML), got ${typeof v}`);
    parameters[k] = v;
  }
  return {
    name: metadata.name,
    namespace: typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default',
    provider: spec.provider,
    parameters,
    object: spc,
  };
}
