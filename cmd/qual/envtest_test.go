package main

import (
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"qual.cx/operator/internal/testenv"
)

// controlPlane starts a real kube-apiserver and etcd for one test, with the CRDs, the
// admission policies and the cluster manifests of config/ installed, and returns an admin
// client and the kubeconfigs of the manager's and the apiserver's service accounts.
func controlPlane(t *testing.T) (cfg *rest.Config, admin client.Client, managerKubeconfig, apiserverKubeconfig string) {
	t.Helper()
	env, err := testenv.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	if cfg, err = testenv.Start(env); err != nil {
		t.Fatal(err)
	}
	if admin, err = client.New(cfg, client.Options{Scheme: env.Scheme}); err != nil {
		t.Fatal(err)
	}
	managerKubeconfig, apiserverKubeconfig = deployment(t, env, admin)
	return cfg, admin, managerKubeconfig, apiserverKubeconfig
}
