// Command qual is the Qual operator's one binary: the manager (controllers), the REST
// apiserver, the webhook dispatcher and the local development environment are subcommands.
package main

import (
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
)

func main() {
	// The first SIGINT or SIGTERM cancels the context and every subcommand shuts down
	// gracefully; a second one exits at once.
	ctx := ctrl.SetupSignalHandler()
	routeKlog()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "qual:", err)
		os.Exit(1)
	}
}
