package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tasksim/tasksim/sim/live/natsqueue"
)

const jetstreamScenario = "testdata/live/jetstream.yaml"

// tasksimLink is the CLI as a separate process without a build: the test binary itself
// under the name tasksim, which testscript.Main (TestMain) runs as the CLI.
func tasksimLink(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "tasksim")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// startServeJetStream starts `tasksim serve` on a jetstream scenario and returns the
// process, its gRPC address and the NATS URL it announces on its second line.
func startServeJetStream(t *testing.T, bin string, args ...string) (*exec.Cmd, string, string) {
	t.Helper()
	cmd, lines := startServeLines(t, bin, []string{"listening ", "nats "}, append([]string{jetstreamScenario}, args...)...)
	return cmd, lines[0], lines[1]
}

// jetStreamRun runs serve and n `tasksim workers` processes sharing its queue, and
// checks that every process exits 0 and the orchestrator's summary accounts for every
// step.
func jetStreamRun(t *testing.T, bin string, n int, serveArgs ...string) {
	dir := t.TempDir()
	srv, addr, natsURL := startServeJetStream(t, bin, append(serveArgs, "--out", filepath.Join(dir, "serve"))...)
	var workers []*exec.Cmd
	for i := range n {
		// Each process runs its own pool of three workers: the scenario's six, split.
		w := exec.Command(bin, "workers", jetstreamScenario, "--connect", addr, "--nats", natsURL,
			"--set", "workers[0].count="+strconv.Itoa(6/n), "--seed", strconv.Itoa(i+1),
			"--out", filepath.Join(dir, "workers-"+strconv.Itoa(i)))
		w.Stderr = os.Stderr
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
		workers = append(workers, w)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	for i, w := range workers {
		_ = w.Process.Signal(syscall.SIGTERM)
		if err := w.Wait(); err != nil {
			t.Fatalf("workers %d: %v", i, err)
		}
		if s := readSummary(t, filepath.Join(dir, "workers-"+strconv.Itoa(i))); s["mode"] != "live" {
			t.Errorf("workers %d summary mode %v", i, s["mode"])
		}
	}
	s := readSummary(t, filepath.Join(dir, "serve"))
	steps, completed, lost := s["steps"].(float64), s["completed"].(float64), s["lost"].(float64)
	if steps != 200 || completed != 200 || lost != 0 {
		t.Fatalf("serve summary: steps %v completed %v lost %v; want 200 200 0", steps, completed, lost)
	}
}

// Two `tasksim workers` processes, each with its own pool, share one queue through the
// embedded NATS server that serve starts: the way to spread a fleet over machines.
func TestJetStreamWorkersProcessesShareAQueue(t *testing.T) {
	t.Parallel()
	jetStreamRun(t, tasksimLink(t), 2)
}

// Against Debian's nats-server started here on loopback with -js: a run loses nothing,
// and the stream and consumer, read back from the server, have Stepflow's layout.
func TestJetStreamExternalServer(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("TASKSIM_REQUIRE_NATS") != "" {
			t.Fatal("nats-server not found and TASKSIM_REQUIRE_NATS is set")
		}
		t.Skip("nats-server not installed (apt-get install nats-server)")
	}
	ns, err := natsqueue.StartExternal(bin, t.TempDir(), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	url := ns.URL
	tasksim := tasksimLink(t)
	jetStreamRun(t, tasksim, 1, "--nats", url)

	nc, js, err := natsqueue.Connect(url, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, natsqueue.DefaultStream)
	if err != nil {
		t.Fatalf("stream %s on the server: %v", natsqueue.DefaultStream, err)
	}
	si, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(si.Config.Subjects) != 1 || si.Config.Subjects[0] != "STEPFLOW_TASKS.tasks" || si.Config.Retention != jetstream.WorkQueuePolicy {
		t.Errorf("stream as the server has it: subjects %v retention %v; want [STEPFLOW_TASKS.tasks] WorkQueue", si.Config.Subjects, si.Config.Retention)
	}
	if si.State.Msgs != 0 {
		t.Errorf("the stream still holds %d messages after the run", si.State.Msgs)
	}
	c, err := st.Consumer(ctx, natsqueue.DefaultConsumer)
	if err != nil {
		t.Fatalf("consumer %s on the server: %v", natsqueue.DefaultConsumer, err)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cc := ci.Config; cc.Durable != "stepflow-default" || cc.FilterSubject != "STEPFLOW_TASKS.tasks" ||
		cc.AckPolicy != jetstream.AckExplicitPolicy || cc.AckWait != 5*time.Second {
		t.Errorf("consumer as the server has it: durable %q filter %q ack %v wait %v", cc.Durable, cc.FilterSubject, cc.AckPolicy, cc.AckWait)
	}
}
