package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// startServe starts `tasksim serve` on a free loopback port and returns the process and
// the address from its first stdout line. The process is killed when the test ends.
func startServe(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd, lines := startServeLines(t, bin, []string{"listening "}, args...)
	return cmd, lines[0]
}

// startServeLines starts `tasksim serve --listen 127.0.0.1:0 ARGS...`, stopped when the
// test ends, and reads the first lines of its stdout, one per prefix, each of which must
// start with its prefix; it returns what follows each prefix, and drains the rest.
func startServeLines(t *testing.T, bin string, prefixes []string, args ...string) (*exec.Cmd, []string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := bufio.NewReader(stdout)
	values := make([]string, len(prefixes))
	for i, prefix := range prefixes {
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, prefix) {
			t.Fatalf("line %d of serve: %q, %v; want it to start with %q", i+1, line, err, prefix)
		}
		values[i] = strings.TrimSpace(strings.TrimPrefix(line, prefix))
	}
	go func() { _, _ = r.WriteTo(discard{}) }()
	return cmd, values
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func readSummary(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// serveAndWorkers runs `tasksim serve` and `tasksim workers` as two processes on
// scenario file, and checks that both exit 0 and that the orchestrator's summary
// accounts for every step.
func serveAndWorkers(t *testing.T, bin, scenario string) {
	dir := t.TempDir()
	srv, addr := startServe(t, bin, scenario, "--out", filepath.Join(dir, "serve"))
	workers := exec.Command(bin, "workers", scenario, "--connect", addr, "--out", filepath.Join(dir, "workers"))
	workers.Stderr = os.Stderr
	if err := workers.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = workers.Process.Kill(); _ = workers.Wait() })
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	// The orchestrator is gone for good once every step settled: stop the workers.
	_ = workers.Process.Signal(syscall.SIGTERM)
	if err := workers.Wait(); err != nil {
		t.Fatalf("workers: %v", err)
	}
	s := readSummary(t, filepath.Join(dir, "serve"))
	steps, completed, failed, lost := s["steps"].(float64), s["completed"].(float64), s["failed"].(float64), s["lost"].(float64)
	if steps == 0 || completed+failed != steps || lost != 0 || s["mode"] != "live" {
		t.Fatalf("serve summary: steps %v completed %v failed %v lost %v mode %v", steps, completed, failed, lost, s["mode"])
	}
	if s["double_executions"] != nil {
		t.Errorf("serve cannot see the workers' executions, but double_executions = %v", s["double_executions"])
	}
	w := readSummary(t, filepath.Join(dir, "workers"))
	if w["completed"] != nil || w["mode"] != "live" {
		t.Errorf("workers summary: completed %v (want null), mode %v", w["completed"], w["mode"])
	}
}

// The live commands as separate processes on loopback: serve and workers with a worker
// crash, restarts and an orchestrator restart; serve ending on SIGTERM.
func TestLiveCommands(t *testing.T) {
	t.Parallel() // real time, mostly waiting: beside the JetStream runs, not after them
	bin := tasksimLink(t)
	t.Run("serve and workers", func(t *testing.T) { serveAndWorkers(t, bin, "testdata/live/small.yaml") })
	t.Run("serve ends on SIGTERM", func(t *testing.T) { serveEndsOnSIGTERM(t, bin) })
}

// The same at 1,000 workers and 10,000 steps (about 90s): TASKSIM_LIVE_SCALE=1 go test
// -run AtScale ./cmd/tasksim/
func TestServeAndWorkersAtScale(t *testing.T) {
	if os.Getenv("TASKSIM_LIVE_SCALE") == "" {
		t.Skip("set TASKSIM_LIVE_SCALE=1 to run the 1,000-worker live check")
	}
	serveAndWorkers(t, tasksimLink(t), "testdata/live/scale.yaml")
}

// serve ends on SIGTERM and still writes its outputs.
func serveEndsOnSIGTERM(t *testing.T, bin string) {
	dir := t.TempDir()
	srv, _ := startServe(t, bin, "testdata/live/small.yaml", "--out", dir)
	_ = srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
	if s := readSummary(t, dir); s["mode"] != "live" || s["steps"].(float64) != 400 {
		t.Fatalf("summary after SIGTERM: mode %v steps %v", s["mode"], s["steps"])
	}
}
