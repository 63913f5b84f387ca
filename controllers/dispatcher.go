package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

const (
	// DispatcherName is the name of the dispatcher Deployment in each team namespace.
	DispatcherName             = "qual-dispatcher"
	dispatcherConfigAnnotation = "qual.cx/dispatcher-config"
)

// DispatcherConfig is how the manager runs the delivery workload.
type DispatcherConfig struct {
	// Image is the qual image; its `dispatcher` subcommand delivers events.
	Image string `json:"image"`
	// Replicas is how many dispatchers share a namespace's deliveries.
	Replicas int32 `json:"replicas"`
	// Resources are each dispatcher container's requests and limits.
	Resources corev1.ResourceRequirements `json:"resources"`
	// There is deliberately no store address here: a Secret holding it would have to live
	// in every team namespace, where team admins read Secrets.
}

// hash identifies a configuration, so the Deployment is rewritten only when it changes.
func (c DispatcherConfig) hash() string {
	raw, _ := json.Marshal(c) // a struct of plain fields always marshals
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// deployment is the dispatcher Deployment this configuration asks for in a namespace.
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

func (c DispatcherConfig) container() corev1.Container {
	env := []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"},
	}}}
	return corev1.Container{
		Name:      "dispatcher",
		Image:     c.Image,
		Args:      []string{"dispatcher", "--namespace=$(POD_NAMESPACE)"},
		Env:       env,
		Resources: c.Resources,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}
