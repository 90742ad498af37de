package sim_test

import (
	"testing"

	"github.com/tasksim/tasksim/sim"
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
