package eventq

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

type popped struct {
	at int64
	v  int
}

func drain(q *Queue[int]) []popped {
	var out []popped
	for {
		at, v, ok := q.Pop()
		if !ok {
			return out
		}
		out = append(out, popped{at, v})
	}
}

func TestOrderByTimeThenInsertion(t *testing.T) {
	var q Queue[int]
	times := []int64{50, 10, 30, 10, 20, 50, 0, 30, 10}
	for i, at := range times {
		q.Push(at, i)
	}
	if q.Len() != len(times) {
		t.Fatalf("Len = %d, want %d", q.Len(), len(times))
	}
	want := []popped{{0, 6}, {10, 1}, {10, 3}, {10, 8}, {20, 4}, {30, 2}, {30, 7}, {50, 0}, {50, 5}}
	if got := drain(&q); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	if _, _, ok := q.Pop(); ok {
		t.Fatal("Pop on empty queue reported ok")
	}
	if _, _, ok := q.Peek(); ok {
		t.Fatal("Peek on empty queue reported ok")
	}
}

func TestSameInstantFIFO(t *testing.T) {
	var q Queue[int]
	const n = 1000
	for i := range n {
		q.Push(7, i)
	}
	for i := range n {
		at, v, ok := q.Pop()
		if !ok || at != 7 || v != i {
			t.Fatalf("pop %d = (%d, %d, %v), want (7, %d, true)", i, at, v, ok, i)
		}
	}
}

func TestResetLater(t *testing.T) {
	var q Queue[int]
	h := q.Push(10, 0)
	q.Push(20, 1)
	q.Push(30, 2)
	if !q.Reset(h, 25) {
		t.Fatal("Reset of live handle reported false")
	}
	if at, ok := q.When(h); !ok || at != 25 {
		t.Fatalf("When = (%d, %v), want (25, true)", at, ok)
	}
	// Peek must see the true minimum even though entry 0 still sits at the top with key 10.
	if at, v, ok := q.Peek(); !ok || at != 20 || v != 1 {
		t.Fatalf("Peek = (%d, %d, %v), want (20, 1, true)", at, v, ok)
	}
	want := []popped{{20, 1}, {25, 0}, {30, 2}}
	if got := drain(&q); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestResetTakesNewSequence(t *testing.T) {
	// A timer reset to an instant where others are already queued goes after them, and
	// before entries pushed after the Reset: it orders as if pushed at the Reset.
	var q Queue[int]
	h := q.Push(5, 0)
	q.Push(10, 1)
	q.Push(10, 2)
	q.Reset(h, 10)
	q.Push(10, 3)
	want := []popped{{10, 1}, {10, 2}, {10, 0}, {10, 3}}
	if got := drain(&q); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}

	// Reset to the same time moves the entry behind its same-instant peers too.
	h = q.Push(10, 0)
	q.Push(10, 1)
	q.Reset(h, 10)
	want = []popped{{10, 1}, {10, 0}}
	if got := drain(&q); !slices.Equal(got, want) {
		t.Fatalf("same-time reset order = %v, want %v", got, want)
	}
}

func TestResetEarlier(t *testing.T) {
	var q Queue[int]
	q.Push(10, 0)
	q.Push(20, 1)
	h := q.Push(30, 2)
	if !q.Reset(h, 5) {
		t.Fatal("Reset of live handle reported false")
	}
	if at, v, ok := q.Peek(); !ok || at != 5 || v != 2 {
		t.Fatalf("Peek = (%d, %d, %v), want (5, 2, true)", at, v, ok)
	}
	// Later then earlier again, but still after the stale heap key.
	h2 := q.Push(40, 3)
	q.Reset(h2, 100)
	q.Reset(h2, 15)
	want := []popped{{5, 2}, {10, 0}, {15, 3}, {20, 1}}
	if got := drain(&q); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestCancel(t *testing.T) {
	var q Queue[int]
	var hs []Handle
	for i := range 10 {
		hs = append(hs, q.Push(int64(i), i))
	}
	for _, i := range []int{0, 9, 4, 5} {
		if !q.Cancel(hs[i]) {
			t.Fatalf("Cancel(%d) of live handle reported false", i)
		}
	}
	if q.Len() != 6 {
		t.Fatalf("Len = %d, want 6", q.Len())
	}
	want := []popped{{1, 1}, {2, 2}, {3, 3}, {6, 6}, {7, 7}, {8, 8}}
	if got := drain(&q); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestStaleHandles(t *testing.T) {
	var q Queue[int]
	if q.Reset(Handle{}, 1) || q.Cancel(Handle{}) {
		t.Fatal("zero Handle on empty queue reported live")
	}
	fired := q.Push(1, 1)
	cancelled := q.Push(2, 2)
	q.Pop()
	q.Cancel(cancelled)
	// Both slots are now reused by new entries; the old handles must not reach them.
	a := q.Push(3, 3)
	b := q.Push(4, 4)
	if a.slot != fired.slot && a.slot != cancelled.slot {
		t.Fatalf("slot not reused: %v", a)
	}
	for _, h := range []Handle{fired, cancelled, {}, {slot: 99, gen: 1}} {
		if q.Reset(h, 0) {
			t.Errorf("Reset(%v) of stale handle reported true", h)
		}
		if q.Cancel(h) {
			t.Errorf("Cancel(%v) of stale handle reported true", h)
		}
		if _, ok := q.When(h); ok {
			t.Errorf("When(%v) of stale handle reported live", h)
		}
	}
	if q.Cancel(b) != true || q.Cancel(b) != false {
		t.Fatal("second Cancel of the same handle must report false")
	}
	want := []popped{{3, 3}}
	if got := drain(&q); !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestPopReleasesValue(t *testing.T) {
	// A popped value must not stay reachable from the queue.
	var q Queue[*int]
	x := new(int)
	q.Push(1, x)
	q.Pop()
	for i := range q.slots {
		if q.slots[i].v != nil {
			t.Fatal("popped value still referenced by slot table")
		}
	}
}

func TestSteadyStateNoAllocs(t *testing.T) {
	q := New[int](0)
	r := rand.New(rand.NewPCG(1, 2))
	hs := make([]Handle, 256)
	for i := range hs {
		hs[i] = q.Push(r.Int64N(1000), i)
	}
	now := int64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		at, v, _ := q.Pop()
		now = at
		hs[v] = q.Push(now+r.Int64N(1000), v)
		w := r.IntN(len(hs))
		q.Reset(hs[w], now+r.Int64N(2000))
		if r.IntN(4) == 0 {
			w := r.IntN(len(hs))
			if q.Cancel(hs[w]) {
				hs[w] = q.Push(now+r.Int64N(1000), w)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("steady state allocates %v per op, want 0", allocs)
	}
}

// refQueue is the reference model: a plain slice scanned for the minimum key.
type refQueue struct {
	entries []refEntry
	seq     uint64
}

type refEntry struct {
	id  int // index into the test's handle list
	at  int64
	seq uint64
	v   int
}

func (r *refQueue) push(id int, at int64, v int) {
	r.seq++
	r.entries = append(r.entries, refEntry{id, at, r.seq, v})
}

func (r *refQueue) find(id int) int {
	for i, e := range r.entries {
		if e.id == id {
			return i
		}
	}
	return -1
}

func (r *refQueue) reset(id int, at int64) bool {
	i := r.find(id)
	if i < 0 {
		return false
	}
	r.seq++
	r.entries[i].at, r.entries[i].seq = at, r.seq
	return true
}

func (r *refQueue) cancel(id int) bool {
	i := r.find(id)
	if i < 0 {
		return false
	}
	r.entries = slices.Delete(r.entries, i, i+1)
	return true
}

func (r *refQueue) min() int {
	m := -1
	for i, e := range r.entries {
		if m < 0 || e.at < r.entries[m].at || (e.at == r.entries[m].at && e.seq < r.entries[m].seq) {
			m = i
		}
	}
	return m
}

func TestDifferentialAgainstReference(t *testing.T) {
	// Seeds past 20 churn: few pops, many cancels and resets, so that dead keys pile up
	// and the heap and lanes are compacted under the reference's eye.
	// Every third seed runs out of sequence numbers every few thousand pushes and resets, so
	// that renumbering happens often.
	defer func(limit uint32) { seqLimit = limit }(seqLimit)
	for seed := uint64(1); seed <= 26; seed++ {
		churn := seed > 20
		seqLimit = 1<<32 - 1
		if seed%3 == 0 {
			seqLimit = 4001
		}
		// Cumulative shares of push, reset, cancel and peek; the rest pops.
		cuts := [4]int{35, 60, 70, 75}
		if churn {
			cuts = [4]int{40, 70, 94, 96}
		}
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		var q Queue[int]
		var ref refQueue
		var handles []Handle
		now := int64(0)
		// A small time range makes same-instant ties common.
		span := int64(1 + r.IntN(50))
		// Fixed delays, one of them too many for the lanes' table on some seeds, and
		// one that is 0 (due now).
		delays := []int64{0, span / 2, span, 3 * span}
		if seed%2 == 0 {
			delays = []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		}
		for op := range 20000 {
			switch k := r.IntN(100); {
			case k < cuts[0]:
				id := len(handles)
				if r.IntN(2) == 0 {
					// A fixed-delay timer: into a lane when it keeps the lane in order.
					d := delays[r.IntN(len(delays))]
					handles = append(handles, q.PushAfter(now+d, d, id))
					ref.push(id, now+d, id)
					break
				}
				at := now + r.Int64N(span)
				handles = append(handles, q.Push(at, id))
				ref.push(id, at, id)
			case k < cuts[1]:
				if len(handles) == 0 {
					continue
				}
				id := r.IntN(len(handles))
				at := now + r.Int64N(span*2)
				if got, want := q.Reset(handles[id], at), ref.reset(id, at); got != want {
					t.Fatalf("seed %d op %d: Reset(%d) = %v, want %v", seed, op, id, got, want)
				}
			case k < cuts[2]:
				if len(handles) == 0 {
					continue
				}
				id := r.IntN(len(handles))
				if churn && len(ref.entries) > 0 {
					id = ref.entries[r.IntN(len(ref.entries))].id // a live one
				}
				if got, want := q.Cancel(handles[id]), ref.cancel(id); got != want {
					t.Fatalf("seed %d op %d: Cancel(%d) = %v, want %v", seed, op, id, got, want)
				}
			case k < cuts[3]:
				at, v, ok := q.Peek()
				m := ref.min()
				if ok != (m >= 0) || (ok && (at != ref.entries[m].at || v != ref.entries[m].v)) {
					t.Fatalf("seed %d op %d: Peek = (%d, %d, %v), want %v", seed, op, at, v, ok, ref.entries[m])
				}
			default:
				at, v, ok := q.Pop()
				m := ref.min()
				if ok != (m >= 0) {
					t.Fatalf("seed %d op %d: Pop ok = %v, reference has %d entries", seed, op, ok, len(ref.entries))
				}
				if !ok {
					continue
				}
				want := ref.entries[m]
				if at != want.at || v != want.v {
					t.Fatalf("seed %d op %d: Pop = (%d, %d), want (%d, %d)", seed, op, at, v, want.at, want.v)
				}
				ref.entries = slices.Delete(ref.entries, m, m+1)
				now = at // time never runs backwards, as in the simulator
			}
			if q.Len() != len(ref.entries) {
				t.Fatalf("seed %d op %d: Len = %d, want %d", seed, op, q.Len(), len(ref.entries))
			}
			if op%1000 == 0 {
				q.checkInvariants(t)
			}
		}
		q.checkInvariants(t)
		if churn && q.compactions == 0 {
			t.Fatalf("seed %d: churn compacted nothing", seed)
		}
		if want := seed%3 == 0; (q.renumbers > 0) != want {
			t.Fatalf("seed %d: %d renumberings", seed, q.renumbers)
		}
		for len(ref.entries) > 0 {
			m := ref.min()
			at, v, _ := q.Pop()
			if at != ref.entries[m].at || v != ref.entries[m].v {
				t.Fatalf("seed %d drain: Pop = (%d, %d), want %v", seed, at, v, ref.entries[m])
			}
			ref.entries = slices.Delete(ref.entries, m, m+1)
		}
	}
}

// checkInvariants verifies the heap order on heap keys, that lanes are sorted, that the
// dead-key counts are exact, that every live entry has exactly one live key, which is a
// lower bound of its true key, and that Len counts the live entries.
func (q *Queue[T]) checkInvariants(t *testing.T) {
	t.Helper()
	keys := 0
	check := func(k *key, where int32) bool {
		s := &q.slots[k.slot]
		if s.kseq != k.seq {
			return false // dead
		}
		if s.where != where || s.kat != k.at {
			t.Fatalf("live key of slot %d: where %d kat %d, want %d and %d", k.slot, s.where, s.kat, where, k.at)
		}
		if less(&key{at: s.at, seq: s.seq}, k) {
			t.Fatalf("key of slot %d is later than its true key", k.slot)
		}
		keys++
		return true
	}
	dead := 0
	for i := root; i < len(q.heap); i++ {
		k := &q.heap[i]
		if i > root && less(k, &q.heap[parent(i)]) {
			t.Fatalf("heap order violated at %d", i)
		}
		if !check(k, inHeap) {
			dead++
		}
	}
	if dead != q.heapDead {
		t.Fatalf("heap holds %d dead keys, counted %d", dead, q.heapDead)
	}
	for l := range q.lanes {
		ln := &q.lanes[l]
		dead := 0
		for i := range ln.n {
			k := &ln.keys[(ln.head+i)&(len(ln.keys)-1)]
			if i > 0 && !less(&ln.keys[(ln.head+i-1)&(len(ln.keys)-1)], k) {
				t.Fatalf("lane %d out of order at %d", l, i)
			}
			if !check(k, int32(l)) {
				dead++
			}
		}
		if dead != ln.dead {
			t.Fatalf("lane %d holds %d dead keys, counted %d", l, dead, ln.dead)
		}
	}
	used := 0
	for i := range q.slots {
		if q.slots[i].where != isFree {
			used++
		}
	}
	if keys != used || used != q.Len() {
		t.Fatalf("%d live keys, %d used slots, Len %d: want all equal", keys, used, q.Len())
	}
}

// A replay of a recorded log performs the same operations: the same entries pop at the
// same times in the same order, and stale resets and cancels are not recorded.
func TestRecordAndReplay(t *testing.T) {
	var log Log
	q := New[int](8)
	q.Record(&log)
	a := q.Push(30, 1)
	b := q.Push(10, 2)
	q.Push(20, 3)
	q.Reset(a, 5)
	q.Cancel(b)
	q.Cancel(b) // stale: not recorded
	var want []int64
	for {
		at, _, ok := q.Pop()
		if !ok {
			break
		}
		want = append(want, at)
	}
	q.Reset(a, 50) // stale: not recorded
	if len(log.Ops) != 7 || log.Pushes() != 3 {
		t.Fatalf("recorded %d ops, %d pushes; want 7 and 3: %+v", len(log.Ops), log.Pushes(), log.Ops)
	}
	var replay Log
	r := New[int](8)
	r.Record(&replay)
	if pops := Replay(r, log.Ops, make([]Handle, log.Pushes())); pops != 2 {
		t.Fatalf("replay popped %d, want 2", pops)
	}
	var got []int64
	for _, op := range replay.Ops {
		if op.Kind == OpPop {
			got = append(got, op.At)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(want) != "[5 20]" {
		t.Errorf("replay popped at %v, original at %v; want [5 20]", got, want)
	}
}

// Lane pushes are recorded as such and replayed into lanes: the replay pops the same
// times in the same order.
func TestRecordAndReplayLanes(t *testing.T) {
	var log Log
	q := New[int](8)
	q.Record(&log)
	for i := range 50 {
		now := int64(i * 3)
		q.PushAfter(now+30, 30, i)
		if i%4 == 0 {
			q.Push(now+int64(i%7), -i)
		}
		if i%3 == 0 {
			q.Pop()
		}
	}
	drainTimes(q)
	lanes := 0
	for _, op := range log.Ops {
		if op.Kind == OpPushAfter && op.Delay == 30 {
			lanes++
		}
	}
	if lanes != 50 {
		t.Fatalf("recorded %d lane pushes, want 50", lanes)
	}
	var replay Log
	r := New[int](8)
	r.Record(&replay)
	Replay(r, log.Ops, make([]Handle, log.Pushes()))
	var got []int64
	for _, op := range replay.Ops {
		if op.Kind == OpPop {
			got = append(got, op.At)
		}
	}
	var orig []int64
	for _, op := range log.Ops {
		if op.Kind == OpPop {
			orig = append(orig, op.At)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(orig) || len(orig) != 63 || r.Len() != 0 {
		t.Errorf("replay popped at %v, original (%d pops) at %v; %d left", got, len(orig), orig, r.Len())
	}
}

func drainTimes(q *Queue[int]) []int64 {
	var out []int64
	for q.Len() > 0 {
		at, _, _ := q.Pop()
		out = append(out, at)
	}
	return out
}

// Cancelled and reset-earlier keys stay behind dead; once they outnumber the live keys
// of their heap or lane (and are at least minCompact), that heap or lane is compacted, so
// a queue that is never popped does not grow with its churn.
func TestDeadKeysStayBounded(t *testing.T) {
	var q Queue[int]
	var hs []Handle
	for i := range 1000 {
		hs = append(hs, q.Push(int64(1000+i), i))
	}
	// 600 cancels: the 501st finds 501 dead of 1000 keys and compacts to 499; the
	// other 99 stay dead.
	for i := range 600 {
		q.Cancel(hs[i])
	}
	if q.heapKeys() != 499 || q.heapDead != 99 || q.Len() != 400 || q.compactions != 1 {
		t.Fatalf("after 600 cancels: %d heap keys, %d dead, Len %d, %d compactions; want 499, 99, 400, 1",
			q.heapKeys(), q.heapDead, q.Len(), q.compactions)
	}
	q.checkInvariants(t)

	// Reset earlier, over and over, leaves a dead key each time; the heap stays within
	// twice its live entries (or minCompact dead keys).
	r := rand.New(rand.NewPCG(3, 3))
	at := int64(1000)
	for range 100_000 {
		at--
		q.Reset(hs[600+r.IntN(400)], at)
		if 2*q.heapDead > q.heapKeys() && q.heapDead >= minCompact {
			t.Fatalf("%d dead of %d heap keys", q.heapDead, q.heapKeys())
		}
	}
	if q.heapKeys() > 2*400+1 || q.Len() != 400 {
		t.Fatalf("%d heap keys for %d entries, want at most 801", q.heapKeys(), q.Len())
	}
	q.checkInvariants(t)

	// A lane, likewise: 1000 timers a fixed delay ahead, 600 cancelled.
	var lq Queue[int]
	hs = hs[:0]
	for i := range 1000 {
		hs = append(hs, lq.PushAfter(int64(30+i), 30, i))
	}
	for i := range 600 {
		lq.Cancel(hs[i])
	}
	ln := &lq.lanes[0]
	if lq.heapKeys() != 0 || ln.n != 499 || ln.dead != 99 || lq.Len() != 400 || lq.compactions != 1 {
		t.Fatalf("lane after 600 cancels: %d keys, %d dead, Len %d, %d compactions, %d heap keys; want 499, 99, 400, 1, 0",
			ln.n, ln.dead, lq.Len(), lq.compactions, lq.heapKeys())
	}
	lq.checkInvariants(t)
	// The survivors pop in order: the live 400, at 630..1029.
	got := drainTimes(&lq)
	if len(got) != 400 || got[0] != 630 || got[399] != 1029 || ln.n != 0 || ln.dead != 0 {
		t.Fatalf("popped %v; lane keeps %d keys (%d dead)", got, ln.n, ln.dead)
	}
}

// heapKeys is the number of keys in the heap, live and dead.
func (q *Queue[T]) heapKeys() int { return max(len(q.heap)-root, 0) }

// Running out of 32-bit sequence numbers renumbers them in order: same-instant entries
// still pop in push order, and a reset one after those pushed before its Reset.
func TestRenumberKeepsOrder(t *testing.T) {
	defer func(limit uint32) { seqLimit = limit }(seqLimit)
	seqLimit = 80
	var q Queue[int]
	var hs []Handle
	for i := range 100 {
		hs = append(hs, q.Push(7, i))
		if i%2 == 1 {
			q.Pop() // 0..49 pop: FIFO
		}
	}
	q.Reset(hs[60], 7) // after 99 now
	q.PushAfter(7, 0, 100)
	// The 80th push renumbers the 40 live entries 1..40; 20 pushes, a Reset and a
	// PushAfter take it to 62.
	if q.renumbers != 1 || q.seq != 62 {
		t.Fatalf("%d renumberings, seq %d; want 1 and 62", q.renumbers, q.seq)
	}
	var want []int
	for i := 50; i <= 99; i++ {
		if i != 60 {
			want = append(want, i)
		}
	}
	want = append(want, 60, 100)
	var got []int
	for _, p := range drain(&q) {
		got = append(got, p.v)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}
