package sim_test

import (
	"encoding/json"
	"testing"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// The kernel hands the orchestrator every heartbeat and completion without the sender's
// Truth, while the oracle still classifies against it: in hazard-silent-heartbeat the 8
// late results of attempt 1, accepted after the retry made attempt 2 current, are stale
// only by the workers' truth. Recording the inputs changes nothing in the run.
func TestOrchestratorNeverSeesTruth(t *testing.T) {
	cfg := load(t, "hazard-silent-heartbeat")
	got, res, err := sim.OrchestratorInputs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := sim.Run(load(t, "hazard-silent-heartbeat"), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.TraceHash != plain.Summary.TraceHash {
		t.Errorf("trace hash %s with the recorder, %s without", res.Summary.TraceHash, plain.Summary.TraceHash)
	}
	if res.Summary.StaleResults != 8 {
		t.Errorf("stale results %d, want 8", res.Summary.StaleResults)
	}
	counts := map[model.MsgType]int{}
	for _, m := range got {
		counts[m.Type]++
		if m.Truth != (model.Truth{}) {
			t.Fatalf("the orchestrator was handed %v with Truth %+v", m.Type, m.Truth)
		}
	}
	want := map[model.MsgType]int{model.MsgPullTasks: 8, model.MsgHeartbeat: 432, model.MsgComplete: 8}
	if len(counts) != len(want) || counts[model.MsgPullTasks] != 8 || counts[model.MsgHeartbeat] != 432 ||
		counts[model.MsgComplete] != 8 {
		t.Errorf("handed %v, want %v", counts, want)
	}
}

// No participant leans on anything a socket would not tell it: every built-in scenario
// gives the same summary and trace hash when the kernel hands each receiver only the
// wire's part of a message, its envelope and what the transport carries (wireView).
func TestReceiversNeedOnlyTheWire(t *testing.T) {
	for _, name := range scenarios.Names() {
		if name == "scale" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			plain := run(t, load(t, name)).Summary
			res, err := sim.RunWireOnly(load(t, name))
			if err != nil {
				t.Fatal(err)
			}
			got := res.Summary
			plain.Perf, got.Perf = sim.Perf{}, sim.Perf{}
			a, _ := json.Marshal(&plain)
			b, _ := json.Marshal(&got)
			if string(a) != string(b) {
				t.Errorf("handed only the wire, %s ran differently:\n%s", name, lineDiff(a, b))
			}
		})
	}
}
