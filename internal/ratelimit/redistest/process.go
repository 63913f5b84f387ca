package redistest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
)

// installHint is the message for a machine without redis-server.
const installHint = "redis-server not found on PATH: install Debian's redis-server package " +
	"(apt-get install -y redis-server), or set " + EnvURL

// process is a private redis-server and its temporary folder.
type process struct {
	cmd    *exec.Cmd
	dir    string
	socket string
	log    bytes.Buffer
}

// startProcess runs redis-server on a Unix socket only (port 0), without persistence, and
// waits until it answers PING.
func startProcess() (*process, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New(installHint)
	}
	dir, err := os.MkdirTemp("", "qualredis")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	p := &process{dir: dir, socket: filepath.Join(dir, "redis.sock")}
	p.cmd = exec.Command(bin, "--port", "0", "--unixsocket", p.socket, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", dir)
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	p.cmd.SysProcAttr = procAttr()
	if err := p.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	if err := ping(&redis.Options{Network: "unix", Addr: p.socket}, 10*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s did not answer PING: %w\n%s", bin, err, p.log.String())
	}
	return p, nil
}

// stop kills the server and removes its folder.
func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	_ = os.RemoveAll(p.dir)
}
