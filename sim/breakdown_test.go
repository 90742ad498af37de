package sim_test

import (
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// checkBreakdown asserts that the per-cause and per-component recorders split the
// summary's totals exactly: every heartbeat timeout under one cause, the crash ones being
// detection.since_crash, and every completed step under its component and its pool.
func checkBreakdown(t *testing.T, cfg *sim.Config, res *sim.Result) {
	t.Helper()
	s, b := &res.Summary, &res.Breakdown
	checkTimeoutsExplained(t, cfg.Name, s)
	var causes int64
	for _, r := range b.DetectionByCause {
		causes += r.Count()
	}
	if causes != s.Timeouts.Heartbeat {
		t.Errorf("detections by cause add up to %d, timeouts.heartbeat is %d", causes, s.Timeouts.Heartbeat)
	}
	for _, c := range []struct {
		cause sim.DetectionCause
		want  int64
	}{
		{sim.CauseCrash, s.Detection.SinceCrash.Count},
		{sim.CauseFalse, s.FalseDetections},
		{sim.CausePause, s.PauseDetections},
		{sim.CausePartition, s.PartitionDetections},
	} {
		if got := b.DetectionByCause[c.cause].Count(); got != c.want {
			t.Errorf("%s detections: %d recorded by cause, %d in the summary", c.cause, got, c.want)
		}
	}
	if r := b.DetectionByCause[sim.CauseCrash]; r.Count() > 0 && r.Max() > res.DetectionSinceLastHeartbeat.Max() {
		t.Errorf("a crash detection (max %v) beyond every detection's max %v", r.Max(), res.DetectionSinceLastHeartbeat.Max())
	}
	var perComponent, perPool int64
	for i, r := range b.ComponentEndToEnd {
		perComponent += r.Count()
		if got, want := r.Count(), res.Metrics.Components[i].Success; got != want {
			t.Errorf("component %s: %d end-to-end samples, %d successes", cfg.Components[i].Path, got, want)
		}
		if got, want := res.Metrics.Components[i].Pool, cfg.Components[i].Pool; got != want {
			t.Errorf("component %s: pool %q, configured %q", cfg.Components[i].Path, got, want)
		}
	}
	for _, r := range b.PoolEndToEnd {
		perPool += r.Count()
	}
	if perComponent != s.Completed || perPool != s.Completed {
		t.Errorf("end-to-end samples: %d by component, %d by pool, %d steps completed", perComponent, perPool, s.Completed)
	}
}
