package sim_test

import (
	"fmt"
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// sigtermScenario is one worker of the flavour with one slot, 1ms each way, and `tasks`
// steps of `duration` submitted at 0; SIGTERM reaches the worker at 10s.
func sigtermScenario(flavour string, tasks int, duration string) string {
	return fmt.Sprintf(`
name: sigterm
orchestrator: {detector: deadline, discovery: off}
network: {latency: 1ms}
workers:
  - {pool: p, count: 1, flavour: %s, concurrency: 1, start: 0s}
components:
  - {path: /c, duration: %s}
load:
  - {component: /c, tasks: %d, arrival: {process: burst}}
faults:
  - at: 10s
    terminate: {pool: p, count: 1}
`, flavour, duration, tasks)
}

// The terminate fault in the simulator, each flavour as PROTOCOL.md's worker table has it.
func TestTerminateFault(t *testing.T) {
	type want struct {
		completed, failed, exited, heartbeat, queue, droppedInPipe int64
		sinceCrash                                                 float64 // detection.since_crash.max
	}
	for _, tt := range []struct {
		name     string
		scenario string
		want     want
	}{
		// rust waits 30s (until 40s) for the 60s task, then cancels it with no
		// CompleteTask and exits. Its last heartbeat arrived at 39.081s (beat k leaves
		// 1s after the answer to beat k-1: 4ms + 1000k + 2(k-1) ms, +1ms on the way), so
		// the deadline detector fails it at 44.081s, 4.081s after the exit: a terminate
		// detection, counted with since_crash. Its retries find no worker: three queue
		// timeouts, then the step fails.
		{"rust grace runs out", sigtermScenario("rust", 1, "60s"), want{0, 1, 1, 1, 3, 0, 4.081}},
		// The 20s step 0 finishes inside the grace and its CompleteTask goes out; step 1,
		// not yet read (rust reads only with a free slot), is dropped with the stream's
		// pipe at 10s and fails at its queue deadline, then runs out of retries.
		{"rust task finishes in the grace", sigtermScenario("rust", 2, "20s"), want{1, 1, 1, 0, 4, 1, 0}},
		// python notices SIGTERM only when an assignment arrives; none ever does, so it
		// runs its task to the end and never exits.
		{"python never notices", sigtermScenario("python", 1, "60s"), want{1, 0, 0, 0, 0, 0, 0}},
		// Three steps, one slot: python runs step 0 (claimed at 4ms), holds step 1 read
		// ahead, step 2 waits in its pipe. At 20.006s step 0's CompleteTask is answered,
		// step 1 takes the slot and the loop reads step 2: SIGTERM noticed, step 2 dropped,
		// grace until 30.006s, when step 1 (claimed at 20.008s) is cancelled; its last
		// heartbeat arrived at 29.025s, so it fails at 34.025s, 4.019s after the exit.
		// Step 2 fails at its queue deadline (30s after dispatch); with no worker left,
		// both run out of transport retries.
		{"python notices on the next assignment", sigtermScenario("python", 3, "20s"), want{1, 2, 1, 1, 7, 0, 4.019}},
		// strict, like rust, notices at once and waits up to 30s; its fixed period puts
		// the last heartbeat at 39.005s (sent at 39.004s), so it fails at 44.005s.
		{"strict grace runs out", sigtermScenario("strict", 1, "60s"), want{0, 1, 1, 1, 3, 0, 4.005}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, loadYAML(t, tt.scenario))
			s := res.Summary
			got := want{s.Completed, s.Failed, s.WorkersExited, s.Timeouts.Heartbeat, s.Timeouts.Queue, s.DroppedInPipe, s.Detection.SinceCrash.Max}
			if got != tt.want {
				t.Fatalf("completed, failed, exited, heartbeat and queue timeouts, since_crash max:\n got %+v\nwant %+v", got, tt.want)
			}
			terminate := res.Breakdown.DetectionByCause[sim.CauseTerminate].Count()
			if s.Lost != 0 || s.MissedDetections != 0 || s.FalseDetections != 0 ||
				terminate != s.Timeouts.Heartbeat || s.Detection.SinceCrash.Count != s.Timeouts.Heartbeat {
				t.Fatalf("lost %d, missed %d, false %d, terminate detections %d, since_crash %d of %d heartbeat timeouts",
					s.Lost, s.MissedDetections, s.FalseDetections, terminate, s.Detection.SinceCrash.Count, s.Timeouts.Heartbeat)
			}
			if s.Timeouts.Heartbeat > 0 && (s.Detection.SinceLastHeartbeat.Max != 5 || s.Detection.SinceCrash.Max > 5) {
				t.Fatalf("detected %vs after the last heartbeat, %vs after the exit; want 5s and at most 5s",
					s.Detection.SinceLastHeartbeat.Max, s.Detection.SinceCrash.Max)
			}
		})
	}
}
