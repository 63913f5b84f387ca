package pgtest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
)

// cluster is a private PostgreSQL data folder and the server running on it.
type cluster struct {
	bin, root, data, socket string
}

// installHint is the message for a machine without PostgreSQL.
const installHint = "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin: " +
	"install Debian's postgresql package (apt-get install -y postgresql), or set " + EnvDSN

// startCluster runs initdb and pg_ctl start. Both refuse to run as root, so as root they run as
// the postgres user the Debian package creates, on folders it owns. fsync is off: a test server
// needs no durability and runs much faster without it.
func startCluster() (*cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "qualpg")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, root: root, data: filepath.Join(root, "data"), socket: filepath.Join(root, "sock")}
	if err := c.init(); err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	if err := c.start(); err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	return c, nil
}

// start runs pg_ctl start on the data folder and waits until the server accepts connections.
func (c *cluster) start() error {
	opts := "-k " + c.socket + " -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=200"
	if err := c.run("pg_ctl", "-D", c.data, "-l", filepath.Join(c.root, "log"), "-o", opts, "-w", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.root, "log"))
		return fmt.Errorf("pg_ctl start: %w\n%s", err, log)
	}
	return nil
}

// halt stops the server at once, as a crash would (immediate mode: no checkpoint, the next
// start recovers), and keeps its files.
func (c *cluster) halt() error {
	return c.run("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop")
}

// findBin picks the newest /usr/lib/postgresql/<version>/bin holding initdb.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New(installHint)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// init creates the folders, hands them to postgres when running as root, and runs initdb.
func (c *cluster) init() error {
	for _, d := range []string{c.data, c.socket} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if os.Geteuid() == 0 {
		if err := chownAll(c.root, "postgres"); err != nil {
			return err
		}
	}
	return c.run("initdb", "-D", c.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
}

// chownAll gives a folder tree to a user.
func chownAll(root, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("user %s (created by the postgresql package): %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
}

// run runs a PostgreSQL tool, as the postgres user when we are root.
func (c *cluster) run(tool string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, tool), args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, tool)}, args...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", tool, err, out)
	}
	return nil
}

// dsn is the URL of the maintenance database over the private socket.
func (c *cluster) dsn() *url.URL {
	return &url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {c.socket}, "sslmode": {"disable"}}.Encode()}
}

// stop shuts the server down fast and removes its files.
func (c *cluster) stop() {
	_ = c.halt()
	_ = os.RemoveAll(c.root)
}
