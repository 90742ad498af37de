package sim_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// heartbeatSends maps each task to the instants (virtual seconds) its attempt-1
// TaskHeartbeatRequests were sent, from a run's trace (the sends of each event).
func heartbeatSends(t *testing.T, trace []byte) map[uint64][]float64 {
	t.Helper()
	out := map[uint64][]float64{}
	sc := bufio.NewScanner(bytes.NewReader(trace))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for sc.Scan() {
		var r struct {
			T     float64 `json:"t"`
			Sends []struct {
				Task    uint64 `json:"task"`
				Attempt uint32 `json:"attempt"`
				Msg     string `json:"msg"`
			} `json:"sends"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Sends {
			if m.Msg == "TaskHeartbeatRequest" && m.Attempt == 1 {
				out[m.Task] = append(out[m.Task], r.T)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Hazard 8 (hazard-silent-heartbeat): every TaskHeartbeat request is dropped from 20s to
// 21.5s. A python worker's loop waits for the answer to the heartbeat it sent then, with
// no deadline, so it never heartbeats again while its component runs on to 61s: the scan
// at 25s fails each of the 8 live tasks 5.93 to 5.95s after its last heartbeat arrived
// (at 19.05 to 19.07s), each counted as a false detection, retried, run twice, and its
// first attempt's late result accepted as the retry's. A strict worker in the same
// situation beats on a fixed period: its heartbeats after 21.5s arrive, nothing fails.
func TestSilentHeartbeatFailsALiveTask(t *testing.T) {
	runTraced := func(sets ...string) (sim.Summary, map[uint64][]float64) {
		var trace bytes.Buffer
		res, err := sim.Run(load(t, "hazard-silent-heartbeat", sets...), sim.Options{Trace: &trace})
		if err != nil {
			t.Fatal(err)
		}
		return res.Summary, heartbeatSends(t, trace.Bytes())
	}
	s, sends := runTraced()
	if s.Timeouts.Heartbeat != 8 || s.FalseDetections != 8 || s.DoubleExecutions != 8 || s.StaleResults != 8 ||
		s.Completed != 8 || s.Lost != 0 {
		t.Errorf("python: heartbeat timeouts %d false %d double %d stale %d completed %d lost %d; want 8 8 8 8 8 0",
			s.Timeouts.Heartbeat, s.FalseDetections, s.DoubleExecutions, s.StaleResults, s.Completed, s.Lost)
	}
	us := func(sec float64) int64 { return int64(math.Round(sec * 1e6)) }
	if d := s.Detection.SinceLastHeartbeat; us(d.Min) != 5926574 || us(d.Max) != 5946843 {
		t.Errorf("python: failed %vs to %vs after the last heartbeat, want 5.926574s to 5.946843s", d.Min, d.Max)
	}
	if len(sends) != 8 {
		t.Fatalf("python: heartbeats of %d tasks, want 8", len(sends))
	}
	for task, at := range sends {
		// The last one is the one dropped, sent inside the window; none after it.
		if last := at[len(at)-1]; last < 20 || last >= 20.1 {
			t.Errorf("python: task %d's last heartbeat sent at %.6fs, want within [20s, 20.1s)", task, last)
		}
	}
	checkTimeoutsExplained(t, "python", &s)

	st, sends := runTraced("workers[0].flavour=strict")
	if st.Timeouts.Heartbeat != 0 || st.FalseDetections != 0 || st.DoubleExecutions != 0 || st.Completed != 8 {
		t.Errorf("strict: heartbeat timeouts %d false %d double %d completed %d; want 0 0 0 8",
			st.Timeouts.Heartbeat, st.FalseDetections, st.DoubleExecutions, st.Completed)
	}
	if len(sends) != 8 {
		t.Fatalf("strict: heartbeats of %d tasks, want 8", len(sends))
	}
	for task, at := range sends {
		if last := at[len(at)-1]; last < 60 {
			t.Errorf("strict: task %d's last heartbeat sent at %.6fs, want beats until its component ends at 61s", task, last)
		}
	}
}
