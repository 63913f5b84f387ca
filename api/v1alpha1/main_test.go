package v1alpha1_test

import (
	"os"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"qual.cx/operator/internal/testenv"
)

// The suite shares one real control plane with the generated CRDs installed.
var (
	cfg *rest.Config
	k8s client.Client
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, false, func(env *envtest.Environment, c *rest.Config) (func(), error) {
		cfg = c
		var err error
		k8s, err = client.New(cfg, client.Options{Scheme: env.Scheme})
		return nil, err
	}))
}
