// Package devprocs keeps track of the processes `qual dev` starts (etcd and kube-apiserver),
// so that a later run can stop the ones a run that died without cleaning up left behind, and
// only those. A process is stopped only when /proc proves it is the one recorded: the same
// PID, start time, executable and command line. A PID reused by anyone else's process is
// never signalled. It also finds processes it did not start that use the same state (an
// etcd on the same data folder), and ties children to their parent's life where Linux
// allows (see Shim).
//
// It reads /proc, so it does its work on Linux only; elsewhere nothing is ever proven and
// nothing is signalled.
package devprocs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Proc is what /proc says about one process.
type Proc struct {
	PID  int
	PPID int
	// State is the one-letter state of /proc/PID/stat: 'Z' is a zombie (exited, not yet
	// reaped; it holds no files, locks or ports any more).
	State byte
	// StartTime is when the process started, in clock ticks after boot. With the PID it
	// names one process for the life of the machine: a reused PID has a later start time.
	StartTime uint64
	// Exe is the target of /proc/PID/exe: the executable it runs now (after any exec). It is
	// empty when not readable (another user's process), and ends in " (deleted)" when the
	// file was replaced since.
	Exe string
	// Args is the command line; Cwd the working folder (empty when not readable).
	Args []string
	Cwd  string
}

// Running reports whether the process has not exited: a zombie has.
func (p Proc) Running() bool { return p.State != 'Z' && p.State != 'X' && p.State != 0 }

// Name is the base name of the program, for messages.
func (p Proc) Name() string {
	if len(p.Args) > 0 && p.Args[0] != "" {
		return filepath.Base(p.Args[0])
	}
	return filepath.Base(strings.TrimSuffix(p.Exe, " (deleted)"))
}

// ErrNoProcess is returned by Read for a PID no process has.
var ErrNoProcess = errors.New("no such process")

// Read reads one process from /proc.
func Read(pid int) (Proc, error) {
	if pid <= 0 {
		return Proc{}, ErrNoProcess
	}
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return Proc{}, ErrNoProcess
	}
	if err != nil {
		return Proc{}, fmt.Errorf("read %s/stat: %w", dir, err)
	}
	p, err := parseStat(pid, string(stat))
	if err != nil {
		return Proc{}, err
	}
	p.Exe, _ = os.Readlink(dir + "/exe")
	p.Cwd, _ = os.Readlink(dir + "/cwd")
	if cmdline, err := os.ReadFile(dir + "/cmdline"); err == nil && len(cmdline) > 0 {
		p.Args = strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	}
	return p, nil
}

// parseStat reads the fields of /proc/PID/stat that Proc holds. The command name (field 2)
// is in parentheses and may hold spaces and parentheses itself, so the fields are counted
// from the last ')'.
func parseStat(pid int, stat string) (Proc, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return Proc{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	fields := strings.Fields(stat[end+1:]) // fields[0] is field 3, state
	if len(fields) < 20 || len(fields[0]) != 1 {
		return Proc{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return Proc{}, fmt.Errorf("/proc/%d/stat: ppid: %w", pid, err)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64) // field 22, starttime
	if err != nil {
		return Proc{}, fmt.Errorf("/proc/%d/stat: starttime: %w", pid, err)
	}
	return Proc{PID: pid, PPID: ppid, State: fields[0][0], StartTime: start}, nil
}

// All reads every process /proc lists; processes that exit meanwhile are left out.
func All() ([]Proc, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	procs := make([]Proc, 0, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := Read(pid); err == nil {
			procs = append(procs, p)
		}
	}
	return procs, nil
}

// FlagValue returns the value of the command-line flag name (without dashes) in args, in
// any of the forms Go and pflag programs accept: --name=value, -name=value, --name value,
// -name value. The last occurrence wins, as it does for those programs.
func FlagValue(args []string, name string) (string, bool) {
	value, found := "", false
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		switch {
		case strings.HasPrefix(a, name+"="):
			value, found = a[len(name)+1:], true
		case a == name && i+1 < len(args):
			value, found = args[i+1], true
			i++
		}
	}
	return value, found
}

// SamePath reports whether two paths name the same file: equal once made absolute (a
// relative path against cwd) and cleaned, or once symbolic links are resolved.
func SamePath(a, cwd, b string) bool {
	if !filepath.IsAbs(a) {
		if cwd == "" {
			return false
		}
		a = filepath.Join(cwd, a)
	}
	a, b = filepath.Clean(a), filepath.Clean(b)
	if a == b {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}
