// Package testenv starts a real kube-apiserver and etcd with the project's CRDs installed,
// for envtest suites. The binaries come from hack/control-plane.sh, which builds them from Go
// module sources once and caches them outside the clone.
package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
)

// Scheme returns a new scheme with the built-in kinds and the qual.cx kinds.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("testenv: add client-go scheme: %w", err)
	}
	if err := qualv1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("testenv: add qual.cx scheme: %w", err)
	}
	return s, nil
}

// New returns an environment that installs the generated CRDs into a real control plane.
// Call Start on it, and Stop when done.
func New() (*envtest.Environment, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	assets, err := Assets(root)
	if err != nil {
		return nil, err
	}
	s, err := Scheme()
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

// Assets returns the folder holding kube-apiserver and etcd: KUBEBUILDER_ASSETS when set,
// else the cache of hack/control-plane.sh, which builds the binaries on first use.
func Assets(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	var stdout bytes.Buffer
	cmd := exec.Command("bash", filepath.Join(root, "hack", "control-plane.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("testenv: build control plane: %w", err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testenv: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}
