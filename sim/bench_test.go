package sim_test

import (
	"testing"
	"time"

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
// benchmark run:
//
//	go test -run '^$' -bench Floor -cpu 1 -count 3 ./sim/
//
// One recorded run of scale (100,000 steps, 1,000 workers, wire on) gives every row its
// work; every row reports ns over that run's event count, in wall time (ns/event) and in
// the process's CPU time (cpu-ns/event, which a shared machine's other work inflates
// less):
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
// oracle, the trace hash and the wire check's compare. The ratio row measures what that
// glue costs: each of its iterations runs tasksim, necessary and queue-replay one after
// the other, so that its tasksim/necessary and tasksim/queue (CPU time; wall time in
// wall-tasksim/necessary) are not at the mercy of a noisy machine's drift. -count repeats
// each row in turn, not the rows in alternation; the ratio row alternates.
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
	tasksim := func(b *testing.B) {
		if _, err := sim.Run(cfg, sim.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	replay := func(parts sim.FloorPart) func(b *testing.B) {
		return func(b *testing.B) {
			got, err := floor.Replay(parts)
			if err != nil {
				b.Fatal(err)
			}
			if parts&sim.FloorQueue != 0 && got.Pops != want.Pops {
				b.Fatalf("replay popped %d events, the run %d", got.Pops, want.Pops)
			}
		}
	}
	rows := []struct {
		name string
		do   func(*testing.B)
	}{
		{"tasksim", tasksim},
		{"queue-replay", replay(sim.FloorQueue)},
		{"model-replay", replay(sim.FloorModel)},
		{"sampling-replay", replay(sim.FloorSampling)},
		{"codec-replay", replay(sim.FloorCodec)},
		{"necessary", replay(sim.FloorNecessary)},
	}
	for _, row := range rows {
		b.Run(row.name, func(b *testing.B) {
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				row.do(b)
			}
			n := float64(int64(b.N) * events)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
			if c := cpuTime() - cpu; c > 0 {
				b.ReportMetric(float64(c.Nanoseconds())/n, "cpu-ns/event")
			}
		})
	}
	b.Run("ratio", func(b *testing.B) {
		alternate := []func(*testing.B){rows[0].do, rows[5].do, rows[1].do}
		var wall, cpu [3]time.Duration
		for i := 0; i < b.N; i++ {
			for k, do := range alternate {
				w, c := time.Now(), cpuTime()
				do(b)
				wall[k] += time.Since(w)
				cpu[k] += cpuTime() - c
			}
		}
		if cpu[1] > 0 && cpu[2] > 0 {
			b.ReportMetric(float64(cpu[0])/float64(cpu[1]), "tasksim/necessary")
			b.ReportMetric(float64(cpu[0])/float64(cpu[2]), "tasksim/queue")
		}
		b.ReportMetric(float64(wall[0])/float64(wall[1]), "wall-tasksim/necessary")
		b.ReportMetric(float64(wall[0])/float64(wall[2]), "wall-tasksim/queue")
	})
}
