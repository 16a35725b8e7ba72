/**
 * kind/manifests and kind/examples, checked offline: every object validates against the
 * Kubernetes OpenAPI schemas (kubernetes-models), the CRDs' own schemas accept the example
 * SecretProviderClasses and reject malformed ones, and the DaemonSets say what DESIGN §3
 * says — their arguments parsed by the very programs they start.
 */
import { Ajv } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1';
import { Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseDriverFlags } from '../../driver/flags.js';
import { packageRoot } from '../../driver/version.js';
import { startBin, type ManagedProcess } from '../../harness/managed-process.js';
import { parseManifests } from '../../sim/apiserver/bootstrap.js';
import { makeTempRoot, type TempRoot } from '../helpers/temp-root.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
interface Validatable {
  validate(): void;
}

const models: Record<string, new (data: never) => Validatable> = {
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
  'apps/v1/DaemonSet': DaemonSet,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'storage.k8s.io/v1/CSIDriver': CSIDriver,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

const dir = (name: string) => join(packageRoot(), 'kind', name);
const load = (folder: string) =>
  readdirSync(dir(folder))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) => parseManifests(readFileSync(join(dir(folder), file), 'utf8'), file).map((obj) => ({ file, obj: obj as unknown as Obj })));
const manifests = load('manifests');
const examples = load('examples');
const find = (kind: string, name: string) => manifests.find((m) => m.obj.kind === kind && m.obj.metadata.name === name)?.obj;

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string; mountPropagation?: string }>;
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  ports?: Array<{ name: string; containerPort: number }>;
}
interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  volumes: Array<{ name: string; hostPath?: { path: string; type?: string } }>;
}
const podSpec = (ds: Obj) => ((ds.spec as { template: { spec: PodSpec } }).template.spec);

describe('kind/manifests', () => {
  it('holds the CSIDriver, both CRDs, the RBAC, the ServiceAccount and both DaemonSets', () => {
    expect(manifests.map((m) => `${m.obj.kind}/${m.obj.metadata.name}`).sort()).toEqual(
      [
        'CSIDriver/secrets-store.csi.k8s.io',
        'ClusterRole/secretproviderclasses-role',
        'ClusterRole/secretprovidersyncing-role',
        'ClusterRoleBinding/secretproviderclasses-rolebinding',
        'ClusterRoleBinding/secretprovidersyncing-rolebinding',
        'CustomResourceDefinition/secretproviderclasses.secrets-store.csi.x-k8s.io',
        'CustomResourceDefinition/secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
        'DaemonSet/csi-secrets-store',
        'DaemonSet/fake-provider',
        'Service/fake-provider',
        'ServiceAccount/secrets-store-csi-driver',
      ].sort(),
    );
  });

  it.each(manifests.map((m) => [`${m.file}: ${m.obj.kind} ${m.obj.metadata.name}`, m.obj] as const))('%s validates against the Kubernetes OpenAPI schema', (_name, obj) => {
    const Model = models[`${obj.apiVersion}/${obj.kind}`];
    expect(Model, `no schema registered for ${obj.apiVersion} ${obj.kind}`).toBeDefined();
    expect(() => new Model!(obj as never).validate()).not.toThrow();
  });

  it('the schema check is not a formality: a malformed DaemonSet and CSIDriver are rejected', () => {
    const ds = structuredClone(find('DaemonSet', 'csi-secrets-store')!);
    const mount = podSpec(ds).containers.find((c) => c.name === 'secrets-store')!.volumeMounts!.find((v) => v.name === 'mountpoint-dir')!;
    mount.mountPropagation = 'Bidirectionall';
    expect(() => new DaemonSet(ds as never).validate()).toThrow(/mountPropagation must be equal to one of the allowed values/);
    const driver = structuredClone(find('CSIDriver', 'secrets-store.csi.k8s.io')!) as Obj & { spec: Record<string, unknown> };
    driver.spec.podInfoOnMount = 'yes';
    expect(() => new CSIDriver(driver as never).validate()).toThrow(/podInfoOnMount must be boolean/);
  });

  it('declares the CSIDriver as DESIGN §2.3 does', () => {
    expect(find('CSIDriver', 'secrets-store.csi.k8s.io')!.spec).toEqual({
      attachRequired: false,
      podInfoOnMount: true,
      requiresRepublish: true,
      fsGroupPolicy: 'File',
      volumeLifecycleModes: ['Ephemeral'],
    });
  });

  it('runs the driver DaemonSet as DESIGN §3 lays it out, with flags the driver accepts', () => {
    const ds = find('DaemonSet', 'csi-secrets-store')!;
    const spec = podSpec(ds);
    expect(spec.containers.map((c) => c.name)).toEqual(['node-driver-registrar', 'secrets-store', 'liveness-probe']);
    const [registrar, driver, probe] = spec.containers as [Container, Container, Container];
    expect(registrar.args).toEqual(expect.arrayContaining(['--csi-address=/csi/csi.sock', '--kubelet-registration-path=/var/lib/kubelet/plugins/csi-secrets-store/csi.sock']));
    expect(probe.args).toEqual(expect.arrayContaining(['--csi-address=/csi/csi.sock', '--http-endpoint=0.0.0.0:9808']));
    expect(driver.securityContext).toEqual({ privileged: true });
    expect(driver.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'healthz' });
    expect(driver.ports).toEqual(expect.arrayContaining([{ name: 'healthz', containerPort: 9808, protocol: 'TCP' }]));
    expect(driver.volumeMounts).toEqual(expect.arrayContaining([{ name: 'mountpoint-dir', mountPath: '/var/lib/kubelet/pods', mountPropagation: 'Bidirectional' }]));
    const hostPaths = Object.fromEntries(spec.volumes.map((v) => [v.name, v.hostPath?.path]));
    expect(hostPaths).toMatchObject({
      'mountpoint-dir': '/var/lib/kubelet/pods',
      'plugin-dir': '/var/lib/kubelet/plugins/csi-secrets-store/',
      'registration-dir': '/var/lib/kubelet/plugins_registry/',
      'providers-dir': '/var/run/secrets-store-csi-providers',
      'providers-dir-0': '/etc/kubernetes/secrets-store-csi-providers',
    });
    // Every volume a container mounts exists, and the driver's identity is the one the RBAC binds.
    for (const c of spec.containers) for (const m of c.volumeMounts ?? []) expect(spec.volumes.map((v) => v.name)).toContain(m.name);
    expect(spec.serviceAccountName).toBe('secrets-store-csi-driver');
    const binding = find('ClusterRoleBinding', 'secretproviderclasses-rolebinding') as unknown as { subjects: Array<{ name: string; namespace: string }> };
    expect(binding.subjects).toEqual([expect.objectContaining({ name: spec.serviceAccountName, namespace: ds.metadata.namespace })]);
    // The driver's own parser takes the arguments, with the kubelet's $(VAR) expansion.
    const env = Object.fromEntries((driver.env ?? []).map((e) => [e.name, e.value ?? 'node-1']));
    const flags = parseDriverFlags(driver.args!.map((a) => a.replace(/\$\((\w+)\)/g, (_m, v: string) => env[v] ?? '')));
    expect(flags).toMatchObject({
      endpoint: 'unix:///csi/csi.sock',
      nodeId: 'node-1',
      providerVolume: '/var/run/secrets-store-csi-providers',
      additionalProviderVolumePaths: ['/etc/kubernetes/secrets-store-csi-providers'],
      metricsAddr: ':8095',
      logFormatJson: true,
    });
  });
});

describe('the fake-provider DaemonSet', () => {
  let tmp: TempRoot | undefined;
  let proc: ManagedProcess | undefined;
  afterAll(async () => {
    await proc?.kill();
    await tmp?.cleanup();
  });

  it('serves its socket in a directory the driver searches, unprivileged, and its arguments start the real fake provider', async () => {
    const ds = find('DaemonSet', 'fake-provider')!;
    const spec = podSpec(ds);
    const c = spec.containers[0]!;
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false });
    const providersDir = spec.volumes.find((v) => v.name === 'providers-dir')!.hostPath!.path;
    const driverFlags = podSpec(find('DaemonSet', 'csi-secrets-store')!).containers[1]!.args!;
    expect(driverFlags.join(' ')).toContain(providersDir);
    // The same arguments, with the socket in a temporary directory and the control API on
    // loopback instead of the pod's address.
    tmp = await makeTempRoot('fake-ds');
    const args = c.args!.map((a) => a.replace('/providers/', `${tmp!.path}/`).replace('--control-addr=0.0.0.0:8080', '--control-addr=127.0.0.1:0'));
    proc = startBin('fake-providers/main.js', args);
    const ready = JSON.parse(await proc.waitForLine(/^\{"ready":true/)) as { name: string; socket: string; control: string };
    expect(ready).toMatchObject({ name: 'fake', socket: join(tmp.path, 'fake.sock') });
    // The readiness probe's path answers.
    const res = await fetch(`${ready.control}/state`);
    expect(res.status).toBe(200);
  });
});

describe('the CRD schemas', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const crd = (name: string) => find('CustomResourceDefinition', name) as unknown as { spec: { versions: Array<{ name: string; storage: boolean; served: boolean; schema: { openAPIV3Schema: object } }> } };
  const validator = (kind: 'secretproviderclasses' | 'secretproviderclasspodstatuses', version: string) => {
    const v = crd(`${kind}.secrets-store.csi.x-k8s.io`).spec.versions.find((x) => x.name === version)!;
    return ajv.compile(v.schema.openAPIV3Schema);
  };

  it('serve v1 (stored) and v1alpha1 for both kinds', () => {
    for (const kind of ['secretproviderclasses', 'secretproviderclasspodstatuses']) {
      const versions = crd(`${kind}.secrets-store.csi.x-k8s.io`).spec.versions.map((v) => ({ name: v.name, served: v.served, storage: v.storage }));
      expect(versions).toEqual([
        { name: 'v1', served: true, storage: true },
        { name: 'v1alpha1', served: true, storage: false },
      ]);
    }
  });

  it.each(examples.map((e) => [e.file, e.obj] as const))('accept the example %s', (_file, obj) => {
    const validate = validator('secretproviderclasses', obj.apiVersion.split('/')[1]!);
    expect(validate(obj), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['parameters that are not strings', { provider: 'vault', parameters: { objects: [{ objectName: 'a' }] } }, /parameters\/objects must be string/],
    ['a provider that is not a string', { provider: 42, parameters: { a: 'b' } }, /provider must be string/],
    ['secretObjects that is not a list', { provider: 'fake', parameters: { a: 'b' }, secretObjects: { secretName: 'x' } }, /secretObjects must be array/],
    ['secretObjects data that is not a list', { provider: 'fake', parameters: { a: 'b' }, secretObjects: [{ secretName: 'x', data: 'password' }] }, /data must be array/],
  ])('reject %s', (_what, spec, message) => {
    for (const version of ['v1', 'v1alpha1']) {
      const validate = validator('secretproviderclasses', version);
      expect(validate({ apiVersion: `secrets-store.csi.x-k8s.io/${version}`, kind: 'SecretProviderClass', metadata: { name: 'bad' }, spec })).toBe(false);
      expect(ajv.errorsText(validate.errors)).toMatch(message);
    }
  });

  it('accept the pod status the driver writes and reject a malformed one', () => {
    const validate = validator('secretproviderclasspodstatuses', 'v1');
    const good = {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClassPodStatus',
      metadata: { name: 'web-0-default-app', namespace: 'default', labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'node-1' } },
      status: { podName: 'web-0', secretProviderClassName: 'app', targetPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/s/mount', mounted: true, objects: [{ id: 'secret/a', version: '1' }] },
    };
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...good, status: { ...good.status, mounted: 'yes' } })).toBe(false);
    expect(validate({ ...good, status: { ...good.status, objects: [{ id: 1 }] } })).toBe(false);
  });
});
