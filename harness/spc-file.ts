/**
 * A SecretProviderClass a provider author brings in a file (`sscsi scenarios run --spc`,
 * `sscsi conformance provider --spc`): a YAML file with one SecretProviderClass
 * (secrets-store.csi.x-k8s.io/v1 or v1alpha1), optionally for a given provider. Its
 * `spec.parameters` are the provider's own convention; we only check their shape (a map of
 * strings, as the API requires). Its optional `spec.secretObjects` drive the sync scenario.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { SecretObject } from '../driver/k8s/types.js';
import { isValidProviderName } from '../driver/provider/provider-socket.js';

export const spcApiVersions = ['secrets-store.csi.x-k8s.io/v1', 'secrets-store.csi.x-k8s.io/v1alpha1'] as const;

export interface SpcFile {
  /** The file it came from. */
  file: string;
  apiVersion: (typeof spcApiVersions)[number];
  name: string;
  /** The file's metadata.namespace, or default. */
  namespace: string;
  provider: string;
  parameters: Record<string, string>;
  secretObjects: SecretObject[];
  /** The SecretProviderClass as applied in `namespace` (the file's own namespace is ignored). */
  manifest(namespace: string): SpcManifest;
}

/**
 * The SecretProviderClass object `manifest` makes, ready to apply. Stated here rather than
 * taken from the cluster contract: harness/ sits below cluster/ (whose implementations
 * import it), so it names the shape it builds.
 */
export type SpcManifest = {
  apiVersion: (typeof spcApiVersions)[number];
  kind: 'SecretProviderClass';
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
};

/** What is wrong with the file, in one line. */
export class SpcFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpcFileError';
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkSecretObjects(raw: unknown, where: string): SecretObject[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new SpcFileError(`${where}: spec.secretObjects must be a list`);
  return raw.map((entry: unknown, i) => {
    const at = `${where}: spec.secretObjects[${i}]`;
    if (!isMap(entry) || typeof entry.secretName !== 'string' || entry.secretName === '') throw new SpcFileError(`${at}: secretName is required`);
    if (entry.type !== undefined && typeof entry.type !== 'string') throw new SpcFileError(`${at}: type must be a string`);
    if (!Array.isArray(entry.data) || entry.data.length === 0) throw new SpcFileError(`${at}: data must list at least one {objectName, key}`);
    entry.data.forEach((d: unknown, j) => {
      if (!isMap(d) || typeof d.objectName !== 'string' || d.objectName === '' || typeof d.key !== 'string' || d.key === '') {
        throw new SpcFileError(`${at}.data[${j}]: objectName and key are required strings`);
      }
    });
    return entry as unknown as SecretObject;
  });
}

/** Reads and checks the file; `provider`, when given, is the name the SPC must be for (--provider). */
export async function loadSpcFile(file: string, provider?: string): Promise<SpcFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SpcFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const docs = parseAllDocuments(text);
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) throw new SpcFileError(`${file} is not valid YAML: ${broken.errors[0]!.message.split('\n')[0]}`);
  const spcs = docs.map((d) => d.toJS() as unknown).filter((o): o is Record<string, unknown> => isMap(o) && o.kind === 'SecretProviderClass');
  if (spcs.length !== 1) throw new SpcFileError(spcs.length === 0 ? `${file} holds no SecretProviderClass (kind: SecretProviderClass)` : `${file} holds ${spcs.length} SecretProviderClasses; give one`);
  const doc = spcs[0]!;
  const apiVersion = doc.apiVersion as SpcFile['apiVersion'];
  if (!spcApiVersions.includes(apiVersion)) throw new SpcFileError(`${file}: apiVersion must be ${spcApiVersions.join(' or ')}, got ${JSON.stringify(doc.apiVersion)}`);
  const metadata = isMap(doc.metadata) ? doc.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new SpcFileError(`${file}: metadata.name must be a lowercase DNS name, got ${JSON.stringify(name)}`);
  const spec = isMap(doc.spec) ? doc.spec : {};
  if (typeof spec.provider !== 'string' || !isValidProviderName(spec.provider)) {
    throw new SpcFileError(`${file}: spec.provider must be a provider name (^[a-zA-Z0-9_-]{1,30}$), got ${JSON.stringify(spec.provider)}`);
  }
  if (provider !== undefined && spec.provider !== provider) {
    throw new SpcFileError(`${file}: spec.provider is ${JSON.stringify(spec.provider)} but --provider names ${JSON.stringify(provider)}; the SecretProviderClass must be written for the provider under test`);
  }
  const parameters = spec.parameters;
  if (!isMap(parameters) || Object.keys(parameters).length === 0) throw new SpcFileError(`${file}: spec.parameters must be a non-empty map of strings (the provider's own parameters)`);
  const notString = Object.entries(parameters).find(([, v]) => typeof v !== 'string');
  if (notString) throw new SpcFileError(`${file}: spec.parameters.${notString[0]} must be a string (quote it, or use a YAML block scalar)`);
  const secretObjects = checkSecretObjects(spec.secretObjects, file);
  return {
    file,
    apiVersion,
    name,
    namespace: typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default',
    provider: spec.provider,
    parameters: parameters as Record<string, string>,
    secretObjects,
    manifest(namespace) {
      const meta: SpcManifest['metadata'] = { name, namespace };
      if (isMap(metadata.labels)) meta.labels = metadata.labels as Record<string, string>;
      if (isMap(metadata.annotations)) meta.annotations = metadata.annotations as Record<string, string>;
      return structuredClone({ apiVersion, kind: 'SecretProviderClass' as const, metadata: meta, spec });
    },
  };
}
