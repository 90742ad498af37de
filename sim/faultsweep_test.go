package sim_test

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// The fault sweep (README, "The fault sweep"): every fault type, alone and all at once,
// over many seeds, under the strict settings and under the reference settings.
//
//	go test ./sim -run FaultSweep -sweep.seeds 1000 -v    # the full table
//
// CI runs it with the default few seeds per fault.
var sweepSeeds = flag.Int("sweep.seeds", 3, "seeds per fault type and settings in TestFaultSweep")

// sweepBase is the system every fault hits: a python and a rust pool (or two strict
// ones), 600 steps over about 20s, faults from 5s on. Messages are not encoded to
// protobuf (wire: false): the codec is not what this sweeps, and it halves a run's cost.
const sweepBase = `
name: sweep-%s
duration: 10m
network: {wire: false}
workers:
  - pool: py
    count: 16
  - pool: rs
    flavour: rust
    count: 8
components:
  - path: /py
    pool: py
    duration: {dist: lognormal, median: 2s, p99: 12s}
    error_rate: 1%%
  - path: /rs
    pool: rs
    duration: {dist: lognormal, median: 1s, p99: 6s}
load:
  - component: /py
    tasks: 400
    arrival: {process: poisson, rate: 20/s}
  - component: /rs
    tasks: 200
    arrival: {process: poisson, rate: 10/s}
faults:
%s`

// sweepFaults are the fault types, each as the faults: section of sweepBase (clock drift
// is a pool setting, given as --set lines).
var sweepFaults = []struct {
	name   string
	faults string
	sets   []string
}{
	{name: "crash", faults: `
  - at: 10s
    crash: {pool: py, fraction: 25%}
  - at: 12s
    crash: {pool: rs, count: 2}
`},
	{name: "crash+restart", faults: `
  - at: 10s
    crash: {pool: py, fraction: 25%}
    restart_after: 5s
  - at: 12s
    crash: {pool: rs, count: 2}
    restart_after: 3s
`},
	{name: "heartbeat_loss", faults: `
  - at: 8s
    for: 12s
    heartbeat_loss: {pool: py, rate: 30%}
  - at: 8s
    for: 12s
    heartbeat_loss: {pool: rs, rate: 30%}
`},
	{name: "partition", faults: `
  - at: 10s
    for: 8s
    partition: {pool: py, count: 4}
  - at: 12s
    for: 3s
    partition: {pool: rs, count: 2}
`},
	{name: "pause", faults: `
  - at: 10s
    for: 7s
    pause: {pool: py, count: 3}
  - at: 12s
    for: 3s
    pause: {pool: rs, count: 2}
`},
	{name: "duplicate_delivery", faults: `
  - at: 5s
    for: 15s
    duplicate_delivery: {pool: py, rate: 10%}
  - at: 5s
    for: 15s
    duplicate_delivery: {pool: rs, rate: 10%}
`},
	{name: "orchestrator_restart", faults: `
  - at: 11s
    orchestrator_restart: {downtime: 3s}
`},
	{name: "clock_drift", faults: "  []\n", sets: []string{"workers[0].clock_drift=30%", "workers[1].clock_drift=10%"}},
	{name: "all", faults: `
  - at: 6s
    crash: {pool: py, count: 2}
    restart_after: 5s
  - at: 7s
    crash: {pool: rs, count: 1}
  - at: 8s
    for: 10s
    heartbeat_loss: {pool: py, rate: 30%}
  - at: 9s
    for: 6s
    partition: {pool: py, count: 2}
  - at: 10s
    for: 5s
    pause: {pool: rs, count: 2}
  - at: 5s
    for: 15s
    duplicate_delivery: {pool: py, rate: 10%}
  - at: 13s
    orchestrator_restart: {downtime: 3s}
`, sets: []string{"workers[0].clock_drift=20%"}},
}

// sweepSettings are the two sets of choices every fault runs under.
var sweepSettings = []struct {
	name string
	sets []string
}{
	{name: "strict", sets: []string{"orchestrator.detector=deadline", "orchestrator.task_ids=per_attempt",
		"workers[0].flavour=strict", "workers[1].flavour=strict"}},
	{name: "reference"},
}

// sweepFailure says how one seed went wrong, as the sweep table counts it ("" if it did
// not): lost steps, duplicate results, missed detections, and double executions that no
// pause, partition or orchestrator restart explains (named by what does explain them).
// A restarted orchestrator has lost the tables that say a worker still runs a step, and
// recovery re-dispatches it: the old copy runs on until its next heartbeat is answered.
func sweepFailure(res *sim.Result) string {
	s := &res.Summary
	var parts []string
	if s.Lost > 0 {
		parts = append(parts, "lost")
	}
	if s.DuplicateResults > 0 {
		parts = append(parts, "duplicate results")
	}
	if s.MissedDetections > 0 {
		parts = append(parts, "missed")
	}
	for c, n := range res.DoubleExecutionCauses {
		if cause := sim.DoubleCause(c); n > 0 && cause != sim.DoublePause && cause != sim.DoublePartition && cause != sim.DoubleRecovery {
			parts = append(parts, "double executions ("+cause.String()+")")
		}
	}
	return strings.Join(parts, " + ")
}

// TestFaultSweep runs every fault type under both settings over -sweep.seeds seeds. Under
// the strict settings no seed may lose a step, accept a result twice, miss a crash, or
// run a step twice but where a pause, a partition or a restart explains it. Every
// heartbeat timeout must be classified exactly once in every run. The table it logs
// (-v) also lists the reference settings' failing seeds, by what.
func TestFaultSweep(t *testing.T) {
	type cell struct {
		fault, settings string
		failing         map[string][]uint64 // outcome -> seeds
	}
	var (
		mu    sync.Mutex
		cells []*cell
	)
	t.Run("runs", func(t *testing.T) {
		for _, f := range sweepFaults {
			for _, st := range sweepSettings {
				c := &cell{fault: f.name, settings: st.name, failing: map[string][]uint64{}}
				mu.Lock()
				cells = append(cells, c)
				mu.Unlock()
				t.Run(f.name+"/"+st.name, func(t *testing.T) {
					t.Parallel()
					name := strings.NewReplacer("_", "-", "+", "-").Replace(f.name)
					cfg := loadYAML(t, fmt.Sprintf(sweepBase, name, f.faults), append(append([]string{}, f.sets...), st.sets...)...)
					for seed := uint64(1); seed <= uint64(*sweepSeeds); seed++ {
						cfg.Seed = seed
						res := run(t, cfg)
						s := &res.Summary
						checkTimeoutsExplained(t, fmt.Sprintf("%s/%s seed %d", f.name, st.name, seed), s)
						what := sweepFailure(res)
						if what == "" {
							continue
						}
						mu.Lock()
						c.failing[what] = append(c.failing[what], seed)
						mu.Unlock()
						if st.name == "strict" {
							t.Errorf("seed %d: %s (lost %d, duplicate results %d, double executions %d %v, missed %d)",
								seed, what, s.Lost, s.DuplicateResults, s.DoubleExecutions, res.DoubleExecutionCauses, s.MissedDetections)
						}
					}
				})
			}
		}
	})
	var b strings.Builder
	fmt.Fprintf(&b, "fault sweep, %d seeds per cell: seeds failing, by what\n", *sweepSeeds)
	fmt.Fprintf(&b, "| fault | settings | seeds failing | by what |\n|---|---|---|---|\n")
	for _, c := range cells {
		n := 0
		var whats []string
		for what, seeds := range c.failing {
			n += len(seeds)
			ex := seeds
			if len(ex) > 5 {
				ex = ex[:5]
			}
			whats = append(whats, fmt.Sprintf("%s: %d (seeds %v)", what, len(seeds), ex))
		}
		sort.Strings(whats)
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", c.fault, c.settings, n, strings.Join(whats, "; "))
	}
	t.Log("\n" + b.String())
}
