package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// load loads a built-in scenario with overrides, failing the test on any error.
func load(t testing.TB, name string, sets ...string) *sim.Config {
	t.Helper()
	data, ok := scenarios.Builtin(name)
	if !ok {
		t.Fatalf("no built-in scenario %q", name)
	}
	cfg, err := scenarios.Load(name+".yaml", data, sets)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return cfg
}

// loadYAML loads a scenario written in the test.
func loadYAML(t testing.TB, yaml string, sets ...string) *sim.Config {
	t.Helper()
	cfg, err := scenarios.Load("test.yaml", []byte(yaml), sets)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg
}

func run(t testing.TB, cfg *sim.Config) *sim.Result {
	t.Helper()
	res, err := sim.Run(cfg, sim.Options{})
	if err != nil {
		t.Fatalf("run %s: %v", cfg.Name, err)
	}
	return res
}

// TestBuiltinsHoldTheirExpectations runs every built-in scenario but scale and checks
// that its expectations hold.
func TestBuiltinsHoldTheirExpectations(t *testing.T) {
	for _, name := range scenarios.Names() {
		if name == "scale" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			cfg := load(t, name)
			res := run(t, cfg)
			ok, err := res.Summary.Check(cfg.Expect)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				for _, e := range res.Summary.Expectations {
					if !e.OK {
						t.Errorf("%s: observed %v", e.Expr, e.Observed)
					}
				}
			}
		})
	}
}

// TestDeterminism runs each built-in twice, under GOMAXPROCS 1 and 2, and with another
// seed: the same scenario and seed must give the same trace hash and summary.
func TestDeterminism(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every built-in scenario four times")
	}
	for _, name := range scenarios.Names() {
		if name == "scale" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			prev := runtime.GOMAXPROCS(1)
			a := run(t, load(t, name)).Summary
			runtime.GOMAXPROCS(2)
			b := run(t, load(t, name)).Summary
			runtime.GOMAXPROCS(prev)
			if a.TraceHash != b.TraceHash {
				t.Fatalf("same seed, different trace hash: %s vs %s", a.TraceHash, b.TraceHash)
			}
			a.Perf, b.Perf = sim.Perf{}, sim.Perf{}
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("same seed, different summary:\n%v\n%v", a, b)
			}
			other := load(t, name)
			other.Seed++
			if c := run(t, other).Summary; c.TraceHash == a.TraceHash {
				t.Fatalf("seeds %d and %d gave the same trace hash %s", a.Seed, other.Seed, a.TraceHash)
			}
		})
	}
}

// crashes is a scenario where a third of the workers crash mid-run, with fixed latency so
// that detection times are exact.
const crashes = `
name: crashes
duration: 10m
network:
  latency: 1ms
workers:
  - pool: p
    count: 30
    flavour: strict
    start: 0s
components:
  - path: /c
    duration: 60s
load:
  - component: /c
    tasks: 100
    arrival: {process: burst}
faults:
  - at: 12500ms
    crash: {pool: p, fraction: 30%}
`

func TestDeadlineDetectsExactlyAtTheTimeout(t *testing.T) {
	s := run(t, loadYAML(t, crashes, "orchestrator.detector=deadline")).Summary
	d := s.Detection.SinceLastHeartbeat
	if d.Count == 0 || d.Count != s.Timeouts.Heartbeat {
		t.Fatalf("heartbeat timeouts %d, detections %d", s.Timeouts.Heartbeat, d.Count)
	}
	if d.Min != 5 || d.Max != 5 {
		t.Fatalf("deadline detection since last heartbeat in [%v, %v], want exactly 5s", d.Min, d.Max)
	}
	// Heartbeats are sent on whole seconds after each claim (+1ms latency), the crash is at
	// 12.5s, so the last heartbeat arrived 0.5s or less before it: detection since crash is
	// 4.5s to 5s.
	c := s.Detection.SinceCrash
	if c.Count != d.Count || c.Min < 4.5 || c.Max > 5 {
		t.Fatalf("since crash: %+v", c)
	}
	if s.MissedDetections != 0 || s.FalseDetections != 0 {
		t.Fatalf("missed %d, false %d", s.MissedDetections, s.FalseDetections)
	}
}

func TestScanDetectsWithinTwiceTheTimeout(t *testing.T) {
	s := run(t, loadYAML(t, crashes, "orchestrator.detector=scan")).Summary
	d := s.Detection.SinceLastHeartbeat
	if d.Count == 0 || d.Count != s.Timeouts.Heartbeat {
		t.Fatalf("heartbeat timeouts %d, detections %d", s.Timeouts.Heartbeat, d.Count)
	}
	if d.Min <= 5 || d.Max > 10 {
		t.Fatalf("scan detection since last heartbeat in [%v, %v], want within (5s, 10s]", d.Min, d.Max)
	}
	// The crash at 12.5s is detected by the scan at 20s (the scan at 15s still saw the
	// heartbeats of 12-12.5s): 7.5s after the crash for every task.
	c := s.Detection.SinceCrash
	if c.Min != 7.5 || c.Max != 7.5 {
		t.Fatalf("since crash in [%v, %v], want exactly 7.5s", c.Min, c.Max)
	}
}

// TestFalseDetectionsMatchTheory compares the simulator with the closed form. Strict
// workers heartbeat every i = 1s without waiting for answers; each heartbeat is lost
// independently with probability p; the deadline detector fails a task T = 5s after the
// last heartbeat that arrived. With a fixed latency, heartbeat k+5 arrives exactly at the
// deadline set by heartbeat k, and the deadline (set earlier) runs first: so a live task
// is failed when the T/i - 1 = 4 heartbeats after an arrived one are all lost, with
// probability p^4 per arrived heartbeat (not p^5).
func TestFalseDetectionsMatchTheory(t *testing.T) {
	const p = 0.3
	cfg := loadYAML(t, `
name: theory
duration: 2h
orchestrator: {detector: deadline, task_ids: per_attempt, max_transport_retries: 1000}
network: {latency: 1ms}
workers:
  - {pool: p, count: 50, flavour: strict, start: 0s}
components:
  - {path: /c, duration: 600s}
load:
  - {component: /c, tasks: 200, arrival: {process: burst}}
faults:
  - {at: 0s, for: 2h, heartbeat_loss: {pool: p, rate: 30%}}
`)
	s := run(t, cfg).Summary
	sent := float64(s.Messages["TaskHeartbeatRequest"].Count)
	// Every arrived heartbeat of an executing task opens one window of 4 (claims are
	// heartbeats too; the few windows cut short by a task's end are under 1%).
	arrived := sent * (1 - p)
	want := arrived * math.Pow(p, 4)
	sigma := math.Sqrt(want * (1 - math.Pow(p, 4)))
	got := float64(s.FalseDetections)
	t.Logf("heartbeats sent %.0f, false detections %.0f, theory p^4: %.1f ± %.1f, p^5 would give %.1f", sent, got, want, sigma, arrived*math.Pow(p, 5))
	if math.Abs(got-want) > 4*sigma+0.01*want {
		t.Fatalf("false detections %.0f, theory %.1f ± %.1f (4 sigma + 1%% end effects)", got, want, 4*sigma)
	}
}

// TestHazardsVanishUnderStrictSettings runs hazard scenarios with the stricter choice
// their description names and checks that the hazard is gone.
func TestHazardsVanishUnderStrictSettings(t *testing.T) {
	cases := []struct {
		scenario string
		set      []string
		paths    []string
	}{
		{"hazard-reused-ids", []string{"orchestrator.task_ids=per_attempt"}, []string{"early_timeouts", "stale_results"}},
		{"hazard-python-abort", []string{"workers[0].flavour=strict", "orchestrator.task_ids=per_attempt"}, []string{"stale_results", "duplicate_results"}},
		{"scan-vs-deadline", []string{"orchestrator.detector=deadline"}, []string{"false_detections"}},
		// Hazard 6: a pipe of about 25 assignments leaves the backlog in the queue.
		{"hazard-hoarding", []string{"queue.pipe_bytes=16KiB"}, []string{"timeouts.queue", "retries.transport"}},
		// Hazard 8: a strict worker's heartbeats carry a deadline and do not wait for answers.
		{"hazard-silent-heartbeat", []string{"workers[0].flavour=strict"}, []string{"false_detections", "timeouts.heartbeat", "double_executions"}},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			s := run(t, load(t, c.scenario, c.set...)).Summary
			for _, p := range c.paths {
				if v, err := s.Value(p); err != nil || v != 0 {
					t.Errorf("%s with %v: %s = %v (%v), want 0", c.scenario, c.set, p, v, err)
				}
			}
		})
	}
}

// TestClockDriftStretchesHeartbeats: a pool whose clocks run 100% slow heartbeats every
// 6s instead of 3s, longer than the 5s timeout, so the deadline detector fails its live
// tasks; the same pool on true clocks keeps every task.
func TestClockDriftStretchesHeartbeats(t *testing.T) {
	const yaml = `
name: drift
orchestrator: {detector: deadline}
network: {latency: 1ms}
workers:
  - {pool: p, count: 5, flavour: strict, heartbeat_interval: 3s, start: 0s}
components:
  - {path: /c, duration: 20s}
load:
  - {component: /c, tasks: 5, arrival: {process: burst}}
`
	steady := run(t, loadYAML(t, yaml)).Summary
	if steady.FalseDetections != 0 || steady.Completed != 5 {
		t.Fatalf("true clocks: false detections %d, completed %d", steady.FalseDetections, steady.Completed)
	}
	slow := run(t, loadYAML(t, yaml, "workers[0].clock_drift=100%")).Summary
	if slow.FalseDetections == 0 {
		t.Fatalf("clocks 100%% slow: no false detections")
	}
	// The first heartbeat after the claim is due 6s later; the deadline is 5s after the
	// claim arrived, so every detection is exactly 5s after the last heartbeat.
	if d := slow.Detection.SinceLastHeartbeat; d.Min != 5 || d.Max != 5 {
		t.Fatalf("detections since last heartbeat in [%v, %v], want 5s", d.Min, d.Max)
	}
}

// traceRecord is a line of trace.jsonl with exactly the fields docs/trace.md documents.
type traceRecord struct {
	T          *float64 `json:"t"`
	Event      string   `json:"event"`
	Node       string   `json:"node"`
	Pool       string   `json:"pool"`
	Slot       *int     `json:"slot"`
	Timer      *uint64  `json:"timer"`
	Exec       *uint32  `json:"exec"`
	Fault      string   `json:"fault"`
	FaultIndex *int     `json:"fault_index"`
	Task       *uint64  `json:"task"`
	Attempt    *uint32  `json:"attempt"`
	Msg        string   `json:"msg"`
	Bytes      *int     `json:"bytes"`
	Sends      []struct {
		From    string `json:"from"`
		To      string `json:"to"`
		Task    uint64 `json:"task"`
		Attempt uint32 `json:"attempt"`
		Msg     string `json:"msg"`
		Bytes   int    `json:"bytes"`
	} `json:"sends"`
	Lifecycle []struct {
		Kind    string  `json:"kind"`
		Node    string  `json:"node"`
		Worker  string  `json:"worker"`
		Step    *int64  `json:"step"`
		Task    uint64  `json:"task"`
		Attempt *uint32 `json:"attempt"`
		Reason  string  `json:"reason"`
	} `json:"lifecycle"`
}

// TestTraceMatchesTheRun writes trace.jsonl: one line per kernel event (as many as the
// summary counts), each a JSON object of the documented fields only, naming its nodes,
// with the lifecycle the summary counts: the crashes, the steps, the timeouts, the
// claims and the retries.
func TestTraceMatchesTheRun(t *testing.T) {
	var buf bytes.Buffer
	cfg := loadYAML(t, crashes)
	res, err := sim.Run(cfg, sim.Options{Trace: &buf})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	if int64(len(lines)) != s.Perf.Events {
		t.Fatalf("trace has %d lines for %d events", len(lines), s.Perf.Events)
	}
	if duplicateKey([]byte(`{"a":{"b":1,"c":[1]},"a":2}`)) != "a" || duplicateKey([]byte(`{"x":[{"a":1},{"a":1}],"a":0}`)) != "" {
		t.Fatal("duplicateKey is wrong")
	}
	node := regexp.MustCompile(`^(orchestrator|worker-[0-9]+)$`)
	events := map[string]int{}
	life := map[string]int{}
	var heartbeatTimeouts, sends int64
	last := -1.0
	for i, l := range lines {
		var ev traceRecord
		dec := json.NewDecoder(bytes.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("trace line %d %s: %v", i+1, l, err)
		}
		if ev.T == nil || *ev.T < last || ev.Event == "" {
			t.Fatalf("line %d: no time, time going back, or no event: %s", i+1, l)
		}
		last = *ev.T
		if k := duplicateKey(l); k != "" {
			t.Fatalf("line %d has %q twice: %s", i+1, k, l)
		}
		events[ev.Event]++
		if ev.Event != "fault_start" && ev.Event != "fault_end" && !node.MatchString(ev.Node) {
			t.Fatalf("line %d: node %q: %s", i+1, ev.Node, l)
		}
		if strings.HasPrefix(ev.Node, "worker-") != (ev.Pool == "p") {
			t.Fatalf("line %d: a worker line without its pool, or a pool elsewhere: %s", i+1, l)
		}
		if ev.Event == "deliver" && (ev.Msg == "" || ev.Task == nil || ev.Bytes == nil) {
			t.Fatalf("line %d: a delivery without its message: %s", i+1, l)
		}
		for _, m := range ev.Sends {
			sends++
			// (An event at one node can make another send: a worker's stream taking the
			// next assignment from the orchestrator.)
			if !node.MatchString(m.From) || !node.MatchString(m.To) || m.Msg == "" {
				t.Fatalf("line %d: send %+v", i+1, m)
			}
		}
		for _, lc := range ev.Lifecycle {
			life[lc.Kind]++
			if !node.MatchString(lc.Node) {
				t.Fatalf("line %d: lifecycle node %q", i+1, lc.Node)
			}
			if lc.Kind == "timed_out" && lc.Reason == "heartbeat" {
				heartbeatTimeouts++
			}
		}
	}
	if events["deliver"] == 0 || events["timer"] == 0 || events["exec_done"] == 0 || events["fault_start"] != 1 ||
		events["worker_start"] != 30 || life["start"] != 30 || sends == 0 {
		t.Errorf("events %v, %d sends, lifecycle %v", events, sends, life)
	}
	if life["crash"] != 9 {
		t.Errorf("trace shows %d crashes, want 9 (30%% of 30 workers)", life["crash"])
	}
	if int64(life["step_submitted"]) != s.Steps || int64(life["step_settled"]) != s.Completed+s.Failed {
		t.Errorf("trace: %d steps submitted, %d settled; summary %d, %d+%d", life["step_submitted"], life["step_settled"],
			s.Steps, s.Completed, s.Failed)
	}
	if heartbeatTimeouts != s.Timeouts.Heartbeat || heartbeatTimeouts == 0 ||
		int64(life["retry_scheduled"]) != s.Retries.Transport+s.Retries.Component || life["claimed"] < 100 {
		t.Errorf("trace: %d heartbeat timeouts, %d retries, %d claims; summary %d, %d", heartbeatTimeouts,
			life["retry_scheduled"], life["claimed"], s.Timeouts.Heartbeat, s.Retries.Transport+s.Retries.Component)
	}
	// Tracing must not change the run.
	if plain := run(t, loadYAML(t, crashes)).Summary; plain.TraceHash != res.Summary.TraceHash {
		t.Fatalf("trace hash with --trace %s, without %s", res.Summary.TraceHash, plain.TraceHash)
	}
}

// duplicateKey returns a key that an object in the JSON text b has twice, if any.
func duplicateKey(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return k
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: in an object, a key comes next.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}

// TestComponentBreakdownAddsUp checks that the per-component counts behind the labelled
// metrics sum to the summary's totals.
func TestComponentBreakdownAddsUp(t *testing.T) {
	res := run(t, load(t, "default"))
	s := res.Summary
	var sum sim.ComponentStats
	for _, c := range res.Metrics.Components {
		sum.Success += c.Success
		sum.Failure += c.Failure
		sum.QueueTimeouts += c.QueueTimeouts
		sum.HeartbeatTimeouts += c.HeartbeatTimeouts
		sum.RetriesTransport += c.RetriesTransport
		sum.RetriesComponent += c.RetriesComponent
	}
	if sum.Success != s.Completed || sum.Failure != s.Failed || sum.QueueTimeouts != s.Timeouts.Queue ||
		sum.HeartbeatTimeouts != s.Timeouts.Heartbeat || sum.RetriesTransport != s.Retries.Transport ||
		sum.RetriesComponent != s.Retries.Component {
		t.Fatalf("component sums %+v do not match summary %+v", sum, s)
	}
	if len(res.Metrics.Pools) != 2 || res.Metrics.Pools[0].ConnectedWorkers != 40 || res.Metrics.Pools[1].ConnectedWorkers != 20 {
		t.Fatalf("pools %+v, want python 40 and rust 20 connected", res.Metrics.Pools)
	}
}
