package devprocs

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is returned by Lock when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// Lock opens path (creating it) and takes an exclusive flock on it, held until the file is
// closed or this process ends, however it ends: the kernel drops the lock of a killed
// process. Go opens files close-on-exec, so the processes it starts do not inherit it.
func Lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // the state folder the user chose
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := flockNB(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// Held reports whether some process holds an flock on path. bbolt, and so etcd, holds one on
// its database (member/snap/db under the data folder) for as long as it runs, and a second
// etcd on the same folder waits for it forever. A missing file is not held.
func Held(path string) (bool, error) {
	f, err := os.Open(path) //nolint:gosec // the state folder the user chose
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer func() { _ = f.Close() }() // closing releases the probe's lock
	switch err := flockNB(f); {
	case errors.Is(err, ErrLocked):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("probe the lock of %s: %w", path, err)
	}
	return false, nil
}

func flockNB(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrLocked
		}
		return err
	}
}
