package redistest

import "syscall"

// procAttr kills the server with the test binary, even when the binary itself is killed.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
