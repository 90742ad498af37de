package sim_test

import (
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// A queue_restart: while the JetStream server is down nothing is published, fetched or
// delivered, and the acks sent meanwhile are lost, so those messages come back after
// their ack wait (workers here ack on completion, so tasks that finish during the
// outage are redelivered). Nothing is lost, and the run is deterministic.
func TestQueueRestartLosesNothing(t *testing.T) {
	const scenario = `name: queue-restart
queue: {kind: jetstream, ack_wait: 5s}
workers:
  - pool: python
    count: 10
    start: 0s
    ack: on_complete
components:
  - path: /c
    duration: 500ms
load:
  - component: /c
    tasks: 400
    arrival: {process: constant, rate: 50/s}
faults:
  - at: 3s
    queue_restart: {downtime: 2s}
expect:
  - lost == 0
`
	with := loadYAML(t, scenario)
	without := loadYAML(t, scenario, "faults=[]")
	a, err := sim.Run(with, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := sim.Run(without, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := sim.Run(with, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, base := a.Summary, b.Summary
	if s.Lost != 0 || s.Completed != 400 {
		t.Fatalf("with a queue restart: lost %d completed %d, want 0 and 400", s.Lost, s.Completed)
	}
	if s.Redeliveries <= base.Redeliveries {
		t.Errorf("redeliveries %d with the restart, %d without: acks sent while the server was down should be lost", s.Redeliveries, base.Redeliveries)
	}
	if s.TraceHash != again.Summary.TraceHash || s.TraceHash == base.TraceHash {
		t.Errorf("trace hashes: %s, again %s, without the fault %s", s.TraceHash, again.Summary.TraceHash, base.TraceHash)
	}
	if s.Latency.EndToEnd.Max < base.Latency.EndToEnd.Max+1 {
		t.Errorf("end-to-end max %.3fs with a 2s outage, %.3fs without: dispatch should stall", s.Latency.EndToEnd.Max, base.Latency.EndToEnd.Max)
	}
}
