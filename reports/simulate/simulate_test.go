package simulate

import (
	"runtime"
	"testing"

	"github.com/tasksim/tasksim/scenarios"
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
