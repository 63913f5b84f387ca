package main

import (
	"fmt"
	"runtime/debug"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// globalFlags are shared by every subcommand.
type globalFlags struct {
	kubeconfig string
	store      string
	logDev     bool
}

func (g *globalFlags) restConfig() (*rest.Config, error) {
	if g.kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", g.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", g.kubeconfig, err)
		}
		// As ctrl.GetConfig does: leave throttling to the API server's priority and fairness
		// instead of client-go's default of 5 requests per second.
		if cfg.QPS == 0 {
			cfg.QPS = -1
		}
		return cfg, nil
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("find the Kubernetes API (set --kubeconfig or KUBECONFIG): %w", err)
	}
	return cfg, nil
}

// routeKlog sends what logs through klog (k8s.io/apiserver, the aggregated API) to the
// controller-runtime logger, which forwards to the sink the command sets up, with the
// library's reports of a client's malformed request demoted (clientFaults). Call it once,
// before anything runs: klog's logger is process-global.
func routeKlog() { klog.SetLogger(logr.New(clientFaults{ctrl.Log.GetSink()})) }

func newRootCommand() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "qual",
		Short:         "The Qual operator: qualitative-research API on Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			ctrl.SetLogger(zap.New(zap.UseDevMode(g.logDev)))
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, then in-cluster)")
	pf.StringVar(&g.store, "store", "qual.db", "store address: a SQLite file path or sqlite:// URL, or a postgres:// URL")
	pf.BoolVar(&g.logDev, "log-dev", false, "human-readable console logs instead of JSON")
	root.AddCommand(newVersionCommand(), newManagerCommand(g))
	root.AddCommand(newAPIServerCommand(g), newDispatcherCommand(g), newDevCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build's module version and VCS revision",
		Run: func(cmd *cobra.Command, _ []string) {
			cmd.Println(buildVersion())
		},
	}
}

// buildVersion reads the version Go stamped into the binary, so no ldflags are needed.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v
}
