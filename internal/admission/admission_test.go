package admission_test

import (
	"context"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	qualv1alpha1 "qual.cx/operator/api/v1alpha1"
	"qual.cx/operator/internal/admission"
	"qual.cx/operator/internal/testenv"
)

var k8s client.Client

// testenv.Main installs the policies with this package and waits for them, once.
func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, false, func(env *envtest.Environment, cfg *rest.Config) (func(), error) {
		var err error
		k8s, err = client.New(cfg, client.Options{Scheme: env.Scheme})
		return nil, err
	}))
}

// TestInstallAgainIsHarmless runs what a resumed `qual dev` runs on a cluster that has the
// policies: installing again succeeds, the wait returns at once, and no probe is left over.
func TestInstallAgainIsHarmless(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admission.Install(ctx, k8s, "qual-dev"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := admission.WaitEnforced(ctx, k8s, "default"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("waiting for policies already in force took %v", d)
	}
	keys := &qualv1alpha1.APIKeyList{}
	if err := k8s.List(ctx, keys, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	if len(keys.Items) != 0 {
		t.Errorf("the probes left %d keys behind", len(keys.Items))
	}
	if err := admission.WaitEnforced(ctx, k8s, qualv1alpha1.SystemNamespace); err == nil {
		t.Error("probing in the one namespace where admin:read is allowed must fail")
	}
}
