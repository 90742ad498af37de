package scenarios

// Defaults. Those SCENARIOS.md states are the reference behaviour (PROTOCOL.md); the rest
// are choices made here, where the contract is silent, listed so that the README can too:
//
//   - duration: 1h. A cap, not a target: a run ends once every step has settled.
//   - workers omitted: one pool `default` of 10 python workers. An entry's pool: `default`.
//     An entry's count: 10. `workers: []` is an error (no one could run anything).
//   - components: a load stream whose component has no `components:` entry gets an
//     implicit one with the component defaults, routed to the only pool; with several
//     pools that is an error (which pool is ambiguous). A component's pool: the only pool
//     (an error with several pools).
//   - load: component: the only component declared; with none declared, `/default`.
//     tasks: 1000. arrival: poisson; rate: 100/s for poisson and constant. at: 0s.
//     payload: 512B.
//   - faults: a target's pool: the only pool (an error with several). A target with none
//     of fraction, count, workers is the whole pool; fraction must then be > 0 and count
//     >= 1, since 0 would otherwise read as "whole pool". A count may not exceed the pool.
//     heartbeat_loss and duplicate_delivery rate: 100%. orchestrator_restart downtime:
//     1s. crash without restart_after: stays down. partition mode: blackhole (v1's
//     meaning, as SCENARIOS.md says); a blackhole longer than TCP's give-up (about 15
//     minutes, sim.TCPGiveUp) breaks the connections then, as a reset does.
//   - backoff: factor is only for kind exponential (default 2, must be >= 1); for
//     constant the delay is min. min <= max for every kind.
//   - clock_drift is a fraction in [0, 1] (timers run slow by that much).
//   - Limits, to keep a typo from exhausting memory: a pool has at most 1,000,000
//     workers, a stream at most 1,000,000,000 tasks, a payload at most 1GiB.
//   - A --set with an empty value (`--set seed=`) sets null, which restores the default.

import (
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

const (
	defaultPoolName      = "default"
	defaultPoolCount     = 10
	defaultComponentPath = "/default"
	defaultTasks         = 1000
	defaultRatePerSec    = 100
	defaultPayload       = 512
	maxWorkers           = 1_000_000
	maxTasks             = 1_000_000_000
)

// defaultConfig is a Config with every top-level default; lists are filled per entry.
func defaultConfig() sim.Config {
	return sim.Config{
		Seed:     1,
		Duration: time.Hour,
		Orchestrator: sim.OrchestratorConfig{
			Detector:            model.DetectorScan,
			HeartbeatTimeout:    5 * time.Second,
			HeartbeatInterval:   time.Second,
			QueueTimeout:        30 * time.Second,
			ExecutionTimeout:    0,
			MaxTransportRetries: 3,
			MaxComponentRetries: 3,
			Backoff: model.Backoff{
				Kind: model.BackoffFibonacci,
				Min:  time.Second,
				Max:  10 * time.Second,
			},
			TaskIDs:        sim.TaskIDsReuse,
			Discovery:      true,
			UnhealthyAfter: 5,
			MaxTasksPerRun: sim.DefaultMaxTasksPerRun,
			RecoveryTime:   time.Second,
		},
		Network: sim.NetworkConfig{
			Latency:         sim.Dist{Kind: sim.DistLognormal, Median: time.Millisecond, P99: 10 * time.Millisecond},
			Wire:            true,
			RPCTimeout:      10 * time.Second,
			LossModel:       sim.LossRetransmit,
			RetransmitAfter: sim.DefaultRetransmitAfter,
		},
		Queue: sim.QueueConfig{Kind: sim.QueuePull, AckWait: 30 * time.Second, PipeBytes: sim.DefaultPipeBytes},
	}
}

// defaultBackoffFactor is the exponential backoff's growth per attempt.
const defaultBackoffFactor = 2

func defaultPool(name string) sim.PoolConfig {
	return sim.PoolConfig{
		Pool:        name,
		Count:       defaultPoolCount,
		Flavour:     model.FlavourPython,
		Concurrency: model.FlavourPython.DefaultConcurrency(),
		Ack:         sim.AckOnReceipt,
		Start:       sim.Dist{Kind: sim.DistUniform, Min: 0, Max: 5 * time.Second},
	}
}

func defaultComponent(path, pool string) sim.ComponentConfig {
	return sim.ComponentConfig{
		Path:        path,
		ComponentID: path,
		Pool:        pool,
		Duration:    sim.Dist{Kind: sim.DistLognormal, Median: 2 * time.Second, P99: 20 * time.Second},
		Retriable:   true,
		// Every failure a ValueError: COMPONENT_FAILED in every flavour, as in format v1.
		Errors: [model.NumComponentErrors]float64{model.ErrorValue: 1},
	}
}

func defaultLoad() sim.LoadConfig {
	return sim.LoadConfig{
		Tasks:        defaultTasks,
		Arrival:      sim.ArrivalPoisson,
		RatePerSec:   defaultRatePerSec,
		PayloadBytes: defaultPayload,
		StepsPerRun:  1,
	}
}
