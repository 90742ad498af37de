package model

import (
	"math/rand/v2"
	"testing"
)

// TestIDIndexMatchesMap drives an idIndex and a Go map with the same operations: ids in
// a sliding window (the model's sequential ids, some outliving many newer ones), and ids
// from anywhere (parsed UUIDs, negative NodeIDs), so direct entries, the spill and growth
// are all exercised; every lookup must agree with the map.
func TestIDIndexMatchesMap(t *testing.T) {
	var x idIndex[TaskID, int32]
	want := map[TaskID]int32{}
	rng := rand.New(rand.NewPCG(1, 2))
	next := TaskID(0)
	var live []TaskID
	check := func(k TaskID) {
		t.Helper()
		got, ok := x.get(k)
		w, wok := want[k]
		if ok != wok || got != w {
			t.Fatalf("get(%d) = %d, %v; want %d, %v", k, got, ok, w, wok)
		}
	}
	for i := 0; i < 200000; i++ {
		switch r := rng.IntN(10); {
		case r < 4:
			next++
			v := int32(rng.IntN(1000))
			x.set(next, v)
			want[next] = v
			live = append(live, next)
		case r < 5:
			k := TaskID(rng.Uint64())
			v := int32(rng.IntN(1000))
			x.set(k, v)
			want[k] = v
			live = append(live, k)
		case r < 9 && len(live) > 0:
			// Mostly the oldest go first; a few stay for a long time.
			j := 0
			if rng.IntN(20) == 0 {
				j = rng.IntN(len(live))
			}
			k := live[j]
			live = append(live[:j], live[j+1:]...)
			x.delete(k)
			delete(want, k)
			check(k)
		default:
			if len(live) > 0 {
				k := live[rng.IntN(len(live))]
				v := int32(rng.IntN(1000))
				x.set(k, v)
				want[k] = v
				check(k)
			}
		}
		check(next)
		check(next + 1)
		if x.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", i, x.len(), len(want))
		}
	}
	for k := range want {
		check(k)
	}
	if len(x.spill) == 0 {
		t.Fatal("the spill was never used: the test does not exercise collisions")
	}
}

// TestIDIndexCollisionSpills pins the spill: an id whose entry a live id holds is still
// found, and comes back into the table once the holder is gone and it is set again.
func TestIDIndexCollisionSpills(t *testing.T) {
	var x idIndex[NodeID, int32]
	x.set(1, 10)
	size := len(x.direct)
	if size != idIndexMinSize {
		t.Fatalf("table size %d, want %d", size, idIndexMinSize)
	}
	collider := NodeID(1 + size)
	x.set(collider, 20)
	x.set(-2, 30)
	if len(x.spill) != 1 {
		t.Fatalf("spill holds %d ids, want 1 (the collider)", len(x.spill))
	}
	for k, want := range map[NodeID]int32{1: 10, collider: 20, -2: 30} {
		if got, ok := x.get(k); !ok || got != want {
			t.Fatalf("get(%d) = %d, %v; want %d", k, got, ok, want)
		}
	}
	x.set(collider, 21)
	if len(x.spill) != 1 || x.len() != 3 {
		t.Fatalf("after update: spill %d, len %d; want 1, 3", len(x.spill), x.len())
	}
	x.delete(1)
	if _, ok := x.get(1); ok {
		t.Fatal("deleted id 1 still found")
	}
	if got, ok := x.get(collider); !ok || got != 21 {
		t.Fatalf("get(collider) = %d, %v; want 21", got, ok)
	}
	x.set(collider, 22)
	if len(x.spill) != 0 || x.len() != 2 {
		t.Fatalf("after re-set: spill %d, len %d; want 0, 2", len(x.spill), x.len())
	}
	if got, _ := x.get(collider); got != 22 {
		t.Fatalf("get(collider) = %d, want 22", got)
	}
	x.reset()
	if _, ok := x.get(-2); ok || x.len() != 0 || len(x.direct) != size {
		t.Fatalf("after reset: found -2 %v, len %d, size %d", ok, x.len(), len(x.direct))
	}
}

// TestIDIndexStaysBoundedBySlidingWindow checks memory follows the ids alive at once:
// two million sequential ids, at most 1,000 alive, never grow the table past 4,096.
func TestIDIndexStaysBoundedBySlidingWindow(t *testing.T) {
	var x idIndex[TaskID, int32]
	for id := TaskID(1); id <= 2e6; id++ {
		x.set(id, int32(id))
		if id > 1000 {
			x.delete(id - 1000)
		}
	}
	if len(x.direct) > 4096 || len(x.spill) != 0 || x.len() != 1000 {
		t.Fatalf("table %d, spill %d, len %d; want <= 4096, 0, 1000", len(x.direct), len(x.spill), x.len())
	}
}
