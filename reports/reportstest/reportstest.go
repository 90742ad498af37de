// Package reportstest holds the runs the reports packages test with: one small simulated
// crash-storm run, shared, and one built by hand with numbers the tests know.
package reportstest

import (
	"sync"
	"testing"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/latency"
)

// SmallSets shrink crash-storm so that a run takes milliseconds and still crashes workers.
var SmallSets = []string{"load[0].tasks=600", "workers[0].count=20"}

// Simulate runs a built-in scenario with overrides and checks its expectations.
func Simulate(t testing.TB, name string, seed uint64, sets []string) (*sim.Config, *sim.Result) {
	t.Helper()
	file, data, err := scenarios.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := scenarios.Load(file, data, sets)
	if err != nil {
		t.Fatal(err)
	}
	if seed != 0 {
		cfg.Seed = seed
	}
	res, err := sim.Run(cfg, sim.Options{})
	if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	if _, err := res.Summary.Check(cfg.Expect); err != nil {
		t.Fatal(err)
	}
	return cfg, res
}

var (
	smallRunOnce sync.Once
	smallRun     *reports.Run
)

// SmallRun is one small crash-storm run, simulated once for the package's tests.
func SmallRun(t testing.TB) *reports.Run {
	t.Helper()
	smallRunOnce.Do(func() {
		cfg, res := Simulate(t, "crash-storm", 1, SmallSets)
		smallRun = reports.NewRun(cfg, res, "crash-storm", SmallSets)
	})
	if smallRun == nil {
		t.Fatal("the shared test run failed")
	}
	r := *smallRun
	return &r
}

// HandRun is a run built by hand, with numbers the test knows.
func HandRun() *reports.Run {
	rec := func(ds ...time.Duration) *latency.Recorder {
		r := latency.New()
		for _, d := range ds {
			r.Record(d)
		}
		return r
	}
	s := sim.Summary{
		Scenario: "hand", Seed: 7, TraceHash: "abc", Steps: 10, Completed: 8, Failed: 1, Lost: 1, CompletedRatio: 0.8,
		Attempts: 14, Retries: sim.Retries{Transport: 3, Component: 1}, Timeouts: sim.Timeouts{Queue: 1, Heartbeat: 3},
		FalseDetections: 1, MissedDetections: 0, DoubleExecutions: 2,
		Messages: map[string]sim.MessageStat{"TaskAssignment": {Count: 14, Bytes: 7000}, "TaskHeartbeatRequest": {Count: 40, Bytes: 3200}},
		Expectations: []sim.ExpectationResult{
			{Expr: "lost == 0", Observed: 1, OK: false},
			{Expr: "detection.since_last_heartbeat.max <= 10s", Observed: 7.5, OK: true},
			{Expr: "completed_ratio >= 0.5", Observed: 0.8, OK: true},
		},
	}
	res := &sim.Result{
		Summary:                     s,
		Timeline:                    sim.Timeline{BucketSeconds: 1, InFlight: []int64{0, 5, 9, 7, 3, 1}, Settled: []int64{0, 1, 2, 3, 2, 0}, Faults: []sim.FaultWindow{{Kind: "crash", Start: 2, End: 2}, {Kind: "heartbeat_loss", Start: 2.5, End: 4}}},
		DetectionSinceLastHeartbeat: rec(5*time.Second, 6200*time.Millisecond, 7500*time.Millisecond),
		DetectionSinceCrash:         rec(6*time.Second, 7*time.Second),
		EndToEnd:                    rec(10*time.Millisecond, 200*time.Millisecond, time.Second, 1500*time.Millisecond, 2*time.Second, 3*time.Second, 4*time.Second, 20*time.Second, 40*time.Second),
		QueueWait:                   rec(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond, 5*time.Second),
		Execution:                   rec(time.Second, 2*time.Second),
	}
	// Two crash detections and one false one, as the oracle would split the three above.
	res.Breakdown.DetectionByCause[sim.CauseCrash] = rec(5*time.Second, 6200*time.Millisecond)
	res.Breakdown.DetectionByCause[sim.CauseFalse] = rec(7500 * time.Millisecond)
	for _, q := range []struct {
		dst *sim.Quantiles
		r   *latency.Recorder
	}{
		{&res.Summary.Detection.SinceLastHeartbeat, res.DetectionSinceLastHeartbeat},
		{&res.Summary.Detection.SinceCrash, res.DetectionSinceCrash},
		{&res.Summary.Latency.EndToEnd, res.EndToEnd},
		{&res.Summary.Latency.QueueWait, res.QueueWait},
		{&res.Summary.Latency.Execution, res.Execution},
	} {
		*q.dst = sim.Quantiles{Count: q.r.Count(), Min: q.r.Min().Seconds(), P50: q.r.Quantile(0.5).Seconds(),
			P90: q.r.Quantile(0.9).Seconds(), P99: q.r.Quantile(0.99).Seconds(), Max: q.r.Max().Seconds()}
	}
	cfg := &sim.Config{Name: "hand", Seed: 7, Description: "A run built by hand.",
		Orchestrator: sim.OrchestratorConfig{Detector: model.DetectorScan, HeartbeatTimeout: 5 * time.Second, TaskIDs: sim.TaskIDsReuse},
		Workers:      []sim.PoolConfig{{Pool: "python", Count: 4}}}
	return reports.NewRun(cfg, res, "hand", nil)
}
