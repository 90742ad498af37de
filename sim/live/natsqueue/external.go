package natsqueue

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// External is a nats-server process (Debian's, for example) started with JetStream on a
// loopback port of its own choosing.
type External struct {
	cmd  *exec.Cmd
	done chan struct{}
	// URL is the client URL the server reported once it listened.
	URL string
}

// StartExternal runs bin with JetStream on a free loopback port (-p -1: the server picks
// it, so no other process can take it between choosing and binding), storing under dir,
// and returns once the server has written its ports file, which it does after its
// listener is up. A server not up within within is killed.
func StartExternal(bin, dir string, within time.Duration) (*External, error) {
	portsDir := filepath.Join(dir, "ports")
	if err := os.MkdirAll(portsDir, 0o755); err != nil {
		return nil, fmt.Errorf("nats-server ports dir: %w", err)
	}
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", "-1", "-sd", filepath.Join(dir, "store"),
		"--ports_file_dir", portsDir)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	e := &External{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(e.done) }()
	portsFile := filepath.Join(portsDir, fmt.Sprintf("%s_%d.ports", filepath.Base(bin), cmd.Process.Pid))
	deadline := time.Now().Add(within)
	for {
		var ports struct{ Nats []string }
		b, err := os.ReadFile(portsFile)
		if err == nil && json.Unmarshal(b, &ports) == nil && len(ports.Nats) > 0 {
			e.URL = ports.Nats[0]
			return e, nil
		}
		select {
		case <-e.done:
			return nil, errors.New(bin + " exited before it listened")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("%s wrote no ports file within %s", bin, within)
		}
	}
}

// Stop kills the server and waits for it to exit.
func (e *External) Stop() {
	_ = e.cmd.Process.Kill()
	<-e.done
}
