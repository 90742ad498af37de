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
	lossy  bool // the faults lose heartbeats
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
`, lossy: true},
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
`, sets: []string{"workers[0].clock_drift=20%"}, lossy: true},
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

// sweepOutcome says how one seed went wrong, as the sweep table counts it: failing is
// "" if it did not (lost steps, duplicate results, missed detections, double executions
// nothing explains); explained names the double executions the faults explain. A pause
// or partition makes a live copy look dead, and so does injected heartbeat loss (a false
// detection, when the fault loses heartbeats); a restarted orchestrator has lost the
// tables that say a worker still runs a step, and recovery re-dispatches it. Either way
// the old copy runs on until its next heartbeat is answered.
func sweepOutcome(res *sim.Result, lossy bool) (failing, explained string) {
	s := &res.Summary
	var fails, oks []string
	if s.Lost > 0 {
		fails = append(fails, "lost")
	}
	if s.DuplicateResults > 0 {
		fails = append(fails, "duplicate results")
	}
	if s.MissedDetections > 0 {
		fails = append(fails, "missed")
	}
	for c, n := range res.DoubleExecutionCauses {
		if n == 0 {
			continue
		}
		cause := sim.DoubleCause(c)
		what := "double executions (" + cause.String() + ")"
		switch {
		case cause == sim.DoublePause || cause == sim.DoublePartition || cause == sim.DoubleRecovery,
			cause == sim.DoubleFalse && lossy:
			oks = append(oks, what)
		default:
			fails = append(fails, what)
		}
	}
	return strings.Join(fails, " + "), strings.Join(oks, " + ")
}

// TestFaultSweep runs every fault type under both settings over -sweep.seeds seeds. Under
// the strict settings no seed may lose a step, accept a result twice, miss a crash, or
// run a step twice but where a pause, a partition or a restart explains it. Every
// heartbeat timeout must be classified exactly once in every run. The table it logs
// (-v) also lists the reference settings' failing seeds, by what.
func TestFaultSweep(t *testing.T) {
	type cell struct {
		fault, settings    string
		failing, explained map[string][]uint64 // outcome -> seeds
	}
	var (
		mu    sync.Mutex
		cells []*cell
	)
	t.Run("runs", func(t *testing.T) {
		for _, f := range sweepFaults {
			for _, st := range sweepSettings {
				c := &cell{fault: f.name, settings: st.name, failing: map[string][]uint64{}, explained: map[string][]uint64{}}
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
						what, explained := sweepOutcome(res, f.lossy)
						mu.Lock()
						if explained != "" {
							c.explained[explained] = append(c.explained[explained], seed)
						}
						if what != "" {
							c.failing[what] = append(c.failing[what], seed)
						}
						mu.Unlock()
						if what != "" && st.name == "strict" {
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
	fmt.Fprintf(&b, "| fault | settings | seeds failing | by what | seeds with explained double executions |\n|---|---|---|---|---|\n")
	for _, c := range cells {
		n, whats := sweepCounts(c.failing)
		_, oks := sweepCounts(c.explained)
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", c.fault, c.settings, n, whats, oks)
	}
	t.Log("\n" + b.String())
}

// sweepCounts sums the seeds of a table cell and lists them by outcome, with the first
// few seeds of each to replay.
func sweepCounts(by map[string][]uint64) (int, string) {
	n := 0
	var whats []string
	for what, seeds := range by {
		n += len(seeds)
		ex := seeds
		if len(ex) > 5 {
			ex = ex[:5]
		}
		whats = append(whats, fmt.Sprintf("%s: %d (seeds %v)", what, len(seeds), ex))
	}
	sort.Strings(whats)
	return n, strings.Join(whats, "; ")
}
