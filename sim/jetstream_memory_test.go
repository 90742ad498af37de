package sim_test

import (
	"fmt"
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// TestJetStreamForgetsExpiredDeliveries: assignments delivered into a partition, or held
// past the ack wait by a worker that acks on completion, are not acknowledged in time;
// their ack wait ends and the message goes to another worker, which acknowledges it (a
// worker fetches one message per free slot, so acking on completion is what makes most
// of the expired deliveries here). The queue once kept every such expired delivery for the rest of the
// run, so its table grew with the tasks run. Now what it tracks after the run is bounded
// by the few messages it still holds, whatever the number of tasks.
func TestJetStreamForgetsExpiredDeliveries(t *testing.T) {
	const scenario = `
name: jetstream-memory
queue: {kind: jetstream, ack_wait: 2s}
workers:
  - pool: p
    count: 20
    flavour: strict
    ack: on_complete
components:
  - path: /c
    duration: {dist: lognormal, median: 500ms, p99: 2s}
load:
  - component: /c
    tasks: %d
    arrival: {process: poisson, rate: 50/s}
faults:
`
	for _, tasks := range []int{250, 2000} {
		yaml := fmt.Sprintf(scenario, tasks)
		// A partition of a quarter of the workers every 5s, for 2s, for the whole run.
		for at := 5; at < tasks/50+10; at += 5 {
			yaml += fmt.Sprintf("  - at: %ds\n    for: 2s\n    partition: {pool: p, fraction: 25%%}\n", at)
		}
		cfg := loadYAML(t, yaml)
		s := run(t, cfg).Summary
		if s.Redeliveries < int64(tasks)/100 || s.Lost != 0 {
			t.Fatalf("%d tasks: %d redeliveries, %d lost; the test needs expired deliveries and no loss", tasks, s.Redeliveries, s.Lost)
		}
		deliveries, messages, err := sim.QueueStateAfter(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d tasks, %d redeliveries: the queue tracks %d deliveries of %d messages", tasks, s.Redeliveries, deliveries, messages)
		if deliveries > 2*messages+4 {
			t.Errorf("%d tasks: the queue still tracks %d deliveries for the %d messages it holds", tasks, deliveries, messages)
		}
	}
}
