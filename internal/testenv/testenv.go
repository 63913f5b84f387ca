// Package testenv starts a real kube-apiserver and etcd with the project's CRDs installed,
// for envtest suites, with the binaries internal/controlplane finds.
package testenv

import (
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"qual.cx/operator/internal/controlplane"
	"qual.cx/operator/internal/scheme"
)

// New returns an environment that installs the generated CRDs into a real control plane.
// Call Start on it, and Stop when done.
func New() (*envtest.Environment, error) {
	root, err := controlplane.ModuleRoot()
	if err != nil {
		return nil, err
	}
	assets, err := controlplane.Assets(root)
	if err != nil {
		return nil, err
	}
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	return &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                s,
	}, nil
}
