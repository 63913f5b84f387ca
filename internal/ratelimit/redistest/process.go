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
	bin    string
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
	p := &process{bin: bin, dir: dir, socket: filepath.Join(dir, "redis.sock")}
	if err := p.run(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

// run starts the server in p's folder, on p's socket, and waits until it answers PING. The
// socket path stays the same across runs, so clients reconnect to a restarted server.
func (p *process) run() error {
	p.cmd = exec.Command(p.bin, "--port", "0", "--unixsocket", p.socket, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", p.dir)
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	p.cmd.SysProcAttr = procAttr()
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.bin, err)
	}
	if err := ping(&redis.Options{Network: "unix", Addr: p.socket}, 10*time.Second); err != nil {
		p.kill()
		return fmt.Errorf("%s did not answer PING: %w\n%s", p.bin, err, p.log.String())
	}
	return nil
}

// kill kills the server, as a crash would, and keeps its folder.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// stop kills the server and removes its folder.
func (p *process) stop() {
	p.kill()
	_ = os.RemoveAll(p.dir)
}
