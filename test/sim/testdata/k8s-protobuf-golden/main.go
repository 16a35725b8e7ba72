// Writes golden.json: Kubernetes protobuf encodings (and Go's JSON of the same objects) the
// sim's codec test (test/sim/protobuf-codec.test.ts) compares against, each object encoded by
// k8s.io/api's own generated code and apimachinery's protobuf serializer (Kubernetes v1.34).
// To regenerate: copy this file into a directory with peers/kubernetes's go.mod and go.sum
// (module line renamed, `tool` block dropped), then `go run . > golden.json`.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	apitypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

type golden struct {
	Name     string          `json:"name"`
	Protobuf string          `json:"protobuf"`
	JSON     json.RawMessage `json:"json"`
}

func ptr[T any](v T) *T { return &v }

var t0 = metav1.NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))

func meta(name, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, UID: "0b5e7d1c-1111-2222-3333-444455556666", ResourceVersion: "42", CreationTimestamp: t0}
}

func podSpec() corev1.PodSpec {
	return corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "secrets", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "secrets-store.csi.k8s.io", ReadOnly: ptr(true), VolumeAttributes: map[string]string{"secretProviderClass": "app"}, NodePublishSecretRef: &corev1.LocalObjectReference{Name: "creds"}}}},
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, DefaultMode: ptr(int32(0o644)), Optional: ptr(false)}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: ptr(resource.MustParse("64Mi"))}}},
		},
		Containers: []corev1.Container{{
			Name: "app", Image: "busybox", Command: []string{"sh", "-c"}, Args: []string{"sleep 3600"},
			Ports:                  []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
			Env:                    []corev1.EnvVar{{Name: "MODE", Value: "fast"}, {Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}}},
			Resources:              corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")}, Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
			VolumeMounts:           []corev1.VolumeMount{{Name: "secrets", MountPath: "/mnt/secrets", ReadOnly: true}},
			LivenessProbe:          &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}}, InitialDelaySeconds: 5, PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
			ReadinessProbe:         &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}},
			TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullAlways,
			SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(0)), RunAsNonRoot: ptr(false), ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
		}},
		RestartPolicy: corev1.RestartPolicyAlways, TerminationGracePeriodSeconds: ptr(int64(30)), DNSPolicy: corev1.DNSClusterFirst,
		ServiceAccountName: "app", AutomountServiceAccountToken: ptr(false), NodeName: "sim-node",
		SecurityContext: &corev1.PodSecurityContext{FSGroup: ptr(int64(2000))}, SchedulerName: "default-scheduler",
		Tolerations: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))}},
	}
}

func main() {
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	_ = appsv1.AddToScheme(scheme)
	_ = autoscalingv1.AddToScheme(scheme)
	metav1.AddToGroupVersion(scheme, metav1.SchemeGroupVersion)
	ser := protobuf.NewSerializer(scheme, scheme)

	podMeta := meta("web", "team-a")
	podMeta.Labels = map[string]string{"app": "web", "tier": "front"}
	podMeta.Annotations = map[string]string{"note": "x"}
	podMeta.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d8c", UID: "rs-uid", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
	podMeta.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl-run", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &t0, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`)}}}
	podMeta.Finalizers = []string{"example.com/keep"}
	podMeta.GenerateName = "web-"
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: podMeta, Spec: podSpec(), Status: corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: "10.0.0.5", QOSClass: corev1.PodQOSBurstable, StartTime: &t0,
		Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t0}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, RestartCount: 0, Image: "busybox", ImageID: "sha256:abc", Started: ptr(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t0}}}},
	}}
	deployMeta := meta("web", "team-a")
	deployMeta.Labels = map[string]string{"app": "web"}
	deployMeta.Generation = 3
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "busybox", Image: "busybox"}}}}
	deploy := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: deployMeta, Spec: appsv1.DeploymentSpec{
		Replicas: ptr(int32(0)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}, MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"front", "back"}}}},
		Template: template, Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr(intstr.FromString("25%")), MaxSurge: ptr(intstr.FromInt32(1))}},
		RevisionHistoryLimit: ptr(int32(10)), ProgressDeadlineSeconds: ptr(int32(600)),
	}, Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, ReadyReplicas: 1, Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, LastUpdateTime: t0, LastTransitionTime: t0, Reason: "MinimumReplicasAvailable", Message: "ok"}}}}
	rs := &appsv1.ReplicaSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"}, ObjectMeta: meta("web-5d8c", "team-a"), Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: template}, Status: appsv1.ReplicaSetStatus{Replicas: 2, AvailableReplicas: 2}}
	micro := metav1.NewMicroTime(time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC))

	objects := []struct {
		name string
		obj  runtime.Object
	}{
		{"Namespace", &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"kubernetes.io/metadata.name": "team-a"}}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}},
		{"Namespace as kubectl create sends it", &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}},
		{"Secret", &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta("db", "team-a"), Data: map[string][]byte{"password": {0, 1, 2, 255}, "user": []byte("admin")}, Type: corev1.SecretTypeOpaque, Immutable: ptr(false)}},
		{"ConfigMap", &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: meta("settings", "team-a"), Data: map[string]string{"mode": "fast", "level": "3"}, BinaryData: map[string][]byte{"blob": {0xde, 0xad}}}},
		{"ServiceAccount", &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta("app", "team-a"), Secrets: []corev1.ObjectReference{{Name: "app-token"}}, AutomountServiceAccountToken: ptr(false)}},
		{"Event", &corev1.Event{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Event"}, ObjectMeta: meta("web.1", "team-a"), InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "team-a", Name: "web", UID: "pod-uid", APIVersion: "v1"}, Reason: "FailedMount", Message: "no such file", Source: corev1.EventSource{Component: "kubelet", Host: "sim-node"}, FirstTimestamp: t0, LastTimestamp: t0, Count: 2, Type: corev1.EventTypeWarning, EventTime: micro, ReportingController: "kubelet", ReportingInstance: "sim-node"}},
		{"Pod", pod},
		{"PodList", &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: metav1.ListMeta{ResourceVersion: "77", Continue: "abc", RemainingItemCount: ptr(int64(0))}, Items: []corev1.Pod{{ObjectMeta: meta("a", "team-a"), Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}},
		{"Deployment", deploy},
		{"ReplicaSet", rs},
		{"DeploymentList", &appsv1.DeploymentList{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DeploymentList"}, ListMeta: metav1.ListMeta{ResourceVersion: "9"}}},
		{"Scale", &autoscalingv1.Scale{TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"}, ObjectMeta: meta("web", "team-a"), Spec: autoscalingv1.ScaleSpec{Replicas: 3}, Status: autoscalingv1.ScaleStatus{Replicas: 2, Selector: "app=web"}}},
		{"Status", &metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure, Message: `configmaps "settings" not found`, Reason: metav1.StatusReasonNotFound, Details: &metav1.StatusDetails{Name: "settings", Kind: "configmaps"}, Code: 404}},
		{"DeleteOptions", &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "DeleteOptions"}, GracePeriodSeconds: ptr(int64(0)), PropagationPolicy: ptr(metav1.DeletePropagationForeground), Preconditions: &metav1.Preconditions{UID: ptr(apitypes.UID("pod-uid"))}, DryRun: []string{"All"}}},
	}
	var out []golden
	for _, o := range objects {
		var buf bytes.Buffer
		if err := ser.Encode(o.obj, &buf); err != nil {
			panic(err)
		}
		j, err := json.Marshal(o.obj)
		if err != nil {
			panic(err)
		}
		out = append(out, golden{Name: o.name, Protobuf: hex.EncodeToString(buf.Bytes()), JSON: j})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}
