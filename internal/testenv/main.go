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
// `go test ./...` does not pay for a suite of benchmarks. A fuzzing run starts nothing either
// (Fuzzing). It returns the exit code.
func Main(m *testing.M, benchOnly bool, setup func(env *envtest.Environment, cfg *rest.Config) (stop func(), err error)) int {
	flag.Parse()
	if f := flag.Lookup("test.bench"); benchOnly && (f == nil || f.Value.String() == "") {
		return m.Run()
	}
	if Fuzzing() {
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

// Fuzzing says the test binary runs with -test.fuzz, as the fuzzing coordinator and each of its
// worker processes do. The fuzz targets of a package with a control plane fuzz pure functions
// (parsers, labels); starting a control plane in every worker process, and again in each one
// that replaces a worker, stalled the run after a few thousand inputs. A suite's TestMain that
// checks what its tests left behind skips that check too.
func Fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}
