/**
 * The command list: what the README, upstream's documentation and e2e steps, and issue 19
 * do with kubectl, plus a few calls through @kubernetes/client-node, in one order that both
 * sides run. Objects that later steps need are made with `kubectl apply` (JSON on the wire),
 * so that a typed command the sim cannot answer yet (`create secret`, protobuf) fails alone
 * instead of taking every later step with it.
 *
 * Namespaces: `fid` (most steps), `fid-created` (kubectl create namespace), `default` (the
 * README's example SecretProviderClasses, deleted again at the end).
 */
import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Step } from './step.js';

const ns = 'fid';
const driverSa = 'system:serviceaccount:kube-system:secrets-store-csi-driver';

const namespaceYaml = `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
  labels:
    purpose: fidelity
`;

const spcYaml = `apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: e2e-spc
  namespace: ${ns}
  labels:
    app: fid
spec:
  provider: fake
  parameters:
    objects: |
      - objectName: db-password
  secretObjects:
    - secretName: synced
      type: Opaque
      data:
        - objectName: db-password
          key: password
`;

const invalidSpcYaml = `apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: invalid
  namespace: ${ns}
spec:
  provider: 42
  parameters:
    objects: 7
`;

const secretYaml = `apiVersion: v1
kind: Secret
metadata:
  name: app-secret
  namespace: ${ns}
  labels:
    app: fid
type: Opaque
stringData:
  username: admin
data:
  password: czNjcjN0
`;

const heldSecretYaml = `apiVersion: v1
kind: Secret
metadata:
  name: held
  namespace: ${ns}
  finalizers:
    - example.com/hold
data:
  k: dg==
`;

const deploymentYaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: ${ns}
  labels:
    app: api
spec:
  replicas: 1
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: app
          image: registry.example/app:1
`;

const podYaml = `apiVersion: v1
kind: Pod
metadata:
  name: reader
  namespace: ${ns}
  labels:
    app: reader
spec:
  containers:
    - name: app
      image: registry.example/app:1
      volumeMounts:
        - name: secrets-store-inline
          mountPath: /mnt/secrets-store
          readOnly: true
  volumes:
    - name: secrets-store-inline
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes:
          secretProviderClass: e2e-spc
`;

const ssaSpc = (provider: string) => `apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: ssa-spc
  namespace: ${ns}
spec:
  provider: ${provider}
  parameters:
    objects: |
      - objectName: api-key
`;

const exists = (o: { exitCode: number }) => o.exitCode === 0;
const podsNote = 'the sim schedules and runs pods, the real side has no scheduler or kubelet';
const deployStatus = { path: '.status', why: `replica counts and conditions: ${podsNote}` };

/** Watch events (type, name, data keys) on labelled Secrets across a create, an update and a delete. */
async function watchSecrets(kc: KubeConfig): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const selector = 'fidelity=watch';
  const list = await core.listNamespacedSecret({ namespace: ns, labelSelector: selector });
  const events: string[] = [];
  let done!: () => void;
  let failed!: (e: unknown) => void;
  const finished = new Promise<void>((res, rej) => ((done = res), (failed = rej)));
  const req = await new Watch(kc).watch(
    `/api/v1/namespaces/${ns}/secrets`,
    { labelSelector: selector, resourceVersion: list.metadata?.resourceVersion },
    (type, obj: V1Secret) => {
      events.push(`${type} ${obj.metadata?.name} data=${Object.keys(obj.data ?? {}).sort().join(',')}`);
      if (type === 'DELETED') done();
    },
    (err) => (err ? failed(err) : done()),
  );
  const timer = setTimeout(() => failed(new Error(`no DELETED event within 15 s; saw ${events.join('; ')}`)), 15_000);
  try {
    const body: V1Secret = { metadata: { name: 'watched', labels: { fidelity: 'watch' } }, stringData: { a: '1' } };
    await core.createNamespacedSecret({ namespace: ns, body });
    const read = await core.readNamespacedSecret({ name: 'watched', namespace: ns });
    read.data = { ...read.data, b: Buffer.from('2').toString('base64') };
    await core.replaceNamespacedSecret({ name: 'watched', namespace: ns, body: read });
    await core.deleteNamespacedSecret({ name: 'watched', namespace: ns });
    await finished;
  } finally {
    clearTimeout(timer);
    req.abort();
  }
  return events;
}

export const fidelitySteps: Step[] = [
  // --- namespaces (upstream e2e begins with `kubectl create ns`) ---
  { id: 'create-namespace', from: 'upstream e2e', kubectl: ['create', 'namespace', 'fid-created'] },
  { id: 'apply-namespace', from: 'README', kubectl: ['apply', '-f', '-'], stdin: namespaceYaml },
  { id: 'get-namespace-json', from: 'issue 19', kubectl: ['get', 'namespace', ns, '-o', 'json'], output: 'json' },
  { id: 'get-namespaces-by-label', from: 'issue 19', kubectl: ['get', 'namespaces', '-l', 'purpose=fidelity'] },
  {
    id: 'get-default-serviceaccount',
    from: 'issue 19',
    kubectl: ['get', 'serviceaccount', 'default', '-n', ns, '-o', 'json'],
    output: 'json',
    before: { what: 'the default ServiceAccount in fid', kubectl: ['get', 'serviceaccount', 'default', '-n', ns], ok: exists },
  },
  { id: 'get-root-ca-configmap', from: 'issue 19', kubectl: ['get', 'configmaps', '-n', ns, '-o', 'name'] },

  // --- the driver's manifests (upstream's install docs: kubectl apply -f deploy/...) ---
  {
    id: 'apply-crds',
    from: 'upstream docs',
    kubectl: ['apply', '-f', '@repo/kind/manifests/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml', '-f', '@repo/kind/manifests/secrets-store.csi.x-k8s.io_secretproviderclasspodstatuses.yaml'],
  },
  {
    id: 'get-crd-established',
    from: 'upstream e2e',
    kubectl: ['get', 'crd', 'secretproviderclasses.secrets-store.csi.x-k8s.io', '-o', 'jsonpath={.spec.group} {.spec.names.kind} {.spec.versions[*].name} {.status.conditions[?(@.type=="Established")].status} {.status.storedVersions}'],
  },
  { id: 'apply-csidriver', from: 'upstream docs', kubectl: ['apply', '-f', '@repo/kind/manifests/csidriver.yaml'] },
  { id: 'get-csidriver-json', from: 'upstream e2e', kubectl: ['get', 'csidriver', 'secrets-store.csi.k8s.io', '-o', 'json'], output: 'json' },
  { id: 'apply-rbac', from: 'upstream docs', kubectl: ['apply', '-f', '@repo/kind/manifests/rbac-secretproviderclass.yaml', '-f', '@repo/kind/manifests/rbac-secretprovidersyncing.yaml'] },
  { id: 'api-resources-secrets-store', from: 'issue 19', kubectl: ['api-resources', '--api-group=secrets-store.csi.x-k8s.io'] },

  // --- SecretProviderClasses (README: kubectl apply -f kind/examples/...) ---
  { id: 'apply-example-spc', from: 'README', kubectl: ['apply', '-f', '@repo/kind/examples/fake-provider-spc.yaml'] },
  { id: 'apply-example-spc-v1alpha1', from: 'README', kubectl: ['apply', '-f', '@repo/kind/examples/azure-style-spc.yaml'] },
  { id: 'reapply-example-spc', from: 'README', kubectl: ['apply', '-f', '@repo/kind/examples/fake-provider-spc.yaml'] },
  { id: 'get-spcs-table', from: 'README', kubectl: ['get', 'secretproviderclasses', '-n', 'default'] },
  { id: 'get-spc-json', from: 'README', kubectl: ['get', 'secretproviderclass', 'fake-secrets', '-n', 'default', '-o', 'json'], output: 'json' },
  { id: 'get-spc-v1alpha1-yaml', from: 'README', kubectl: ['get', 'secretproviderclasses.v1alpha1.secrets-store.csi.x-k8s.io', 'azure-kv', '-n', 'default', '-o', 'yaml'], output: 'yaml' },
  { id: 'apply-spc', from: 'upstream e2e', kubectl: ['apply', '-f', '-'], stdin: spcYaml },
  { id: 'apply-invalid-spc', from: 'issue 19', kubectl: ['apply', '-f', '-'], stdin: invalidSpcYaml },
  { id: 'get-spcs-all-namespaces-by-label', from: 'issue 19', kubectl: ['get', 'secretproviderclasses', '-A', '-l', 'app=fid', '-o', 'name'] },
  { id: 'create-existing-spc', from: 'issue 19', kubectl: ['create', '-f', '-'], stdin: spcYaml },

  // --- Secrets (upstream docs: nodePublishSecretRef secret, labelled used=true) ---
  { id: 'create-secret-generic', from: 'upstream docs', kubectl: ['create', 'secret', 'generic', 'secrets-store-creds', '-n', ns, '--from-literal=clientid=id', '--from-literal=clientsecret=s3cr3t'] },
  { id: 'label-created-secret', from: 'upstream docs', kubectl: ['label', 'secret', 'secrets-store-creds', '-n', ns, 'secrets-store.csi.k8s.io/used=true'] },
  { id: 'apply-secret', from: 'issue 19', kubectl: ['apply', '-f', '-'], stdin: secretYaml },
  { id: 'label-secret', from: 'upstream docs', kubectl: ['label', 'secret', 'app-secret', '-n', ns, 'secrets-store.csi.k8s.io/used=true'] },
  { id: 'label-secret-again', from: 'issue 19', kubectl: ['label', 'secret', 'app-secret', '-n', ns, 'secrets-store.csi.k8s.io/used=false'] },
  { id: 'label-secret-overwrite', from: 'issue 19', kubectl: ['label', 'secret', 'app-secret', '-n', ns, '--overwrite', 'secrets-store.csi.k8s.io/used=true'] },
  { id: 'annotate-secret', from: 'issue 19', kubectl: ['annotate', 'secret', 'app-secret', '-n', ns, 'owner=fidelity'] },
  { id: 'patch-secret-merge', from: 'issue 19', kubectl: ['patch', 'secret', 'app-secret', '-n', ns, '--type=merge', '-p', '{"metadata":{"labels":{"tier":"db"}},"data":{"extra":"eA=="}}'] },
  { id: 'patch-secret-json', from: 'issue 19', kubectl: ['patch', 'secret', 'app-secret', '-n', ns, '--type=json', '-p', '[{"op":"add","path":"/data/k3","value":"dmFs"},{"op":"remove","path":"/data/extra"}]'] },
  { id: 'patch-secret-strategic', from: 'issue 19', kubectl: ['patch', 'secret', 'app-secret', '-n', ns, '-p', '{"metadata":{"annotations":{"owner":null,"team":"sec"}}}'] },
  { id: 'patch-secret-json-test-fails', from: 'issue 19', kubectl: ['patch', 'secret', 'app-secret', '-n', ns, '--type=json', '-p', '[{"op":"test","path":"/data/k3","value":"bm8="}]'] },
  { id: 'get-secret-json', from: 'issue 19', kubectl: ['get', 'secret', 'app-secret', '-n', ns, '-o', 'json'], output: 'json' },
  { id: 'get-secrets-label-selector', from: 'upstream docs', kubectl: ['get', 'secrets', '-n', ns, '-l', 'secrets-store.csi.k8s.io/used=true,tier in (db,cache)', '-o', 'name'] },
  { id: 'get-secrets-field-selector', from: 'issue 19', kubectl: ['get', 'secrets', '-n', ns, '--field-selector', 'type=Opaque,metadata.name=app-secret', '-o', 'name'] },
  { id: 'get-secrets-bad-field-selector', from: 'issue 19', kubectl: ['get', 'secrets', '-n', ns, '--field-selector', 'data.password=x'] },
  { id: 'get-secret-jsonpath', from: 'README', kubectl: ['get', 'secret', 'app-secret', '-n', ns, '-o', 'jsonpath={.data.username}'] },
  { id: 'get-secret-missing', from: 'issue 19', kubectl: ['get', 'secret', 'nope', '-n', ns] },
  { id: 'get-unknown-resource', from: 'issue 19', kubectl: ['get', 'foos', '-n', ns] },

  // --- ConfigMaps and ServiceAccounts ---
  { id: 'create-configmap', from: 'issue 19', kubectl: ['create', 'configmap', 'app-config', '-n', ns, '--from-literal=mode=prod'] },
  { id: 'get-configmap-json', from: 'issue 19', kubectl: ['get', 'configmap', 'app-config', '-n', ns, '-o', 'json'], output: 'json' },
  { id: 'create-serviceaccount', from: 'issue 19', kubectl: ['create', 'serviceaccount', 'app-sa', '-n', ns] },
  { id: 'get-serviceaccount-yaml', from: 'issue 19', kubectl: ['get', 'serviceaccount', 'app-sa', '-n', ns, '-o', 'yaml'], output: 'yaml' },
  { id: 'create-token', from: 'issue 19', kubectl: ['create', 'token', 'default', '-n', ns, '--audience=api://fidelity'] },

  // --- Deployments: create, scale, rollout status, wait ---
  { id: 'create-deployment', from: 'issue 19', kubectl: ['create', 'deployment', 'web', '-n', ns, '--image=registry.example/app:1'], generatedNames: ['web'] },
  { id: 'apply-deployment', from: 'README', kubectl: ['apply', '-f', '-'], stdin: deploymentYaml },
  {
    id: 'get-deployment-json',
    from: 'issue 19',
    kubectl: ['get', 'deployment', 'api', '-n', ns, '-o', 'json'],
    output: 'json',
    ignore: [deployStatus],
    before: { what: 'the Deployment observed by its controller', kubectl: ['get', 'deployment', 'api', '-n', ns, '-o', 'jsonpath={.status.observedGeneration}'], ok: (o) => o.stdout === '1' },
  },
  {
    id: 'get-replicaset-json',
    from: 'issue 19',
    kubectl: ['get', 'replicasets', '-n', ns, '-l', 'app=api', '-o', 'json'],
    output: 'json',
    generatedNames: ['api'],
    ignore: [{ path: '.items[].status', why: `replica counts: ${podsNote}` }],
    before: { what: 'the ReplicaSet of Deployment api', kubectl: ['get', 'replicasets', '-n', ns, '-l', 'app=api', '-o', 'name'], ok: (o) => o.stdout.trim() !== '' },
  },
  {
    id: 'get-deployment-pods-json',
    from: 'issue 19',
    kubectl: ['get', 'pods', '-n', ns, '-l', 'app=api', '-o', 'json'],
    output: 'json',
    generatedNames: ['api'],
    before: { what: 'the Pod of Deployment api', kubectl: ['get', 'pods', '-n', ns, '-l', 'app=api', '-o', 'name'], ok: (o) => o.stdout.trim() !== '' },
  },
  { id: 'scale-deployment', from: 'issue 19', kubectl: ['scale', 'deployment', 'api', '-n', ns, '--replicas=2'] },
  { id: 'get-deployment-replicas', from: 'issue 19', kubectl: ['get', 'deployment', 'api', '-n', ns, '-o', 'jsonpath={.spec.replicas}'] },
  { id: 'get-scale-subresource', from: 'issue 19', kubectl: ['get', '--raw', `/apis/apps/v1/namespaces/${ns}/deployments/api/scale`], output: 'json' },
  { id: 'scale-deployment-to-zero', from: 'issue 19', kubectl: ['scale', 'deployment/api', '-n', ns, '--replicas=0'] },
  { id: 'rollout-status', from: 'issue 19', kubectl: ['rollout', 'status', 'deployment/api', '-n', ns, '--timeout=30s'], generatedNames: ['api'] },
  { id: 'wait-deployment-available', from: 'issue 19', kubectl: ['wait', '--for=condition=Available', 'deployment/api', '-n', ns, '--timeout=30s'] },
  {
    id: 'get-deployment-scaled-to-zero',
    from: 'issue 19',
    kubectl: ['get', 'deployment', 'api', '-n', ns, '-o', 'json'],
    output: 'json',
    generatedNames: ['api'],
    before: { what: 'no pods left of Deployment api', kubectl: ['get', 'pods', '-n', ns, '-l', 'app=api', '-o', 'name'], ok: (o) => o.exitCode === 0 && o.stdout.trim() === '' },
  },
  { id: 'get-deployments-table', from: 'issue 19', kubectl: ['get', 'deployments', '-n', ns] },

  // --- Pods (README: a pod with an inline secrets-store volume) ---
  { id: 'run-pod', from: 'issue 19', kubectl: ['run', 'runner', '-n', ns, '--image=registry.example/app:1', '--restart=Never', '--labels=app=runner'] },
  { id: 'apply-pod', from: 'README', kubectl: ['apply', '-f', '-'], stdin: podYaml },
  { id: 'get-pod-json', from: 'README', kubectl: ['get', 'pod', 'reader', '-n', ns, '-o', 'json'], output: 'json' },
  {
    id: 'get-pod-phase',
    from: 'README',
    kubectl: ['get', 'pod', 'reader', '-n', ns, '-o', 'jsonpath={.status.phase}'],
    // Where there is a node (the sim), its kubelet runs the pod: wait until it has, so the
    // phase compared does not depend on how fast this machine is; where there is none (the
    // real side runs no kubelet), the pod stays Pending and there is nothing to wait for.
    before: {
      what: 'the pod runs where a node runs it',
      kubectl: ['get', 'nodes,pods', '-n', ns, '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}/{.status.phase} {end}'],
      ok: (o) => o.exitCode === 0 && (!/\bNode\//.test(o.stdout) || /\bPod\/reader\/Running\b/.test(o.stdout)),
    },
  },
  { id: 'get-pods-field-selector', from: 'issue 19', kubectl: ['get', 'pods', '-n', ns, '--field-selector', 'metadata.name=reader', '-o', 'name'] },
  { id: 'logs-pod', from: 'issue 19', kubectl: ['logs', 'reader', '-n', ns] },
  { id: 'get-spcps', from: 'README', kubectl: ['get', 'secretproviderclasspodstatuses', '-n', ns, '-o', 'name'] },
  { id: 'delete-pod', from: 'README', kubectl: ['delete', 'pod', 'reader', '-n', ns, '--timeout=60s'] },
  { id: 'get-deleted-pod', from: 'README', kubectl: ['get', 'pod', 'reader', '-n', ns] },

  // --- deletion held by a finalizer: delete --wait=false, wait --for=delete ---
  { id: 'apply-held-secret', from: 'issue 19', kubectl: ['apply', '-f', '-'], stdin: heldSecretYaml },
  { id: 'delete-held-secret', from: 'issue 19', kubectl: ['delete', 'secret', 'held', '-n', ns, '--wait=false'] },
  { id: 'get-held-secret-terminating', from: 'issue 19', kubectl: ['get', 'secret', 'held', '-n', ns, '-o', 'jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}'] },
  // 2 s, not 1: with a timeout under a second client-go may log "very short watch" when the
  // deadline cuts its watch (seen against the sim, a race on the client's side).
  { id: 'wait-delete-times-out', from: 'issue 19', kubectl: ['wait', '--for=delete', 'secret/held', '-n', ns, '--timeout=2s'] },
  { id: 'release-finalizer', from: 'issue 19', kubectl: ['patch', 'secret', 'held', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]'] },
  { id: 'wait-delete', from: 'issue 19', kubectl: ['wait', '--for=delete', 'secret/held', '-n', ns, '--timeout=30s'] },

  // --- auth (what the driver's identity may do) ---
  { id: 'auth-can-i-admin', from: 'issue 19', kubectl: ['auth', 'can-i', 'create', 'pods', '-n', ns] },
  { id: 'auth-can-i-driver-list-spc', from: 'issue 19', kubectl: ['auth', 'can-i', 'list', 'secretproviderclasses.secrets-store.csi.x-k8s.io', '-A', `--as=${driverSa}`] },
  { id: 'auth-can-i-driver-create-secrets', from: 'issue 19', kubectl: ['auth', 'can-i', 'create', 'secrets', '-n', ns, `--as=${driverSa}`] },
  { id: 'auth-can-i-driver-delete-pods', from: 'issue 19', kubectl: ['auth', 'can-i', 'delete', 'pods', '-n', ns, `--as=${driverSa}`] },
  { id: 'auth-whoami', from: 'issue 19', kubectl: ['auth', 'whoami', '-o', 'json'], output: 'json' },
  { id: 'get-pods-as-default-serviceaccount', from: 'issue 19', kubectl: ['get', 'pods', '-n', ns, `--as=system:serviceaccount:${ns}:default`] },

  // --- server-side apply ---
  { id: 'apply-server-side', from: 'issue 19', kubectl: ['apply', '--server-side', '-f', '-'], stdin: ssaSpc('fake') },
  { id: 'get-managed-fields', from: 'issue 19', kubectl: ['get', 'secretproviderclass', 'ssa-spc', '-n', ns, '-o', 'json', '--show-managed-fields'], output: 'json' },
  { id: 'apply-server-side-conflict', from: 'issue 19', kubectl: ['apply', '--server-side', '--field-manager=other', '-f', '-'], stdin: ssaSpc('other') },
  { id: 'apply-server-side-force', from: 'issue 19', kubectl: ['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], stdin: ssaSpc('other') },
  { id: 'get-spc-provider-after-force', from: 'issue 19', kubectl: ['get', 'secretproviderclass', 'ssa-spc', '-n', ns, '-o', 'jsonpath={.spec.provider}'] },

  // --- explain (OpenAPI) ---
  { id: 'explain-pod-csi-volume', from: 'issue 19', kubectl: ['explain', 'pod.spec.volumes.csi'] },
  { id: 'explain-spc-spec', from: 'issue 19', kubectl: ['explain', 'secretproviderclass.spec'] },

  // --- client-node calls ---
  {
    id: 'client-list-secrets',
    from: 'client',
    client: 'CoreV1Api.listNamespacedSecret(labelSelector app=fid)',
    output: 'json',
    run: (kc) => kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns, labelSelector: 'app=fid' }),
  },
  {
    id: 'client-list-secrets-paged',
    from: 'client',
    client: 'CoreV1Api.listNamespacedSecret(limit 1): metadata.continue, remainingItemCount',
    output: 'json',
    run: async (kc) => {
      const r = await kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns, limit: 1 });
      return { items: r.items.length, metadata: r.metadata };
    },
  },
  {
    id: 'client-read-missing-secret',
    from: 'client',
    client: 'CoreV1Api.readNamespacedSecret(missing) → ApiException',
    output: 'json',
    run: (kc) => kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'missing', namespace: ns }),
  },
  {
    id: 'client-create-configmap',
    from: 'client',
    client: 'CoreV1Api.createNamespacedConfigMap',
    output: 'json',
    run: (kc) => kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'from-client' }, data: { a: 'b' } } }),
  },
  {
    id: 'client-get-spc-v1alpha1',
    from: 'client',
    client: 'CustomObjectsApi.getNamespacedCustomObject(v1alpha1 fake-secrets)',
    output: 'json',
    run: (kc) =>
      kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'secrets-store.csi.x-k8s.io', version: 'v1alpha1', namespace: 'default', plural: 'secretproviderclasses', name: 'fake-secrets' }),
  },
  { id: 'client-watch-secrets', from: 'client', client: 'Watch /api/v1/namespaces/fid/secrets: create, replace, delete', output: 'json', run: watchSecrets },

  // --- cleanup: delete -f, delete namespace (finalization) ---
  { id: 'delete-example-spcs', from: 'README', kubectl: ['delete', '-f', '@repo/kind/examples/fake-provider-spc.yaml', '-f', '@repo/kind/examples/azure-style-spc.yaml'] },
  { id: 'delete-namespace', from: 'upstream e2e', kubectl: ['delete', 'namespace', ns, '--timeout=60s'] },
  { id: 'get-deleted-namespace', from: 'upstream e2e', kubectl: ['get', 'namespace', ns] },
  { id: 'get-secrets-of-deleted-namespace', from: 'issue 19', kubectl: ['get', 'secrets', '-n', ns, '-o', 'name'] },
  { id: 'delete-created-namespace', from: 'upstream e2e', kubectl: ['delete', 'namespace', 'fid-created', '--timeout=60s'] },
];
