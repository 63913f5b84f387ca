package devprocs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// The environment a shim script passes to the program that runs RunShim.
const (
	envShimTarget = "QUAL_DEVPROCS_EXEC"
	envShimParent = "QUAL_DEVPROCS_PARENT"
	envShimSignal = "QUAL_DEVPROCS_SIGNAL"
)

// WriteShim writes an executable script at path that runs target with the arguments it is
// given, by way of self (this program, which calls RunShim before anything else), so that
// target gets sig when the process that started the script dies, however it dies.
// Linux has this (PR_SET_PDEATHSIG) but it must be set in the child between fork and exec,
// and code that starts a process without taking a SysProcAttr (envtest) cannot ask for it:
// the script hands the child to self, which sets it and execs target in the same process.
// The PID, start time and command line of the process are target's, as without the shim.
//
// SIGTERM lets target shut down cleanly; SIGKILL suits a process whose clean shutdown
// needs something that dies at the same time (kube-apiserver waits for etcd).
//
// Only on Linux (ShimSupported); the script needs /bin/sh.
func WriteShim(path, self, target string, sig syscall.Signal) error {
	script := "#!/bin/sh\n" +
		"# Written by `qual dev` at each start: runs " + target + "\n" +
		"# so that it stops when the qual dev that started it dies.\n" +
		envShimParent + "=$PPID " + envShimSignal + "=" + strconv.Itoa(int(sig)) + " " + envShimTarget + "=" + shellQuote(target) + " exec " + shellQuote(self) + ` "$@"` + "\n"
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(script), 0o700); err != nil { //nolint:gosec // an executable script, for its owner only
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
