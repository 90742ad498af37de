package conform

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process runs the worker command under test. Each start is a fresh process (a new worker
// id for SDKs that make one per process); its output goes to log.
type process struct {
	argv []string
	env  []string
	log  *lockedWriter
	srv  *server

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	runs int
	// since is the number of server events before the current copy started: an evExit
	// from that index on is this copy's.
	since int
}

// expandArgs replaces {tasks_url} and {queue} in the worker's arguments.
func expandArgs(argv []string, tasksURL, queue string) []string {
	r := strings.NewReplacer("{tasks_url}", tasksURL, "{queue}", queue)
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = r.Replace(a)
	}
	return out
}

// start launches a fresh copy of the worker in its own process group, so that a signal
// or the final kill reaches whatever it spawned too.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.since = p.srv.count()
	p.srv.processStarting()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker %q: %w", p.argv[0], err)
	}
	p.runs++
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		p.srv.note(event{Kind: evExit, Exit: exitText(err)})
		close(done)
	}()
	return nil
}

// exitedSince returns how the current copy exited, "" while it runs (events under srv.mu).
func (p *process) exitedSince(events []event, since int) string {
	for _, e := range events[min(since, len(events)):] {
		if e.Kind == evExit {
			return e.Exit
		}
	}
	return ""
}

// exitText says how a process ended.
func exitText(err error) string {
	var ee *exec.ExitError
	if err == nil {
		return "exit 0"
	}
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("exit %d", ee.ExitCode())
	}
	return err.Error()
}

// running reports whether the current copy has not exited.
func (p *process) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the worker's process group.
func (p *process) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// kill ends the current copy (and its group) and waits for it, at most 5s.
func (p *process) kill() {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return
	}
	p.signal(syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
