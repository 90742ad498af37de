package sim_test

import (
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// checkTimeoutsExplained asserts SCENARIOS.md's identity: every heartbeat timeout is
// classified exactly once, as a crash, false, pause or partition detection.
func checkTimeoutsExplained(t testing.TB, what string, s *sim.Summary) {
	t.Helper()
	sum := s.Detection.SinceCrash.Count + s.FalseDetections + s.PauseDetections + s.PartitionDetections
	if s.Timeouts.Heartbeat != sum {
		t.Errorf("%s: %d heartbeat timeouts, but crash %d + false %d + pause %d + partition %d = %d",
			what, s.Timeouts.Heartbeat, s.Detection.SinceCrash.Count, s.FalseDetections,
			s.PauseDetections, s.PartitionDetections, sum)
	}
}

// TestTimeoutDuringTheClaimIsFalse: with a 1ns heartbeat timeout every task is failed
// during its claim, before its first heartbeat is answered, by a worker that is alive and
// reachable: each one is a false detection (the oracle once counted none of them).
func TestTimeoutDuringTheClaimIsFalse(t *testing.T) {
	for _, flavour := range []string{"python", "strict"} {
		s := run(t, load(t, "default", "orchestrator.detector=deadline", "orchestrator.heartbeat_timeout=1ns",
			"workers[0].flavour="+flavour, "workers[1].flavour="+flavour, "faults=[]")).Summary
		if s.Timeouts.Heartbeat < 100 || s.FalseDetections != s.Timeouts.Heartbeat {
			t.Errorf("%s: %d heartbeat timeouts, %d false; want at least 100, all false",
				flavour, s.Timeouts.Heartbeat, s.FalseDetections)
		}
		if s.Detection.SinceLastHeartbeat.Max > 1e-9 {
			t.Errorf("%s: a task failed %vs after its claim, want 1ns", flavour, s.Detection.SinceLastHeartbeat.Max)
		}
		checkTimeoutsExplained(t, flavour, &s)
	}
}

// TestPartitionDetectionsAreCounted: ten strict workers cut off from 30s to 45s. Each of
// their tasks is failed exactly 5s after its last heartbeat, while the partition lasts,
// and is a partition detection, not a false one (the oracle once counted them nowhere).
func TestPartitionDetectionsAreCounted(t *testing.T) {
	s := run(t, load(t, "partition", "orchestrator.detector=deadline", "orchestrator.task_ids=per_attempt",
		"workers[0].flavour=strict")).Summary
	if s.Timeouts.Heartbeat < 10 || s.PartitionDetections != s.Timeouts.Heartbeat || s.FalseDetections != 0 {
		t.Errorf("%d heartbeat timeouts, %d partition and %d false detections; want at least 10, all partition",
			s.Timeouts.Heartbeat, s.PartitionDetections, s.FalseDetections)
	}
	if d := s.Detection.SinceLastHeartbeat; d.Min != 5 || d.Max != 5 {
		t.Errorf("detected %vs to %vs after the last heartbeat, want exactly 5s", d.Min, d.Max)
	}
	checkTimeoutsExplained(t, "partition", &s)
}

// TestDoubleExecutionsAreExplained: every double execution is put under what made the
// step be handed out again while a copy still ran, and each built-in that shows one
// cause shows only it.
func TestDoubleExecutionsAreExplained(t *testing.T) {
	for _, c := range []struct {
		scenario string
		cause    sim.DoubleCause
	}{
		{"pause-zombie", sim.DoublePause},
		{"partition", sim.DoublePartition},
		{"heartbeat-loss", sim.DoubleFalse},
		// orchestrator-restart shows none since pull workers reconnect on their own
		// schedule (python every 2s): the running copies' heartbeats claim the
		// re-dispatched tasks before a reconnected stream delivers them again.
		{"ack-late", sim.DoubleRedelivery},
		{"hazard-double-copy", sim.DoubleQueueTimeout},
	} {
		res := run(t, load(t, c.scenario))
		var sum int64
		for _, n := range res.DoubleExecutionCauses {
			sum += n
		}
		d := res.Summary.DoubleExecutions
		if d == 0 || sum != d || res.DoubleExecutionCauses[c.cause] != d {
			t.Errorf("%s: %d double executions, by cause %v; want all %d under %s", c.scenario, d, res.DoubleExecutionCauses, d, c.cause)
		}
	}
}
