//go:build !linux

package redistest

import "syscall"

// procAttr has no parent-death signal outside Linux; Close still stops the server.
func procAttr() *syscall.SysProcAttr { return nil }
