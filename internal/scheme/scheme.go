// Package scheme builds the runtime.Scheme every binary and test uses: Kubernetes' built-in
// kinds and the qual.cx kinds.
package scheme

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// New returns a scheme with the built-in kinds and the qual.cx kinds.
func New() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("scheme: add client-go kinds: %w", err)
	}
	if err := qualv1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("scheme: add qual.cx kinds: %w", err)
	}
	return s, nil
}
