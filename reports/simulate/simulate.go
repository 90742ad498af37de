// Package simulate runs a scenario's simulation for the commands: it times the run with
// the wall clock (summary.perf holds a run's only wall-clock figures, outside the trace
// hash) and checks the scenario's expectations, so that `tasksim run`, `check` and
// `sweep` run a scenario the same way.
package simulate

import (
	"fmt"
	"runtime/metrics"
	"time"

	"github.com/tasksim/tasksim/sim"
)

// Run simulates cfg and fills the wall-clock figures of summary.perf. It sets opts.Clock
// (for the codec's timed sample) and, where the kernel gives huge pages on request, asks
// for them for the heap as it grows (see hugepages_linux.go); the caller's Progress is
// still called every ProgressEvery events.
func Run(cfg *sim.Config, opts sim.Options) (*sim.Result, error) {
	start := time.Now()
	opts.Clock = func() time.Duration { return time.Since(start) }
	if adv := newHeapAdvisor(); adv != nil {
		adv.advise()
		opts = adviseAsItGrows(opts, adv)
	}
	res, err := sim.Run(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("simulate %s: %w", cfg.Name, err)
	}
	wall := time.Since(start).Seconds()
	p := &res.Summary.Perf
	p.WallSeconds = wall
	if wall > 0 {
		p.EventsPerSecond = float64(p.Events) / wall
		p.VirtualPerWallSecond = res.Summary.VirtualDuration / wall
	}
	p.PeakHeapBytes = heapSys()
	return res, nil
}

// adviseEvery is how many events a run does between two looks at its mappings: at about
// 1 µs an event, a look every ~65 ms, so that little of the heap grows and is first
// touched (as small pages, for good) before it is advised.
const adviseEvery = 1 << 16

// adviseAsItGrows makes opts advise the heap every adviseEvery events, beside the
// caller's own Progress.
func adviseAsItGrows(opts sim.Options, adv *heapAdvisor) sim.Options {
	user, every := opts.Progress, opts.ProgressEvery
	if user != nil && (every <= 0 || every%adviseEvery != 0) {
		// Keep the caller's cadence.
		opts.Progress = func(virtual time.Duration, settled, submitted int64) {
			adv.advise()
			user(virtual, settled, submitted)
		}
		return opts
	}
	var events int64
	opts.ProgressEvery = adviseEvery
	opts.Progress = func(virtual time.Duration, settled, submitted int64) {
		adv.advise()
		events += adviseEvery
		if user != nil && events%every == 0 {
			user(virtual, settled, submitted)
		}
	}
	return opts
}

// heapSys is the heap memory obtained from the OS (MemStats.HeapSys), read without
// runtime.ReadMemStats' stop-the-world: a sweep ends a run every few tens of
// milliseconds, and with --parallel each end would pause the runs on the other cores.
func heapSys() int64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	var sum uint64
	for _, v := range s {
		if v.Value.Kind() == metrics.KindUint64 {
			sum += v.Value.Uint64()
		}
	}
	return int64(sum)
}

// Checked simulates cfg and checks its expectations: the summary that `tasksim check`
// compares with its baseline and `tasksim sweep` aggregates. It is safe to call from
// several goroutines: a run only reads its config.
func Checked(cfg *sim.Config) (*sim.Summary, error) {
	res, err := Run(cfg, sim.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := res.Summary.Check(cfg.Expect); err != nil {
		return nil, err
	}
	return &res.Summary, nil
}
