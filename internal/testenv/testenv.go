// Package testenv starts a real kube-apiserver and etcd with the project's CRDs and
// admission policies installed, for envtest suites, with the binaries internal/controlplane
// finds.
package testenv

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"qual.cx/operator/internal/admission"
	"qual.cx/operator/internal/controlplane"
	"qual.cx/operator/internal/scheme"
)

// policyTimeout bounds the wait for the admission policies to be enforced; the API server
// usually loads them within a second or two.
const policyTimeout = 30 * time.Second

// New returns an environment that installs the generated CRDs into a real control plane.
// Start it with Start, and Stop it when done.
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

// Start starts the control plane and installs the admission policies of config/admission,
// returning once the API server enforces them, so every suite runs under the same rules as
// a cluster. The caller stops env, even after an error.
func Start(env *envtest.Environment) (*rest.Config, error) {
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		return nil, fmt.Errorf("testenv: client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), policyTimeout)
	defer cancel()
	if err := admission.Install(ctx, c, "qual-testenv"); err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	// "default" always exists and is not qual-system, so the probes can run there.
	if err := admission.WaitEnforced(ctx, c, "default"); err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	return cfg, nil
}

// ClientAs is a client of cfg that impersonates user, as `kubectl --as` does: RBAC and
// admission policies see that user, with no groups beyond system:authenticated.
func ClientAs(cfg *rest.Config, user string) (client.Client, error) {
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	as := rest.CopyConfig(cfg)
	as.Impersonate = rest.ImpersonationConfig{UserName: user}
	c, err := client.New(as, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("client as %s: %w", user, err)
	}
	return c, nil
}
