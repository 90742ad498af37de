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

// BenchmarkFloor measures the cost per event of a whole run (tasksim) beside the
// necessary work of that same run replayed without the kernel (sim/floor.go), all in one
// benchmark run so that the ratios are not at the mercy of a noisy machine's drift:
//
//	go test -run '^$' -bench Floor -cpu 1 -count 3 ./sim/
//
// One recorded run of scale (100,000 steps, 1,000 workers, wire on) gives every row its
// work; every row reports ns over that run's event count (ns/event):
//
//   - tasksim: the whole run, sim.Run;
//   - queue-replay: its exact queue operations on a bare event queue;
//   - model-replay: every input each participant received, given to fresh participants;
//   - sampling-replay: every random draw on fresh streams;
//   - codec-replay: every encode at a send and decode at a delivery (payload reuse on);
//   - necessary: all four interleaved as the run did them: the floor.
//
// The floor leaves out the kernel's glue: routing events and messages (the network
// model: pipes, connections, partitions), the timer tables, carrying effects out, the
// oracle, the trace hash and the wire check's compare. The last row reports what that
// glue costs: tasksim/necessary and tasksim/queue, from this round's rows.
func BenchmarkFloor(b *testing.B) {
	cfg := load(b, "scale", "load[0].tasks=100000", "workers[0].count=1000", "load[0].arrival.rate=500/s")
	rec := &sim.Recording{}
	res, err := sim.Run(cfg, sim.Options{Record: rec})
	if err != nil {
		b.Fatal(err)
	}
	events := res.Summary.Perf.Events
	want := rec.Counts()
	if int64(want.Pops) != events {
		b.Fatalf("the recording holds %d pops, the run %d events", want.Pops, events)
	}
	floor := sim.NewFloor(rec)
	perEvent := func(b *testing.B) float64 {
		ns := float64(b.Elapsed().Nanoseconds()) / float64(int64(b.N)*events)
		b.ReportMetric(ns, "ns/event")
		return ns
	}
	ns := map[string]float64{}
	b.Run("tasksim", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := sim.Run(cfg, sim.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		ns["tasksim"] = perEvent(b)
	})
	for _, row := range []struct {
		name  string
		parts sim.FloorPart
	}{
		{"queue-replay", sim.FloorQueue},
		{"model-replay", sim.FloorModel},
		{"sampling-replay", sim.FloorSampling},
		{"codec-replay", sim.FloorCodec},
		{"necessary", sim.FloorNecessary},
	} {
		b.Run(row.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				got, err := floor.Replay(row.parts)
				if err != nil {
					b.Fatal(err)
				}
				if row.parts&sim.FloorQueue != 0 && got.Pops != want.Pops {
					b.Fatalf("replay popped %d events, the run %d", got.Pops, want.Pops)
				}
			}
			ns[row.name] = perEvent(b)
		})
	}
	b.Run("ratio", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
		}
		if ns["necessary"] > 0 && ns["tasksim"] > 0 {
			b.ReportMetric(ns["tasksim"]/ns["necessary"], "tasksim/necessary")
		}
		if ns["queue-replay"] > 0 && ns["tasksim"] > 0 {
			b.ReportMetric(ns["tasksim"]/ns["queue-replay"], "tasksim/queue")
		}
	})
}
