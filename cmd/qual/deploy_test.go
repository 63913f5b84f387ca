package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// deployment installs the cluster manifests of config/ (RBAC, manager, apiserver, aggregated API) into a real
// control plane, proving they are valid objects, and returns kubeconfigs that authenticate
// as the manager's and the apiserver's service accounts, so a test runs each component with
// exactly the permissions the manifests grant it.
func deployment(t *testing.T, env *envtest.Environment, admin client.Client) (manager, apiserver string) {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, dir := range []string{"rbac", "manager", "apiserver", "aggregated"} {
		files, err := filepath.Glob(filepath.Join("..", "..", "config", dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if filepath.Base(f) != "kustomization.yaml" {
				objs = append(objs, manifests(t, f)...)
			}
		}
	}
	// Namespaces first, as kubectl apply -k orders them.
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return boolRank(b.GetKind() == "Namespace") - boolRank(a.GetKind() == "Namespace")
	})
	for _, o := range objs {
		if err := admin.Create(context.Background(), o); err != nil {
			t.Fatalf("%s %s from config/: %v", o.GetKind(), o.GetName(), err)
		}
	}
	dir := t.TempDir()
	return serviceAccountKubeconfig(t, env, dir, "qual-manager"), serviceAccountKubeconfig(t, env, dir, "qual-apiserver")
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// serviceAccountKubeconfig writes a kubeconfig whose user is the service account's name,
// which RBAC bindings to that service account match.
func serviceAccountKubeconfig(t *testing.T, env *envtest.Environment, dir, sa string) string {
	t.Helper()
	user, err := env.AddUser(envtest.User{Name: "system:serviceaccount:qual-system:" + sa}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, sa+".kubeconfig")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func manifests(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}
