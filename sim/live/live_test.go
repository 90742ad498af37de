package live

import (
	"context"
	"testing"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

// smallScenario is a scenario built by hand: the live package sits below scenarios.
func smallScenario(workers, steps int, flavour model.Flavour, det model.Detector) *sim.Config {
	return &sim.Config{
		Name: "live-test", Seed: 1, Duration: 60 * time.Second,
		Orchestrator: sim.OrchestratorConfig{Detector: det, HeartbeatTimeout: 5 * time.Second,
			HeartbeatInterval: time.Second, QueueTimeout: 30 * time.Second, MaxTransportRetries: 3,
			Backoff: model.Backoff{Kind: model.BackoffFibonacci, Min: time.Second, Max: 10 * time.Second},
			TaskIDs: sim.TaskIDsReuse},
		Network: sim.NetworkConfig{Latency: sim.Dist{Kind: sim.DistConstant}, Wire: true},
		Queue:   sim.QueueConfig{Kind: sim.QueuePull, PipeBytes: sim.DefaultPipeBytes},
		Workers: []sim.PoolConfig{{Pool: "default", Count: workers, Flavour: flavour, Concurrency: 4,
			Start: sim.Dist{Kind: sim.DistConstant}}},
		Components: []sim.ComponentConfig{{Path: "/echo", Pool: "default",
			Duration: sim.Dist{Kind: sim.DistConstant, Value: 200 * time.Millisecond}}},
		Load: []sim.LoadConfig{{Component: "/echo", Tasks: steps, Arrival: sim.ArrivalBurst, PayloadBytes: 64}},
	}
}

func TestRunLiveSettlesEveryStep(t *testing.T) {
	cfg := smallScenario(5, 50, model.FlavourPython, model.DetectorDeadline)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Completed != 50 || s.Lost != 0 || s.Mode != "live" {
		t.Fatalf("completed %d lost %d mode %q: %+v", s.Completed, s.Lost, s.Mode, s)
	}
	t.Logf("wall %.2fs, lag p99 %.4fs, messages %v", s.Perf.WallSeconds, s.Live.HarnessLag.P99, s.Messages)
}

// A crash for real: the crashed workers' connections close, the deadline detector fails
// their tasks 5s after the last heartbeat that arrived (plus the harness's own lag, on a
// loaded machine), and every step is retried and completes.
func TestRunLiveCrash(t *testing.T) {
	cfg := smallScenario(10, 40, model.FlavourPython, model.DetectorDeadline)
	cfg.Components[0].Duration = sim.Dist{Kind: sim.DistConstant, Value: 4 * time.Second}
	// Assignments in a crashed worker's pipe come back at their queue timeout (hazard 7):
	// a short one keeps the test short.
	cfg.Orchestrator.QueueTimeout = 8 * time.Second
	// The load arrives once every worker is connected: a real HTTP/2 pipe holds megabytes,
	// so a burst that meets one early stream goes wholly into it (hoarding, hazard 6), and
	// the workers that crash might then hold nothing to detect.
	cfg.Load[0].At = time.Second
	cfg.Faults = []sim.FaultConfig{{Kind: sim.FaultCrash, At: 3 * time.Second, Target: sim.Target{Pool: "default", Count: 3}}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	d := s.Detection.SinceLastHeartbeat
	if s.Lost != 0 || s.Completed != 40 || s.MissedDetections != 0 || s.Detection.SinceCrash.Count == 0 {
		t.Fatalf("lost %d completed %d missed %d crash detections %d", s.Lost, s.Completed, s.MissedDetections, s.Detection.SinceCrash.Count)
	}
	// The deadline timer is set when a heartbeat is handled, 5s on, and fires as late as
	// the harness lets it: detection is within [5s, 5s + the largest lag any timer of the
	// run showed], however loaded the machine (1µs for the seconds' float rounding).
	lag := s.Live.HarnessLag.Max
	t.Logf("detection since last heartbeat %+v, harness lag max %.4fs", d, lag)
	if d.Min < 5 || d.Max > 5+lag+1e-6 {
		t.Fatalf("detection since last heartbeat %+v, want within [5s, 5s + harness lag %.4fs]", d, lag)
	}
}
