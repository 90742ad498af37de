package main

import (
	"math"
	"os"
	"runtime/debug"

	"github.com/tasksim/tasksim/sim"
)

const (
	// sweepGCPercent lets a sweep's heap grow to five times what is live between
	// collections instead of twice. A seed of a small scenario (default: about 11 MB
	// live) otherwise ends in a collection, each one stopping every run of the sweep at
	// once; on a loaded machine a stop takes milliseconds while the runtime waits for the
	// other cores' runs to reach a safe point (`GODEBUG=gctrace=1 tasksim sweep default
	// --seeds 1..20 --parallel 2`: 22 collections for 20 seeds, 7-13 ms each to stop).
	sweepGCPercent = 400
	// minSweepHeap is the floor of a sweep's soft memory limit, so that small scenarios'
	// estimates (tens of MB) do not make the limit, not sweepGCPercent, pace the GC.
	minSweepHeap = 256 << 20
)

// paceSweepGC sets the GC for a sweep of runs runs at a time of cfg: sweepGCPercent,
// with a soft memory limit of what admit let the sweep take (the memory estimate of
// one run times runs, at least minSweepHeap), so that the larger heap never exceeds
// the budget the sweep was admitted with; near the limit the GC runs as often as it
// must. GOGC or GOMEMLIMIT in the environment are the user's choice and win. It
// returns a function that restores the previous settings.
func paceSweepGC(cfg *sim.Config, runs int) (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	limit := int64(minSweepHeap)
	if e := sim.EstimateMemory(cfg).Bytes; e < math.MaxInt64/int64(max(runs, 1)) {
		limit = max(limit, e*int64(max(runs, 1)))
	} else {
		limit = math.MaxInt64
	}
	percent := debug.SetGCPercent(sweepGCPercent)
	memLimit := debug.SetMemoryLimit(limit)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(memLimit)
	}
}
