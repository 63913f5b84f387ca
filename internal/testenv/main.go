package testenv

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Main runs a package's tests against one real control plane: it starts the control plane,
// calls setup (which may start more, and returns what to stop), runs the tests and stops
// everything. With benchOnly, nothing starts unless benchmarks were asked for, so a plain
// `go test ./...` does not pay for a suite of benchmarks. It returns the exit code.
func Main(m *testing.M, benchOnly bool, setup func(env *envtest.Environment, cfg *rest.Config) (stop func(), err error)) int {
	flag.Parse()
	if f := flag.Lookup("test.bench"); benchOnly && (f == nil || f.Value.String() == "") {
		return m.Run()
	}
	env, err := New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	cfg, err := Start(env)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop, err := setup(env, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if stop != nil {
		defer stop()
	}
	return m.Run()
}
