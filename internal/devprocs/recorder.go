package devprocs

import (
	"os"
	"strconv"
	"sync"
	"time"
)

// Recorder keeps a record file current while this process starts children: it finds them
// in /proc (the code that starts them may not say their PIDs) and records each as soon as
// it is seen, so that a later run knows them even if this process is killed a moment later.
type Recorder struct {
	path string
	// identify names a child worth recording ("etcd"), or returns false for any other: one
	// not yet running its final executable, or a short-lived `etcd --help`.
	identify func(Proc) (string, bool)

	mu   sync.Mutex
	file File
}

// NewRecorder writes a record file at path naming this process as its owner, with no
// processes yet. identify picks the children to record.
func NewRecorder(path string, identify func(Proc) (string, bool)) (*Recorder, error) {
	self, err := Read(os.Getpid())
	if err != nil {
		return nil, err
	}
	r := &Recorder{path: path, identify: identify, file: File{Owner: RecordOf("qual dev", self)}}
	if err := r.file.Save(path); err != nil {
		return nil, err
	}
	return r, nil
}

// Scan records the children identify picks that are not recorded yet, and saves the file
// when it changed.
func (r *Recorder) Scan() error {
	kids, err := children()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, p := range kids {
		name, ok := r.identify(p)
		if !ok || r.has(p) {
			continue
		}
		r.file.Processes = append(r.file.Processes, RecordOf(name, p))
		changed = true
	}
	if !changed {
		return nil
	}
	return r.file.Save(r.path)
}

func (r *Recorder) has(p Proc) bool {
	for _, rec := range r.file.Processes {
		if rec.PID == p.PID && rec.StartTime == p.StartTime {
			return true
		}
	}
	return false
}

// Watch scans every interval until the returned func is called, which scans a last time
// and returns the first error met, if any.
func (r *Recorder) Watch(interval time.Duration) (stop func() error) {
	done := make(chan struct{})
	finished := make(chan error, 1)
	go func() {
		var first error
		for {
			if err := r.Scan(); err != nil && first == nil {
				first = err
			}
			if sleepOrDone(interval, done) {
				break
			}
		}
		if err := r.Scan(); err != nil && first == nil {
			first = err
		}
		finished <- first
	}()
	return func() error {
		close(done)
		return <-finished
	}
}

// Processes returns the records so far.
func (r *Recorder) Processes() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.file.Processes...)
}

// Remove deletes the record file: every recorded process has been stopped.
func (r *Recorder) Remove() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.file.Processes = nil
	if err := os.Remove(r.path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// children returns the running child processes of this process. Only the stat file of
// every other process is read.
func children() ([]Proc, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var out []Proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if p, err := parseStat(pid, string(stat)); err != nil || p.PPID != self || !p.Running() {
			continue
		}
		if p, err := Read(pid); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// sleepOrDone waits d, or less when done is closed, and reports whether done was.
func sleepOrDone(d time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
