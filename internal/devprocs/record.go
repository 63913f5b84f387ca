package devprocs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Record names one process, with what proves later that a PID is still that process.
type Record struct {
	Name      string   `json:"name"`
	PID       int      `json:"pid"`
	StartTime uint64   `json:"start_time"`
	Exe       string   `json:"exe"`
	Args      []string `json:"args"`
}

// RecordOf is the record of a process read from /proc.
func RecordOf(name string, p Proc) Record {
	return Record{Name: name, PID: p.PID, StartTime: p.StartTime, Exe: p.Exe, Args: p.Args}
}

func (r Record) String() string { return fmt.Sprintf("%s (pid %d)", r.Name, r.PID) }

// Status is what runs under a recorded PID now.
type Status int

const (
	// Gone means no process has the PID, or it has exited and awaits its parent (a zombie).
	Gone Status = iota
	// Other means a process has the PID that is not provably the recorded one: another start
	// time, executable or command line, or /proc does not say (another user's process).
	Other
	// Same means the recorded process is still running.
	Same
)

// Check returns what runs under r.PID now and whether it is provably r's process: the same
// start time, the same executable (or that file since deleted, as when the binary is rebuilt
// while it runs), the same command line, and one that names dir (the state folder) in an
// argument. For Other it says why.
func (r Record) Check(dir string) (Proc, Status, string) {
	p, err := Read(r.PID)
	switch {
	case errors.Is(err, ErrNoProcess):
		return p, Gone, ""
	case err != nil:
		return p, Other, err.Error()
	case !p.Running():
		return p, Gone, ""
	case p.StartTime != r.StartTime:
		return p, Other, fmt.Sprintf("started at tick %d, not %d: the PID was reused", p.StartTime, r.StartTime)
	case r.Exe == "" || p.Exe != r.Exe && p.Exe != r.Exe+" (deleted)":
		return p, Other, fmt.Sprintf("runs %q, not %q", p.Exe, r.Exe)
	case !slices.Equal(p.Args, r.Args):
		return p, Other, "its command line differs from the recorded one"
	case !NamesPath(r.Args, dir):
		return p, Other, "its command line does not name " + dir
	}
	return p, Same, ""
}

// NamesPath reports whether an argument (or the value of a --flag=value argument) is dir or
// a path inside it.
func NamesPath(args []string, dir string) bool {
	dir = filepath.Clean(dir)
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			if _, v, ok := strings.Cut(a, "="); ok {
				a = v
			}
		}
		if a == dir || strings.HasPrefix(a, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// killWait bounds the wait for a process to go after SIGKILL, which it cannot ignore; only a
// process stuck in the kernel (state D) outlasts it.
const killWait = 5 * time.Second

// Stop ends the process of r, if it is still provably r's (see Check): SIGTERM, then SIGKILL
// when it has not exited within grace. It returns once the process has exited. Identity is
// checked again before each signal, and signals go through a pidfd where Linux has them (os
// opens one in FindProcess, before the check), so a PID reused meanwhile is never signalled.
// A record that is Gone or Other is left alone and is no error.
func Stop(r Record, dir string, grace time.Duration) error {
	proc, err := os.FindProcess(r.PID)
	if err != nil {
		return nil //nolint:nilerr // on Unix only a pidfd failure; nothing to signal then
	}
	defer func() { _ = proc.Release() }()
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGTERM, grace}, {syscall.SIGKILL, killWait}} {
		if _, st, _ := r.Check(dir); st != Same {
			return nil
		}
		if err := proc.Signal(step.sig); errors.Is(err, os.ErrProcessDone) {
			return nil
		} else if err != nil {
			return fmt.Errorf("signal %s: %w", r, err)
		}
		if waitGone(r, dir, step.wait) {
			return nil
		}
	}
	return fmt.Errorf("%s is still running %s after SIGKILL", r, killWait)
}

// waitGone polls until r's process is no longer running, or timeout passes.
func waitGone(r Record, dir string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if _, st, _ := r.Check(dir); st != Same {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// File is the record file of one state folder: the process that wrote it and the
// processes it started.
type File struct {
	Owner     Record   `json:"owner"`
	Processes []Record `json:"processes"`
}

// Load reads a record file; a missing file is an empty File.
func Load(path string) (File, error) {
	var f File
	data, err := os.ReadFile(path) //nolint:gosec // the state folder the user chose
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}

// Save writes f to path, readable by the owner only; a reader never sees half a file.
func (f File) Save(path string) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
