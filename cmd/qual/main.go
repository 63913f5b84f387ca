// Command qual is the Qual operator's one binary: the manager (controllers), the REST
// apiserver, the webhook dispatcher and the local development environment are subcommands.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "qual:", err)
		os.Exit(1)
	}
}
