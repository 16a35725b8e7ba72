/**
 * The differences between the sim and a real kube-apiserver that the sim-fidelity test
 * accepts, each with why. One step may have several entries, each covering the differences
 * its `differences` patterns match (an entry without patterns covers all of the step's). An
 * entry that covers nothing any more fails the test as stale, so fixing the sim tightens the
 * test: delete the entry.
 *
 * `kind`:
 *   open         a sim difference this test found that no branch fixes yet: a sim bug to fix
 *   out of scope the real side of this test cannot do the same (it runs no scheduler and no
 *                kubelet), or the difference is the sim's on purpose; listed in the README
 *                ("The embedded cluster next to a real API server")
 */
export interface AllowEntry {
  /** A step id from commands.ts. */
  id: string;
  kind: 'open' | 'out of scope';
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
  kind: 'open',
  reason:
    "sim: the managedFields an Update (a client-side apply, create or patch) records differ in detail: which maps an entry owns whole (the `.: {}` marker) comes from a fixed list of fields in the sim, from the types' schemas on the real server (kubectl hides managedFields, client-node shows them)",
  differences: [/\.managedFields[:[]/],
};
const noKubelet = 'the real side runs no scheduler and no kubelet: its pods stay Pending, unbound';

export const allowList: AllowEntry[] = [
  // namespaces
  { id: 'get-namespace-json', ...generation },
  { id: 'get-default-serviceaccount', ...generation },
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
  { id: 'get-configmap-json', ...generation },
  { id: 'get-serviceaccount-yaml', ...generation },
  { id: 'create-token', kind: 'open', reason: "sim: no TokenRequest subresource (serviceaccounts/token) for clients; the sim's kubelet makes the CSIDriver's tokens itself" },
  // deployments
  { id: 'get-deployment-json', ...defaulting },
  { id: 'get-deployment-json', ...revisionAnnotations },
  { id: 'get-replicaset-json', ...defaulting },
  { id: 'get-replicaset-json', ...revisionAnnotations },
  { id: 'get-deployment-pods-json', ...defaulting },
  { id: 'get-deployment-pods-json', ...generation },
  { id: 'get-deployment-scaled-to-zero', ...defaulting },
  { id: 'get-deployment-scaled-to-zero', ...revisionAnnotations },
  { id: 'get-deployments-table', kind: 'out of scope', reason: `${noKubelet}: the real Deployment's pods never become ready (READY 0/1, AVAILABLE 0); the sim's run` },
  // pods
  { id: 'get-pod-json', ...defaulting },
  { id: 'get-pod-json', ...generation },
  { id: 'get-pod-phase', kind: 'out of scope', reason: `${noKubelet}; the sim's kubelet runs the pod` },
  { id: 'logs-pod', kind: 'out of scope', reason: `${noKubelet}: the real server answers an empty log for a pod on no node; the sim's container log lists the pod's volumes and their files (names and sizes)` },
  { id: 'get-spcps', kind: 'out of scope', reason: `${noKubelet}: nothing mounts the volume, so no SecretProviderClassPodStatus is written` },
  // auth
  { id: 'auth-whoami', kind: 'open', reason: "sim: a SelfSubjectReview's answer has no metadata.creationTimestamp and no authentication.kubernetes.io/credential-id extra (the real server names the client certificate's SHA-256)" },
  // client-node
  { id: 'client-list-secrets', ...generation },
  { id: 'client-list-secrets', ...managedFields },
  { id: 'client-list-secrets', kind: 'open', reason: "sim: a list's items carry apiVersion and kind; the real server's items carry neither (kubectl fills them in, so only a client sees it)", differences: [/\.items\[\d+\]\.(apiVersion|kind):/] },
  { id: 'client-create-configmap', ...generation },
  { id: 'client-get-spc-v1alpha1', ...managedFields },
];
