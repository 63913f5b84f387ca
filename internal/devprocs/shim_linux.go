package devprocs

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// ShimSupported reports whether WriteShim's scripts tie a child to its parent's life here.
const ShimSupported = true

// RunShim does nothing unless this process was started by a WriteShim script. Then it
// arranges the script's signal for when the process that ran the script dies, and execs the
// script's target in this process: it returns only when this process was not started by a
// shim. Call it before anything else (from an init func of package main).
//
// The signal is tied to the thread that started the script: Go never ends its threads on
// its own, only one whose goroutine exits while locked to it (runtime.LockOSThread), which
// the code starting the control plane does not do.
func RunShim() {
	target := os.Getenv(envShimTarget)
	if target == "" {
		return
	}
	parent, _ := strconv.Atoi(os.Getenv(envShimParent))
	sig, err := strconv.Atoi(os.Getenv(envShimSignal))
	if err != nil || sig <= 0 {
		sig = int(syscall.SIGTERM)
	}
	for _, k := range []string{envShimTarget, envShimParent, envShimSignal} {
		_ = os.Unsetenv(k)
	}
	// The parent-death signal belongs to a thread, and exec keeps only the calling thread:
	// set it and exec on the same one.
	runtime.LockOSThread()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(sig), 0); errno != 0 {
		fmt.Fprintf(os.Stderr, "qual: set the parent-death signal for %s: %v\n", target, errno)
		os.Exit(126)
	}
	if os.Getppid() != parent {
		// The parent died before the signal was set; it would never come.
		fmt.Fprintf(os.Stderr, "qual: %s not started: its parent (pid %d) has exited\n", target, parent)
		os.Exit(126)
	}
	err = syscall.Exec(target, append([]string{target}, os.Args[1:]...), os.Environ())
	fmt.Fprintf(os.Stderr, "qual: exec %s: %v\n", target, err)
	os.Exit(127)
}
