package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim/eventq"
)

// The step table behaves as the map it replaces, and frees a chunk once none of its
// steps is kept.
func TestStepTableAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var tab stepTable
	ref := map[model.StepID]time.Duration{}
	for op := range 200000 {
		s := model.StepID(r.IntN(3000))
		switch r.IntN(3) {
		case 0:
			tab.put(s).submitted = durationOf(op)
			ref[s] = durationOf(op)
		case 1:
			tab.del(s)
			delete(ref, s)
		default:
			st := tab.get(s)
			want, ok := ref[s]
			if (st != nil) != ok || (ok && st.submitted != want) {
				t.Fatalf("op %d: get(%d) = %v, want %v %v", op, s, st, want, ok)
			}
		}
		if tab.len() != len(ref) {
			t.Fatalf("op %d: len %d, want %d", op, tab.len(), len(ref))
		}
	}
	for s := range ref {
		tab.del(s)
	}
	for i, c := range tab.chunks {
		if c != nil {
			t.Fatalf("chunk %d still held with no step kept", i)
		}
	}
	if tab.get(1<<30) != nil {
		t.Fatal("a step beyond every chunk was found")
	}
}

func durationOf(op int) time.Duration { return time.Duration(op) + 1 }

// The running table keeps each node's executions in start order.
func TestRunningTable(t *testing.T) {
	var rt runningTable
	rt.add(5, 1, execTruth{step: 10, attempt: 1})
	rt.add(5, 2, execTruth{step: 11, attempt: 1})
	rt.add(5, 3, execTruth{step: 12, attempt: 2})
	rt.add(5, 2, execTruth{step: 11, attempt: 3}) // same exec: replaced in place
	if !rt.remove(5, 1) || rt.remove(5, 1) || rt.remove(9, 1) {
		t.Fatal("remove reported wrongly")
	}
	got := rt.of(5)
	if len(got) != 2 || got[0].exec != 2 || got[0].attempt != 3 || got[1].exec != 3 {
		t.Fatalf("running on node 5: %+v", got)
	}
	rt.clear(5)
	if len(rt.of(5)) != 0 || len(rt.of(100)) != 0 {
		t.Fatal("cleared node still has executions")
	}
}

// The orchestrator's timer table behaves as a map, whatever ids it is given: ids that
// share a cell, ids beyond the dense range.
func TestManyTimersAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var m manyTimers
	q := eventq.New[event](0)
	ref := map[model.TimerID]eventq.Handle{}
	ids := []model.TimerID{}
	for range 64 {
		kind, gen, slot := uint64(r.IntN(3)), uint64(r.IntN(3)), uint64(r.IntN(40))
		if r.IntN(8) == 0 {
			slot = denseLimit + uint64(r.IntN(4))
		}
		ids = append(ids, model.TimerID(kind<<56|gen<<32|slot))
	}
	for op := range 100000 {
		id := ids[r.IntN(len(ids))]
		switch r.IntN(3) {
		case 0:
			h := q.Push(int64(op), event{})
			m.put(id, h)
			ref[id] = h
		case 1:
			m.drop(id)
			delete(ref, id)
		default:
			h, ok := m.get(id)
			want, wok := ref[id]
			if ok != wok || h != want {
				t.Fatalf("op %d: get(%x) = %v %v, want %v %v", op, id, h, ok, want, wok)
			}
		}
	}
	n := 0
	m.each(func(eventq.Handle) { n++ })
	if n != len(ref) {
		t.Fatalf("each visited %d timers, want %d", n, len(ref))
	}
}
