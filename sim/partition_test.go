package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// traceLine is one thing a line of trace.jsonl records, flattened: the kernel event
// (and, when it delivered one, the message as a "deliver"), each message it sent (a
// "send" at the sender) and each lifecycle event (at the node that reports it). Node is
// the node number: 0 the orchestrator, N for worker-N.
type traceLine struct {
	T    float64
	Kind string
	Node int
	Msg  string
}

func traceNodeNumber(t *testing.T, name string) int {
	t.Helper()
	if name == "orchestrator" || name == "" {
		return 0
	}
	var n int
	if _, err := fmt.Sscanf(name, "worker-%d", &n); err != nil {
		t.Fatalf("trace node %q: %v", name, err)
	}
	return n
}

// traced runs cfg with a trace and returns the summary and the trace's records.
func traced(t *testing.T, cfg *sim.Config) (sim.Summary, []traceLine) {
	t.Helper()
	var buf bytes.Buffer
	res, err := sim.Run(cfg, sim.Options{Trace: &buf})
	if err != nil {
		t.Fatal(err)
	}
	var out []traceLine
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var ev traceRecord
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("trace line %q: %v", l, err)
		}
		at, node := *ev.T, traceNodeNumber(t, ev.Node)
		out = append(out, traceLine{at, ev.Event, node, ev.Msg})
		if ev.Msg != "" && ev.Event != "deliver" {
			out = append(out, traceLine{at, "deliver", node, ev.Msg})
		}
		for _, m := range ev.Sends {
			out = append(out, traceLine{at, "send", traceNodeNumber(t, m.From), m.Msg})
		}
		for _, lc := range ev.Lifecycle {
			out = append(out, traceLine{at, lc.Kind, traceNodeNumber(t, lc.Node), ""})
		}
	}
	return res.Summary, out
}

// instants returns when events of kind with message msg happened at node.
func instants(lines []traceLine, kind string, node int, msg string) []string {
	var out []string
	for _, l := range lines {
		if l.Kind == kind && l.Node == node && l.Msg == msg {
			out = append(out, fmt.Sprintf("%.1f", l.T))
		}
	}
	return out
}

// One python worker runs one 20s task over a link of a constant 400ms each way: it
// claims at 0.8s and heartbeats 1s after each answer, so at 9.8s, answered at 10.6s.
const oneLongTask = `
name: one-long-task
workers: [{pool: p, count: 1, flavour: python, concurrency: 1, start: 0s}]
components: [{path: /c, pool: p, duration: 20s}]
load: [{component: /c, tasks: 1, arrival: {process: burst}, at: 0s}]
network: {latency: 400ms}
orchestrator: {discovery: off}
faults: [{at: 10500ms, for: 3200ms, partition: {pool: p, mode: MODE}}]
`

// A reset partition breaks the worker's connection at 10.5s: the heartbeat in flight
// (sent at 9.8s) fails UNAVAILABLE at once, and so does each one made until the heal at
// 13.7s (11.5s, 12.5s, 13.5s: python sleeps 1s after each answer). The stream breaks at
// 10.5s with its read outstanding; python reconnects 2s later, at 12.5s, which fails at
// once, and again at 14.5s, which the orchestrator takes (14.9s). The heartbeat of
// 14.5s reaches the orchestrator at 14.9s, before the scan of 15s, so nothing is failed.
func TestResetPartitionFailsCallsAtOnce(t *testing.T) {
	s, lines := traced(t, loadYAML(t, oneLongTaskMode("reset")))
	const worker = 1
	if got, want := instants(lines, "connection_broken", worker, ""), []string{"10.5"}; !slices.Equal(got, want) {
		t.Errorf("connection broken at %v, want %v", got, want)
	}
	beats := instants(lines, "deliver", worker, "TaskHeartbeatResponse")
	if want := []string{"1.6", "3.4", "5.2", "7.0", "8.8", "10.5", "11.5", "12.5", "13.5", "15.3", "17.1", "18.9", "20.7"}; !slices.Equal(beats, want) {
		t.Errorf("heartbeat answers at %v, want %v", beats, want)
	}
	if got, want := instants(lines, "send", worker, "PullTasksRequest"), []string{"0.0", "12.5", "14.5"}; !slices.Equal(got, want) {
		t.Errorf("PullTasks sent at %v, want %v", got, want)
	}
	if s.Unavailable != 4 || s.Timeouts.Heartbeat != 0 || s.Completed != 1 || s.Attempts != 1 {
		t.Errorf("unavailable %d heartbeat timeouts %d completed %d attempts %d; want 4, 0, 1, 1",
			s.Unavailable, s.Timeouts.Heartbeat, s.Completed, s.Attempts)
	}
}

// A blackhole holds everything: the answer to the heartbeat of 9.8s, sent at 10.2s,
// arrives after the heal (13.7s + 0.4s); no call fails, the stream survives.
func TestBlackholePartitionHoldsCalls(t *testing.T) {
	s, lines := traced(t, loadYAML(t, oneLongTaskMode("blackhole")))
	const worker = 1
	if got := instants(lines, "connection_broken", worker, ""); len(got) != 0 {
		t.Errorf("connection broken at %v, want never", got)
	}
	beats := instants(lines, "deliver", worker, "TaskHeartbeatResponse")
	if want := []string{"1.6", "3.4", "5.2", "7.0", "8.8", "14.1", "15.9", "17.7", "19.5", "21.3"}; !slices.Equal(beats, want) {
		t.Errorf("heartbeat answers at %v, want %v", beats, want)
	}
	if got, want := instants(lines, "send", worker, "PullTasksRequest"), []string{"0.0"}; !slices.Equal(got, want) {
		t.Errorf("PullTasks sent at %v, want %v", got, want)
	}
	if s.Unavailable != 0 || s.Timeouts.Heartbeat != 0 || s.Completed != 1 {
		t.Errorf("unavailable %d heartbeat timeouts %d completed %d; want 0, 0, 1", s.Unavailable, s.Timeouts.Heartbeat, s.Completed)
	}
}

func oneLongTaskMode(mode string) string {
	return string(bytes.ReplaceAll([]byte(oneLongTask), []byte("MODE"), []byte(mode)))
}

// When the orchestrator process dies at 10.5s, the answer it sent at 10.2s is lost with
// the connection (it would have arrived at 10.6s); the reset reaches the worker one trip
// later, at 10.9s, failing its heartbeat in flight and its stream with UNAVAILABLE. The
// heartbeat of 11.9s reaches the dead orchestrator and is refused (answered at 12.7s);
// the stream reconnects 2s after it failed, at 12.9s, once the orchestrator is back.
func TestOrchestratorCrashFailsCallsAtOnce(t *testing.T) {
	yaml := string(bytes.ReplaceAll([]byte(oneLongTask),
		[]byte("{at: 10500ms, for: 3200ms, partition: {pool: p, mode: MODE}}"),
		[]byte("{at: 10500ms, orchestrator_restart: {downtime: 2s}}")))
	_, lines := traced(t, loadYAML(t, yaml))
	const worker = 1
	if got, want := instants(lines, "connection_broken", worker, ""), []string{"10.5"}; !slices.Equal(got, want) {
		t.Errorf("connection broken at %v, want %v", got, want)
	}
	beats := instants(lines, "deliver", worker, "TaskHeartbeatResponse")
	if len(beats) < 7 || !slices.Equal(beats[:7], []string{"1.6", "3.4", "5.2", "7.0", "8.8", "10.9", "12.7"}) {
		t.Errorf("heartbeat answers at %v, want 1.6 3.4 5.2 7.0 8.8 10.9 12.7 first", beats)
	}
	if got := instants(lines, "send", worker, "PullTasksRequest"); len(got) < 2 || !slices.Equal(got[:2], []string{"0.0", "12.9"}) {
		t.Errorf("PullTasks sent at %v, want 0.0 and 12.9 first", got)
	}
}

// Hazard 7 (hazard-broken-pipe): the 1,000 tasks are all dispatched at 5s; the reset
// partition at 8s breaks five workers' streams and drops what their pipes hold, 150
// assignments. Each fails at its queue deadline (35s) and is retried; nothing is lost.
// With a one-byte pipe each broken stream held only the send in progress.
func TestBrokenStreamDropsItsPipe(t *testing.T) {
	s := run(t, load(t, "hazard-broken-pipe")).Summary
	if s.DroppedInPipe != 150 || s.Timeouts.Queue != 150 || s.Lost != 0 || s.Completed != 1000 {
		t.Fatalf("dropped %d, queue timeouts %d, lost %d, completed %d; want 150, 150, 0, 1000",
			s.DroppedInPipe, s.Timeouts.Queue, s.Lost, s.Completed)
	}
	one := run(t, load(t, "hazard-broken-pipe", "queue.pipe_bytes=1B")).Summary
	if one.DroppedInPipe != 5 || one.Timeouts.Queue != 5 || one.Lost != 0 {
		t.Fatalf("1B pipe: dropped %d, queue timeouts %d, lost %d; want 5, 5, 0", one.DroppedInPipe, one.Timeouts.Queue, one.Lost)
	}
}

// Hazard 7 at exact instants: every assignment dropped with a broken pipe fails at its
// queue deadline, exactly 30s after it was dispatched, and its retry is dispatched one
// backoff (1s) later; no other assignment times out.
func TestBrokenPipeTimesOutThirtySecondsAfterDispatch(t *testing.T) {
	var buf bytes.Buffer
	res, err := sim.Run(load(t, "hazard-broken-pipe"), sim.Options{Trace: &buf})
	if err != nil {
		t.Fatal(err)
	}
	type attempt struct {
		task uint64
		n    uint32
	}
	dispatched := map[attempt]float64{}
	var timeouts []attempt
	timedOutAt := map[attempt]float64{}
	retriedAt := map[attempt]float64{}
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var ev traceRecord
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("trace line %q: %v", l, err)
		}
		for _, lc := range ev.Lifecycle {
			if lc.Attempt == nil {
				continue
			}
			a := attempt{lc.Task, *lc.Attempt}
			switch {
			case lc.Kind == "dispatched":
				dispatched[a] = *ev.T
				if lc.Reason == "transport" {
					retriedAt[attempt{a.task, a.n - 1}] = *ev.T
				}
			case lc.Kind == "timed_out" && lc.Reason == "queue":
				timeouts = append(timeouts, a)
				timedOutAt[a] = *ev.T
			}
		}
	}
	if len(timeouts) != 150 || res.Summary.DroppedInPipe != 150 {
		t.Fatalf("%d queue timeouts, %d dropped in pipes; want 150 and 150", len(timeouts), res.Summary.DroppedInPipe)
	}
	const ns = 1e-9
	for _, a := range timeouts {
		d, ok := dispatched[a]
		if !ok {
			t.Fatalf("task %d attempt %d timed out but was never dispatched", a.task, a.n)
		}
		if got := timedOutAt[a] - d; got < 30-ns || got > 30+ns {
			t.Errorf("task %d attempt %d: dispatched at %.9fs, queue timeout %.9fs later, want 30s", a.task, a.n, d, got)
		}
		r, ok := retriedAt[a]
		if !ok {
			t.Errorf("task %d attempt %d: timed out at %.9fs, never retried", a.task, a.n, timedOutAt[a])
		} else if got := r - timedOutAt[a]; got < 1-ns || got > 1+ns {
			t.Errorf("task %d attempt %d: retried %.9fs after its timeout, want 1s", a.task, a.n, got)
		}
	}
}
