// Package controlplane finds the kube-apiserver and etcd binaries that envtest suites and
// `qual dev` run: KUBEBUILDER_ASSETS when set, else what hack/control-plane.sh built from Go
// module sources (once, into a cache outside the clone). It stays free of test code so the
// qual binary does not link it.
package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

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
		return "", fmt.Errorf("controlplane: build control plane: %w", err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("controlplane: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("controlplane: no go.mod above the working directory")
		}
		dir = parent
	}
}
