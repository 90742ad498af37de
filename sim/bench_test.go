package sim_test

import (
	"testing"

	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/eventq"
)

// BenchmarkScale runs the built-in scale scenario cut to 100,000 steps (and 1,000
// workers, to keep the same load per worker) and reports simulator throughput.
// The full scenario: `tasksim run scale`.
func BenchmarkScale(b *testing.B) {
	for _, wire := range []string{"true", "false"} {
		b.Run("wire="+wire, func(b *testing.B) {
			cfg := load(b, "scale", "load[0].tasks=100000", "workers[0].count=1000", "load[0].arrival.rate=500/s", "network.wire="+wire)
			var events int64
			var virtual float64
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := sim.Run(cfg, sim.Options{})
				if err != nil {
					b.Fatal(err)
				}
				events += res.Summary.Perf.Events
				virtual += res.Summary.VirtualDuration
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(virtual/b.Elapsed().Seconds(), "virtual-s/s")
		})
	}
}

// BenchmarkFloor measures the cost per event of a whole run beside the cost of replaying
// that run's exact queue operations on a bare queue, in one benchmark run so that the
// ratio is not at the mercy of a noisy machine's drift:
//
//	go test -run '^$' -bench Floor -cpu 1 -count 5 ./sim/
func BenchmarkFloor(b *testing.B) {
	cfg := load(b, "scale", "load[0].tasks=100000", "workers[0].count=1000", "load[0].arrival.rate=500/s")
	var log eventq.Log
	res, err := sim.Run(cfg, sim.Options{QueueLog: &log})
	if err != nil {
		b.Fatal(err)
	}
	events := res.Summary.Perf.Events
	b.Run("tasksim", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := sim.Run(cfg, sim.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*events), "ns/event")
	})
	b.Run("queue-replay", func(b *testing.B) {
		handles := make([]eventq.Handle, log.Pushes())
		for i := 0; i < b.N; i++ {
			if pops := sim.ReplayQueue(log.Ops, handles); int64(pops) != events {
				b.Fatalf("replay popped %d events, the run %d", pops, events)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*events), "ns/event")
	})
}
