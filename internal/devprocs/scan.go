package devprocs

import "os"

// Using returns the running processes, other than this one, whose command line sets the
// flag name (without dashes) to path: an etcd with --data-dir naming a data folder, say. A
// relative value is resolved against the process's working folder. Processes /proc does not
// show in full (another user's) are missed; Held covers an etcd among them.
func Using(name, path string) ([]Proc, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, p := range all {
		if p.PID == os.Getpid() || !p.Running() {
			continue
		}
		if v, ok := FlagValue(p.Args, name); ok && v != "" && SamePath(v, p.Cwd, path) {
			out = append(out, p)
		}
	}
	return out, nil
}
