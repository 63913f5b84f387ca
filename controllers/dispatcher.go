package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

const (
	// DispatcherName is the name of the dispatcher Deployment, and of its service account, in
	// the operator's namespace.
	DispatcherName             = "qual-dispatcher"
	dispatcherConfigAnnotation = "qual.cx/dispatcher-config"
	// DefaultStoreSecret is the Secret in the operator's namespace whose StoreSecretKey holds
	// the store's address: the one the manager and the apiserver read.
	DefaultStoreSecret = "qual-store"
	// StoreSecretKey is the data key of the store's address in its Secret.
	StoreSecretKey = "dsn"
)

// DispatcherConfig is how the manager runs the delivery workload: one Deployment in the
// operator's namespace, serving every team.
type DispatcherConfig struct {
	// Image is the qual image; its `dispatcher` subcommand delivers events.
	Image string `json:"image"`
	// Replicas is how many dispatchers share the deliveries.
	Replicas int32 `json:"replicas"`
	// Resources are each dispatcher container's requests and limits.
	Resources corev1.ResourceRequirements `json:"resources"`
	// StoreSecret is the Secret in the operator's namespace holding the store's address under
	// StoreSecretKey (DefaultStoreSecret when empty). It lives beside the operator, never in a
	// team namespace, where the team's people read the plaintexts made for them and whatever a
	// platform grants there may read every Secret.
	StoreSecret string `json:"storeSecret,omitempty"`
	// EgressAllow and EgressAllowHosts are the operator's exceptions to the egress policy
	// (the dispatcher's --egress-allow and --egress-allow-hosts), so the dispatcher delivers
	// to what the apiserver and the Webhook controller accept.
	EgressAllow      []string `json:"egressAllow,omitempty"`
	EgressAllowHosts []string `json:"egressAllowHosts,omitempty"`
	// StallHold, RescueAfter and AttemptTimeout are the dispatcher's --stall-hold,
	// --rescue-after and --webhook-attempt-timeout; zero leaves the dispatcher's default (and
	// the Deployment as a manager without them wrote it).
	StallHold      time.Duration `json:"stallHold,omitempty"`
	RescueAfter    time.Duration `json:"rescueAfter,omitempty"`
	AttemptTimeout time.Duration `json:"attemptTimeout,omitempty"`
}

// hash identifies a configuration, so the Deployment is rewritten only when it changes.
func (c DispatcherConfig) hash() string {
	raw, _ := json.Marshal(c) // a struct of plain fields always marshals
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

func (c DispatcherConfig) storeSecret() string {
	if c.StoreSecret == "" {
		return DefaultStoreSecret
	}
	return c.StoreSecret
}

// deployment is the dispatcher Deployment this configuration asks for in the operator's
// namespace. It runs as its own service account, which reads Webhooks cluster-wide and
// Secrets only in team namespaces (config/rbac/dispatcher_role.yaml and the Team
// controller's RoleBindings).
func (c DispatcherConfig) deployment(namespace string) *appsv1.Deployment {
	selector := map[string]string{"app.kubernetes.io/name": DispatcherName, "app.kubernetes.io/component": "webhook-delivery"}
	labels := managedLabels("app.kubernetes.io/name", DispatcherName, "app.kubernetes.io/component", "webhook-delivery")
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: DispatcherName, Namespace: namespace, Labels: labels,
			Annotations: map[string]string{dispatcherConfigAnnotation: c.hash()},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(c.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:           DispatcherName,
					AutomountServiceAccountToken: ptr.To(true),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{c.container()},
				},
			},
		},
	}
}

// container runs `qual dispatcher` with the store's address from the same Secret, and in the
// same way, as the apiserver gets it.
func (c DispatcherConfig) container() corev1.Container {
	env := []corev1.EnvVar{{Name: "QUAL_STORE", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: c.storeSecret()}, Key: StoreSecretKey,
		},
	}}}
	args := []string{"dispatcher", "--store=$(QUAL_STORE)"}
	if len(c.EgressAllow) > 0 {
		args = append(args, "--egress-allow="+strings.Join(c.EgressAllow, ","))
	}
	if len(c.EgressAllowHosts) > 0 {
		args = append(args, "--egress-allow-hosts="+strings.Join(c.EgressAllowHosts, ","))
	}
	if c.StallHold > 0 {
		args = append(args, "--stall-hold="+c.StallHold.String())
	}
	if c.RescueAfter > 0 {
		args = append(args, "--rescue-after="+c.RescueAfter.String())
	}
	if c.AttemptTimeout > 0 {
		args = append(args, "--webhook-attempt-timeout="+c.AttemptTimeout.String())
	}
	return corev1.Container{
		Name:      "dispatcher",
		Image:     c.Image,
		Args:      args,
		Env:       env,
		Resources: c.Resources,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}
