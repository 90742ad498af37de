package sim_test

import (
	"strings"
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// record runs cfg recording its necessary work with digests, and checks that recording
// changed nothing of the run.
func record(t *testing.T, cfg *sim.Config) (*sim.Recording, *sim.Result) {
	t.Helper()
	rec := &sim.Recording{Digests: true}
	res, err := sim.Run(cfg, sim.Options{Record: rec})
	if err != nil {
		t.Fatalf("run %s: %v", cfg.Name, err)
	}
	if plain := run(t, cfg); plain.Summary.TraceHash != res.Summary.TraceHash {
		t.Fatalf("%s: recording changed the run: trace hash %s, without it %s", cfg.Name, res.Summary.TraceHash, plain.Summary.TraceHash)
	}
	return rec, res
}

// TestFloorReplaysTheRunsWork checks that a replay of a recording does the run's exact
// work: every popped instant, every participant's effects for every input, every random
// draw and each stream's final state, every encoding's bytes and every decoding.
func TestFloorReplaysTheRunsWork(t *testing.T) {
	cases := []struct {
		name string
		cfg  *sim.Config
		// inputs and draws that must be there, so the case exercises them
		inputs []string
		draws  []string
		wire   bool
	}{
		{"scale", load(t, "scale", "load[0].tasks=3000", "workers[0].count=60", "load[0].arrival.rate=100/s"),
			[]string{"create", "start", "receive", "fire", "done", "submit", "send_done"},
			[]string{"arrivals", "service", "network", "start", "headers"}, true},
		{"scale-wire-off", load(t, "scale", "load[0].tasks=1000", "workers[0].count=20", "load[0].arrival.rate=100/s", "network.wire=false"),
			[]string{"receive", "fire", "done"}, []string{"service", "network"}, false},
		{"orchestrator-restart", load(t, "orchestrator-restart", "load[0].tasks=1000"),
			[]string{"crash", "restart", "stream_broken", "stream_opened"}, nil, true},
		{"partition", load(t, "partition", "load[0].tasks=1000"), nil, []string{"faults"}, true},
		{"partition-reset", loadYAML(t, oneLongTaskMode("reset")), []string{"disconnect", "stream_broken"}, nil, true},
		{"sigterm", loadYAML(t, sigtermScenario("rust", 5, "60s")), []string{"terminate", "disconnect"}, nil, true},
		{"poison-pill", load(t, "poison-pill", "load[0].tasks=1000"), []string{"raised"}, nil, true},
		{"crash-storm", load(t, "crash-storm", "load[0].tasks=1000"), []string{"create", "disconnect"}, []string{"faults"}, true},
		{"duplicate-delivery", load(t, "duplicate-delivery", "load[0].tasks=1000"), nil, []string{"faults"}, true},
		{"heartbeat-loss", load(t, "heartbeat-loss", "load[0].tasks=1000"), nil, []string{"network"}, true},
		{"ack-late", load(t, "ack-late"), []string{"receive"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, res := record(t, c.cfg)
			want := rec.Counts()
			if int64(want.Pops) != res.Summary.Perf.Events {
				t.Fatalf("the recording holds %d pops, the run had %d events", want.Pops, res.Summary.Perf.Events)
			}
			got, err := sim.VerifyFloor(rec)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("replay did %+v, the run %+v", got, want)
			}
			ins, draws := sim.RecordedInputs(rec), sim.RecordedDraws(rec)
			for _, k := range c.inputs {
				if ins[k] == 0 {
					t.Errorf("no %s input recorded (inputs %v)", k, ins)
				}
			}
			for _, k := range c.draws {
				if draws[k] == 0 {
					t.Errorf("no draw from stream %s recorded (draws %v)", k, draws)
				}
			}
			if c.wire && (got.Encodes == 0 || got.Decodes == 0) {
				t.Errorf("wire on, but %d encodes and %d decodes", got.Encodes, got.Decodes)
			}
			if !c.wire && got.Encodes+got.Decodes != 0 {
				t.Errorf("wire off, but %d encodes and %d decodes", got.Encodes, got.Decodes)
			}
			t.Logf("%+v inputs %v draws %v", got, ins, draws)
		})
	}
}

// TestFloorVerifyCatchesOtherWork checks that the verification fails when the replayed
// work is not the run's: a participant fed another message, a draw of another kind, a
// decoding of other bytes.
func TestFloorVerifyCatchesOtherWork(t *testing.T) {
	cfg := load(t, "scale", "load[0].tasks=300", "workers[0].count=10", "load[0].arrival.rate=50/s")
	for _, c := range []struct {
		name   string
		tamper func(*sim.Recording)
		want   string
	}{
		{"message", func(r *sim.Recording) { sim.TamperAssignment(r, 40) }, "effects differ"},
		{"draw", func(r *sim.Recording) { sim.TamperDraw(r, 100) }, "stream"},
		{"decode", func(r *sim.Recording) { sim.TamperDecode(r, 5) }, "decode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, _ := record(t, cfg)
			if _, err := sim.VerifyFloor(rec); err != nil {
				t.Fatalf("untouched: %v", err)
			}
			c.tamper(rec)
			_, err := sim.VerifyFloor(rec)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("tampered %s: got %v, want an error about %q", c.name, err, c.want)
			}
		})
	}
}
