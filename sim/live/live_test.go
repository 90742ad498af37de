package live

import (
	"context"
	"testing"
	"time"

	"github.com/tasksim/tasksim/sim"
)

// smallScenario is a scenario built by hand: the live package sits below scenarios.
func smallScenario(workers, steps int, flavour sim.Flavour, det sim.Detector) *sim.Config {
	return &sim.Config{
		Name: "live-test", Seed: 1, Duration: 60 * time.Second,
		Orchestrator: sim.OrchestratorConfig{Detector: det, HeartbeatTimeout: 5 * time.Second,
			HeartbeatInterval: time.Second, QueueTimeout: 30 * time.Second, MaxTransportRetries: 3,
			Backoff: sim.BackoffConfig{Kind: sim.BackoffFibonacci, Min: time.Second, Max: 10 * time.Second},
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
	cfg := smallScenario(5, 50, sim.FlavourPython, sim.DetectorDeadline)
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
