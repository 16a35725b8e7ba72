/**
 * The differences between the sim and a real kube-apiserver that the sim-fidelity test
 * accepts, each with why. One step may have several entries, each covering the differences
 * its `differences` patterns match (an entry without patterns covers all of the step's). An
 * entry that covers nothing any more fails the test as stale, so fixing the sim tightens the
 * test: delete the entry.
 *
 * `kind`:
 *   pb           the sim cannot answer yet; branch pb (protobuf bodies, content negotiation, configmaps) should fix it
 *   ops          likewise, branch ops (server-side apply, auth can-i/whoami, logs, namespace finalization, scale/rollout/wait, OpenAPI for explain)
 *   open         a sim difference this test found that no branch fixes yet: a sim bug to fix
 *   out of scope the real side of this test cannot do the same (it runs no scheduler and no
 *                kubelet), or the difference is the sim's on purpose; listed in the README
 *                ("The embedded cluster next to a real API server")
 */
export interface AllowEntry {
  /** A step id from commands.ts. */
  id: string;
  kind: 'pb' | 'ops' | 'open' | 'out of scope';
  /** Why the sim answers differently. */
  reason: string;
  /** The difference lines (compare.ts) this entry covers; all of the step's when unset. */
  differences?: RegExp[];
}

const generation: Omit<AllowEntry, 'id'> = {
  kind: 'open',
  reason:
    'sim: sets metadata.generation on every object and bumps it on any change, labels included; the real server keeps it only for kinds whose spec it versions (custom resources, Deployments, ReplicaSets, Pods) and bumps it on spec changes only',
  differences: [/\.metadata\.generation:/],
};
const defaulting: Omit<AllowEntry, 'id'> = {
  kind: 'open',
  reason:
    "sim: no defaulting of built-in kinds (a Pod's dnsPolicy, restartPolicy, schedulerName, terminationGracePeriodSeconds, a container's imagePullPolicy and terminationMessagePath, a Deployment's strategy, revisionHistoryLimit, progressDeadlineSeconds, a CSIDriver's seLinuxMount and storageCapacity) and no Pod admission (ServiceAccount: serviceAccountName and the kube-api-access projected volume; DefaultTolerationSeconds; Priority; enableServiceLinks)",
  differences: [/^stdout (\.items\[\d+\])?\.spec\./],
};
const revisionAnnotations: Omit<AllowEntry, 'id'> = {
  kind: 'open',
  reason: "sim: the Deployment controller writes no revision annotations (deployment.kubernetes.io/revision on the Deployment and its ReplicaSet, desired-replicas and max-replicas on the ReplicaSet)",
  differences: [/\.metadata\.annotations/],
};
const managedFields: Omit<AllowEntry, 'id'> = {
  kind: 'ops',
  reason: 'sim: writes record no metadata.managedFields (the real server keeps one entry per manager and operation; kubectl hides them, client-node shows them) — field managers come with server-side apply (branch ops)',
  differences: [/\.managedFields:/],
};
const pb = (id: string, reason: string): AllowEntry => ({ id, kind: 'pb', reason });
const ops = (id: string, reason: string): AllowEntry => ({ id, kind: 'ops', reason });
const protobufOnly = 'sim: decodes protobuf request bodies only for Secret, Event and DeleteOptions (415), and kubectl create sends protobuf';
const noConfigMaps = 'sim: serves no configmaps';
const noKubelet = 'the real side runs no scheduler and no kubelet: its pods stay Pending, unbound';

export const allowList: AllowEntry[] = [
  // namespaces
  pb('create-namespace', protobufOnly),
  { id: 'get-namespace-json', ...generation },
  { id: 'get-namespace-json', kind: 'open', reason: 'sim: a new Namespace gets no kubernetes.io/metadata.name label (the real server adds it, immutable)', differences: [/kubernetes\.io\/metadata\.name/] },
  { id: 'get-namespace-json', kind: 'open', reason: "sim: a Namespace a client creates gets no spec.finalizers [kubernetes] and no status.phase Active (the real server's defaulting)", differences: [/^stdout \.(spec|status):/] },
  { id: 'get-default-serviceaccount', ...generation },
  { id: 'get-root-ca-configmap', kind: 'pb', reason: noConfigMaps, differences: [/^exit code/, /doesn't have a resource type/] },
  { id: 'get-root-ca-configmap', kind: 'open', reason: "sim: no root-ca-cert-publisher: a namespace gets no kube-root-ca.crt ConfigMap (what a pod's kube-api-access volume reads)", differences: [/kube-root-ca\.crt/] },
  // the driver's manifests
  { id: 'get-crd-established', kind: 'open', reason: 'sim: a CustomResourceDefinition has no status (conditions Established and NamesAccepted, acceptedNames, storedVersions)' },
  { id: 'get-csidriver-json', ...generation },
  { id: 'get-csidriver-json', ...defaulting },
  { id: 'apply-invalid-spc', kind: 'open', reason: "sim: custom resources are not validated against their CRD's openAPIV3Schema (a SecretProviderClass with a number for spec.provider is stored)" },
  // secrets
  { id: 'patch-secret-json-test-fails', kind: 'open', reason: "sim: a JSON patch whose test operation fails is refused with a message naming the value; the real server says only 'the server rejected our request due to an error in our request'" },
  { id: 'get-secret-json', ...generation },
  { id: 'get-secrets-bad-field-selector', kind: 'open', reason: "sim: an unsupported field selector is refused (400) in other words than the real server's 'field label not supported: data.password'" },
  // configmaps and serviceaccounts
  pb('create-configmap', noConfigMaps),
  pb('get-configmap-json', `${noConfigMaps} (and create-configmap failed)`),
  pb('create-serviceaccount', protobufOnly),
  pb('get-serviceaccount-yaml', 'create-serviceaccount failed (protobuf)'),
  { id: 'create-token', kind: 'open', reason: "sim: no TokenRequest subresource (serviceaccounts/token) for clients; the sim's kubelet makes the CSIDriver's tokens itself" },
  // deployments
  pb('create-deployment', protobufOnly),
  { id: 'get-deployment-json', ...defaulting },
  { id: 'get-deployment-json', ...revisionAnnotations },
  { id: 'get-replicaset-json', ...defaulting },
  { id: 'get-replicaset-json', ...revisionAnnotations },
  { id: 'get-deployment-pods-json', ...defaulting },
  { id: 'get-deployment-pods-json', ...generation },
  { id: 'wait-deployment-available', kind: 'open', reason: "sim: a Deployment's status has no conditions (Available, Progressing), so kubectl wait --for=condition=Available times out" },
  { id: 'get-deployment-scaled-to-zero', ...defaulting },
  { id: 'get-deployment-scaled-to-zero', ...revisionAnnotations },
  { id: 'get-deployment-scaled-to-zero', kind: 'open', reason: "sim: a Deployment's status has no conditions and carries the zero counts (replicas, readyReplicas, availableReplicas, updatedReplicas) the real server omits", differences: [/^stdout \.status\./] },
  pb('get-deployments-table', 'create-deployment failed (protobuf), so Deployment web is missing'),
  // pods
  { id: 'get-pod-json', ...defaulting },
  { id: 'get-pod-json', ...generation },
  { id: 'get-pod-phase', kind: 'out of scope', reason: `${noKubelet}; the sim's kubelet runs the pod` },
  { id: 'logs-pod', kind: 'out of scope', reason: `${noKubelet}: the real server answers an empty log for a pod on no node; the sim serves no pods/log yet (branch ops: the simulated container's log)` },
  { id: 'get-spcps', kind: 'out of scope', reason: `${noKubelet}: nothing mounts the volume, so no SecretProviderClassPodStatus is written` },
  // auth
  ops('auth-can-i-admin', 'sim: no SelfSubjectAccessReview'),
  ops('auth-can-i-driver-list-spc', 'sim: no SelfSubjectAccessReview'),
  ops('auth-can-i-driver-create-secrets', 'sim: no SelfSubjectAccessReview'),
  ops('auth-can-i-driver-delete-pods', 'sim: no SelfSubjectAccessReview'),
  ops('auth-whoami', 'sim: no SelfSubjectReview'),
  { id: 'get-pods-as-default-serviceaccount', kind: 'open', reason: 'sim: impersonation (kubectl --as, the Impersonate-User header) is ignored: the request runs as the caller instead of being authorized as the impersonated user' },
  // server-side apply
  ops('apply-server-side', 'sim: no server-side apply (application/apply-patch+yaml)'),
  ops('get-managed-fields', 'sim: no server-side apply, so ssa-spc does not exist'),
  ops('apply-server-side-conflict', 'sim: no server-side apply, hence no field-manager conflicts'),
  ops('apply-server-side-force', 'sim: no server-side apply (--force-conflicts)'),
  ops('get-spc-provider-after-force', 'sim: no server-side apply, so ssa-spc does not exist'),
  // explain
  ops('explain-pod-csi-volume', "sim: its OpenAPI documents do not describe Pod's volumes (kubectl explain finds no field)"),
  // client-node
  { id: 'client-list-secrets', ...generation },
  { id: 'client-list-secrets', ...managedFields },
  { id: 'client-list-secrets', kind: 'open', reason: "sim: a list's items carry apiVersion and kind; the real server's items carry neither (kubectl fills them in, so only a client sees it)", differences: [/\.items\[\d+\]\.(apiVersion|kind):/] },
  { id: 'client-read-missing-secret', kind: 'open', reason: 'sim: a NotFound Status for a core kind carries details.group "" where the real server omits the empty group' },
  pb('client-create-configmap', noConfigMaps),
  { id: 'client-get-spc-v1alpha1', ...managedFields },
  // cleanup
  pb('delete-created-namespace', 'create-namespace failed (protobuf), so fid-created does not exist'),
];
