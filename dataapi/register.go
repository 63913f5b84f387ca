package dataapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	datav1alpha1 "qual.cx/operator/api/data/v1alpha1"
)

// APIServiceName is the name of the APIService registering data.qual.cx/v1alpha1.
const APIServiceName = "v1alpha1.data.qual.cx"

// ServiceName is the Service the APIService points at, in the operator's namespace.
const ServiceName = "qual-data"

// apiServiceGVK is read and written unstructured, so the operator needs no kube-aggregator
// client for one object.
var apiServiceGVK = schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"}

// ServingCA returns the self-signed certificate (with its CA) the server wrote into
// certDir, for an APIService's caBundle.
func ServingCA(certDir string) ([]byte, error) {
	ca, err := os.ReadFile(filepath.Join(certDir, "qual-data.crt")) //nolint:gosec // the server's own folder
	if err != nil {
		return nil, fmt.Errorf("dataapi: serving certificate: %w", err)
	}
	return ca, nil
}

// RegisterLocal points the aggregation layer at a server on this machine, for `qual dev`
// and tests: an ExternalName Service for localhost in namespace, and the APIService with the
// server's port and caBundle. The aggregator resolves an ExternalName Service to the name at
// the APIService's port, so no cluster network is involved.
func RegisterLocal(ctx context.Context, c client.Client, namespace string, port int, caBundle []byte) error {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: namespace}}
	if err := c.Delete(ctx, svc); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("dataapi: replace Service %s: %w", ServiceName, err)
	}
	svc.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
		Ports: []corev1.ServicePort{{Name: "https", Port: int32(port)}}} //nolint:gosec // a TCP port
	if err := c.Create(ctx, svc); err != nil {
		return fmt.Errorf("dataapi: create Service %s: %w", ServiceName, err)
	}
	spec := map[string]any{
		"group": datav1alpha1.GroupName, "version": datav1alpha1.SchemeGroupVersion.Version,
		"groupPriorityMinimum": int64(1000), "versionPriority": int64(15),
		"caBundle": base64.StdEncoding.EncodeToString(caBundle), // how JSON carries []byte
		"service":  map[string]any{"name": ServiceName, "namespace": namespace, "port": int64(port)},
	}
	// The availability controller writes the status meanwhile: retry on its conflicts.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		as := &unstructured.Unstructured{}
		as.SetGroupVersionKind(apiServiceGVK)
		err := c.Get(ctx, client.ObjectKey{Name: APIServiceName}, as)
		if apierrors.IsNotFound(err) {
			as.SetName(APIServiceName)
			as.Object["spec"] = spec
			return c.Create(ctx, as)
		}
		if err != nil {
			return err
		}
		as.Object["spec"] = spec
		return c.Update(ctx, as)
	})
	if err != nil {
		return fmt.Errorf("dataapi: write APIService %s: %w", APIServiceName, err)
	}
	return nil
}

// APIServiceAvailable reports whether the APIService's Available condition is True, and
// its message otherwise.
func APIServiceAvailable(ctx context.Context, c client.Reader) (bool, string, error) {
	as := &unstructured.Unstructured{}
	as.SetGroupVersionKind(apiServiceGVK)
	if err := c.Get(ctx, client.ObjectKey{Name: APIServiceName}, as); err != nil {
		return false, "", fmt.Errorf("dataapi: read APIService: %w", err)
	}
	conds, _, _ := unstructured.NestedSlice(as.Object, "status", "conditions")
	for _, raw := range conds {
		cond, _ := raw.(map[string]any)
		if cond["type"] == "Available" {
			msg, _ := cond["message"].(string)
			return cond["status"] == "True", msg, nil
		}
	}
	return false, "no Available condition yet", nil
}
