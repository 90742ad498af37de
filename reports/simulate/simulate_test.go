package simulate

import (
	"runtime"
	"testing"
	"time"

	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

func TestCheckedTimesTheRunAndChecksExpectations(t *testing.T) {
	file, data, err := scenarios.Resolve("crash-storm")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := scenarios.Load(file, data, []string{"load[0].tasks=200", "workers[0].count=10"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Checked(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Expectations) != len(cfg.Expect) || len(s.Expectations) == 0 {
		t.Errorf("%d expectations checked, the scenario states %d", len(s.Expectations), len(cfg.Expect))
	}
	p := s.Perf
	if p.WallSeconds <= 0 || p.Events <= 0 || p.EventsPerSecond <= 0 || p.PeakHeapBytes <= 0 {
		t.Errorf("perf not filled: %+v", p)
	}
	if p.VirtualPerWallSecond != s.VirtualDuration/p.WallSeconds {
		t.Errorf("virtual per wall second %g, want %g", p.VirtualPerWallSecond, s.VirtualDuration/p.WallSeconds)
	}
}

// heapSys reads what runtime.MemStats.HeapSys reads, without stopping the world.
func TestHeapSysIsMemStatsHeapSys(t *testing.T) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	got := heapSys()
	// Nothing here allocates between the two reads but the runtime itself may, so allow
	// a few pages; a wrong sum (stacks counted, a class left out) is off by far more.
	if d := got - int64(ms.HeapSys); d < -64<<10 || d > 64<<10 {
		t.Errorf("heapSys %d, MemStats.HeapSys %d", got, ms.HeapSys)
	}
}

// The advice rides on Progress; the caller's Progress is still called at its cadence.
func TestAdviceKeepsTheCallersProgress(t *testing.T) {
	for _, c := range []struct {
		every      int64
		wantEvery  int64 // the run's cadence
		callsPer16 int   // the caller's calls in 16 of the run's
	}{
		{1 << 18, adviseEvery, 4},      // a multiple: advice more often, the caller at its own
		{1000, 1000, 16},               // not a multiple: both at the caller's
		{0, adviseEvery, 0},            // no Progress of the caller's
		{adviseEvery, adviseEvery, 16}, // the same
	} {
		calls := 0
		opts := sim.Options{ProgressEvery: c.every}
		if c.every != 0 {
			opts.Progress = func(time.Duration, int64, int64) { calls++ }
		}
		got := adviseAsItGrows(opts, &heapAdvisor{})
		if got.ProgressEvery != c.wantEvery {
			t.Errorf("every %d: the run's ProgressEvery %d, want %d", c.every, got.ProgressEvery, c.wantEvery)
		}
		for range 16 {
			got.Progress(0, 0, 0)
		}
		if calls != c.callsPer16 {
			t.Errorf("every %d: the caller's Progress called %d times in 16, want %d", c.every, calls, c.callsPer16)
		}
	}
}
