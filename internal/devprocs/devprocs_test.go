//go:build linux

// The package reads /proc and ties children to their parent with a Linux-only signal: its
// tests run where that exists, as every machine of the project and CI does.

package devprocs_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"qual.cx/operator/internal/devprocs"
)

// The test binary doubles as the processes the tests start, chosen by this variable.
const modeEnv = "DEVPROCS_TEST_MODE"

func TestMain(m *testing.M) {
	devprocs.RunShim() // as qual's main does: a shim script runs this binary
	switch os.Getenv(modeEnv) {
	case "sleep", "sleep-ignoring-term": // a long-running process with whatever arguments it was given
		if os.Getenv(modeEnv) == "sleep-ignoring-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(0)
	case "spawn": // starts its arguments, prints the child's PID, and waits to be killed
		cmd := exec.Command(os.Args[1], os.Args[2:]...) //nolint:gosec // the test's own command
		if err := cmd.Start(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is a process started by a test, reaped as soon as it exits.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // of Wait, once done is closed
}

func (c *child) wait() error {
	<-c.done
	return c.err
}

// start runs this test binary in a sleep mode with args and returns once it is ready.
func start(t *testing.T, mode string, args ...string) (*child, devprocs.Proc) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...) //nolint:gosec // this test binary
	cmd.Env = append(os.Environ(), modeEnv+"="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c, p := run(t, cmd)
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("the child said %q, %v", line, err)
	}
	return c, p
}

func run(t *testing.T, cmd *exec.Cmd) (*child, devprocs.Proc) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	want, err := exec.LookPath(cmd.Path)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = filepath.EvalSymlinks(want); err != nil {
		t.Fatal(err)
	}
	var p devprocs.Proc
	waitFor(t, "the child to exec "+want, func() bool {
		p, err = devprocs.Read(cmd.Process.Pid)
		return err == nil && p.Exe == want && slices.Equal(p.Args, cmd.Args)
	})
	return c, p
}

// alive reports whether the child is still running, a moment after anything that might
// have signalled it.
func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	case <-time.After(300 * time.Millisecond):
		return true
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A record whose PID now belongs to a process that is not provably the recorded one is
// never signalled: another start time (a reused PID), another executable, another command
// line, or one that does not name the state folder.
func TestStopLeavesOtherProcessesAlone(t *testing.T) {
	dir := t.TempDir()
	c, p := start(t, "sleep", "--data-dir="+filepath.Join(dir, "etcd"))
	same := devprocs.RecordOf("etcd", p)

	sleeper, sp := run(t, exec.Command("sleep", "60"))
	for name, rec := range map[string]devprocs.Record{
		"start time":        {Name: "etcd", PID: p.PID, StartTime: p.StartTime + 1, Exe: p.Exe, Args: p.Args},
		"executable":        {Name: "etcd", PID: p.PID, StartTime: p.StartTime, Exe: "/usr/local/bin/etcd", Args: p.Args},
		"no executable":     {Name: "etcd", PID: p.PID, StartTime: p.StartTime, Args: p.Args},
		"command line":      {Name: "etcd", PID: p.PID, StartTime: p.StartTime, Exe: p.Exe, Args: append(slices.Clone(p.Args), "--x")},
		"sleep, start time": {Name: "etcd", PID: sp.PID, StartTime: sp.StartTime - 1, Exe: sp.Exe, Args: []string{"sleep", "60", "--data-dir=" + dir}},
	} {
		if _, st, why := rec.Check(dir); st != devprocs.Other || why == "" {
			t.Errorf("%s differs: status %v (%s), want Other with a reason", name, st, why)
		}
		if err := devprocs.Stop(rec, dir, time.Second); err != nil {
			t.Errorf("%s differs: Stop: %v", name, err)
		}
	}
	// The right record, but the state folder is another: not provably ours either.
	if _, st, _ := same.Check(t.TempDir()); st != devprocs.Other {
		t.Errorf("a record for another state folder: status %v, want Other", st)
	}
	if err := devprocs.Stop(same, t.TempDir(), time.Second); err != nil {
		t.Error(err)
	}
	if !c.alive() || !sleeper.alive() {
		t.Fatal("a process that is not provably the recorded one was signalled")
	}

	// The record itself: stopped with SIGTERM.
	if _, st, why := same.Check(dir); st != devprocs.Same {
		t.Fatalf("the recorded process: status %v (%s), want Same", st, why)
	}
	if err := devprocs.Stop(same, dir, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.wait(); !isSignal(err, syscall.SIGTERM) {
		t.Errorf("the recorded process exited with %v, want SIGTERM", err)
	}
	if _, st, _ := same.Check(dir); st != devprocs.Gone {
		t.Errorf("after Stop: status %v, want Gone", st)
	}
}

// A process that ignores SIGTERM gets SIGKILL once the grace period is over.
func TestStopEscalatesToSIGKILL(t *testing.T) {
	dir := t.TempDir()
	c, p := start(t, "sleep-ignoring-term", "--data-dir="+filepath.Join(dir, "etcd"))
	began := time.Now()
	if err := devprocs.Stop(devprocs.RecordOf("etcd", p), dir, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := c.wait(); !isSignal(err, syscall.SIGKILL) {
		t.Errorf("exited with %v, want SIGKILL", err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("Stop took %s", took)
	}
}

func isSignal(err error, sig syscall.Signal) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// The recorder writes each matching child to the file as soon as it appears, and only those.
func TestRecorderRecordsChildrenAsTheyStart(t *testing.T) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "processes.json")
	rec, err := devprocs.NewRecorder(path, func(p devprocs.Proc) (string, bool) {
		return "etcd", p.Exe == self && devprocs.NamesPath(p.Args, dir)
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := rec.Watch(20 * time.Millisecond)
	_, other := start(t, "sleep", "--data-dir=/elsewhere")
	_, p := start(t, "sleep", "--data-dir="+filepath.Join(dir, "etcd"))
	waitFor(t, "the child in "+path, func() bool {
		f, err := devprocs.Load(path)
		return err == nil && len(f.Processes) > 0
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	f, err := devprocs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Owner.PID != os.Getpid() || f.Owner.StartTime == 0 {
		t.Errorf("owner %+v, want this process", f.Owner)
	}
	if len(f.Processes) != 1 || f.Processes[0].PID != p.PID || f.Processes[0].StartTime != p.StartTime {
		t.Errorf("recorded %+v, want only pid %d (not %d)", f.Processes, p.PID, other.PID)
	}
	if _, st, _ := f.Processes[0].Check(dir); st != devprocs.Same {
		t.Errorf("the record does not check out: %v", st)
	}
	if err := rec.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Remove: %v", err)
	}
}

// Using finds a process naming a folder in either flag form, relative to its working folder.
func TestUsingFindsRelativeAndSeparateFlagForms(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "state", "etcd"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "--data-dir", "state/etcd") //nolint:gosec // this test binary
	cmd.Env = append(os.Environ(), modeEnv+"=sleep")
	cmd.Dir = dir
	_, p := run(t, cmd)
	found, err := devprocs.Using("data-dir", filepath.Join(dir, "state", "etcd"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(found, func(q devprocs.Proc) bool { return q.PID == p.PID }) {
		t.Errorf("Using did not find pid %d: %+v", p.PID, found)
	}
	found, err = devprocs.Using("data-dir", filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 0 {
		t.Errorf("Using found %+v for a folder no one uses", found)
	}
}

func TestLockIsExclusiveAndHeldSeesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev.lock")
	if held, err := devprocs.Held(path); err != nil || held {
		t.Fatalf("a missing file: held %v, %v", held, err)
	}
	lock, err := devprocs.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := devprocs.Lock(path); !errors.Is(err, devprocs.ErrLocked) {
		t.Errorf("a second Lock: %v, want ErrLocked", err)
	}
	if held, err := devprocs.Held(path); err != nil || !held {
		t.Errorf("while locked: held %v, %v", held, err)
	}
	if err := lock.Close(); err != nil {
		t.Fatal(err)
	}
	if held, err := devprocs.Held(path); err != nil || held {
		t.Errorf("after Close: held %v, %v", held, err)
	}
}

// A process started through a shim script runs the target in the same process (its PID,
// executable and command line are the target's) and gets SIGTERM when the process that
// started it is killed. Without the shim it outlives its parent.
func TestShimTiesTheChildToItsParent(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("sleep is needed to stand in for a child: %v", err)
	}
	if sleep, err = filepath.EvalSymlinks(sleep); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "sleep")
	if err := devprocs.WriteShim(script, os.Args[0], sleep, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		program  string
		survives bool
	}{{"shim", script, false}, {"no shim", sleep, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tc.program, "60") //nolint:gosec // this test binary
			cmd.Env = append(os.Environ(), modeEnv+"=spawn")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			parent, _ := run(t, cmd)
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(line[:len(line)-1])
			if err != nil {
				t.Fatalf("spawn said %q", line)
			}
			var p devprocs.Proc
			// exec switches the executable before it sets up the new command line, so a
			// reader can briefly see sleep with no arguments yet.
			waitFor(t, "sleep to run", func() bool {
				p, err = devprocs.Read(pid)
				return err == nil && p.Exe == sleep && len(p.Args) > 0
			})
			if want := []string{sleep, "60"}; tc.program == script && !slices.Equal(p.Args, want) {
				t.Errorf("command line %q, want %q", p.Args, want)
			}
			t.Cleanup(func() {
				if _, st, _ := devprocs.RecordOf("sleep", p).Check("/"); st == devprocs.Same {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			if err := parent.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = parent.wait()
			gone := func() bool {
				q, err := devprocs.Read(pid)
				return err != nil || !q.Running() || q.StartTime != p.StartTime
			}
			if tc.survives {
				time.Sleep(time.Second)
				if gone() {
					t.Error("without the shim the child died with its parent: the test proves nothing")
				}
				return
			}
			waitFor(t, "the shimmed child to stop after its parent was killed", gone)
		})
	}
}

func TestFlagValue(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		value string
		ok    bool
	}{
		{[]string{"etcd", "--data-dir=/a"}, "/a", true},
		{[]string{"etcd", "-data-dir=/a"}, "/a", true},
		{[]string{"etcd", "--data-dir", "/a"}, "/a", true},
		{[]string{"etcd", "-data-dir", "rel"}, "rel", true},
		{[]string{"etcd", "--data-dir=/a", "--data-dir=/b"}, "/b", true},
		{[]string{"etcd", "--data-dirx=/a"}, "", false},
		{[]string{"etcd", "--", "--data-dir=/a"}, "", false},
		{[]string{"etcd", "--data-dir"}, "", false},
		{[]string{"--data-dir=/a"}, "", false}, // argv[0] is the program
	} {
		v, ok := devprocs.FlagValue(tc.args, "data-dir")
		if v != tc.value || ok != tc.ok {
			t.Errorf("FlagValue(%q) = %q, %v; want %q, %v", tc.args, v, ok, tc.value, tc.ok)
		}
	}
}

func TestNamesPath(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"etcd", "--data-dir=/s/.qual/etcd"}, true},
		{[]string{"etcd", "--data-dir", "/s/.qual"}, true},
		{[]string{"etcd", "--data-dir=/s/.qualx/etcd"}, false},
		{[]string{"etcd", "--data-dir=/s"}, false},
	} {
		if got := devprocs.NamesPath(tc.args, "/s/.qual"); got != tc.want {
			t.Errorf("NamesPath(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
