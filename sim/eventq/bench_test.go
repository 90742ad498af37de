package eventq

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"
)

const second = int64(1e9)

// deltas is a fixed table of random delays so the benchmarks measure the queue, not the
// random number generator.
var deltas = func() []int64 {
	r := rand.New(rand.NewPCG(7, 7))
	d := make([]int64, 4096)
	for i := range d {
		d[i] = 1 + r.Int64N(second)
	}
	return d
}()

func reportEvents(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPushPop is the event loop's steady state: pop the earliest event, schedule
// one more at a random later time, with n events queued.
func BenchmarkPushPop(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("eventq/n=%d", n), func(b *testing.B) {
			q := New[uint64](n)
			for i := range n {
				q.Push(deltas[i%len(deltas)], uint64(i))
			}
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				at, v, _ := q.Pop()
				q.Push(at+deltas[events&4095], v)
				events++
			}
			reportEvents(b, events)
		})
		b.Run(fmt.Sprintf("container-heap/n=%d", n), func(b *testing.B) {
			h := make(stdHeap, 0, n)
			for i := range n {
				heap.Push(&h, &stdItem{at: deltas[i%len(deltas)], seq: uint64(i)})
			}
			seq := uint64(n)
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				// Recycle the popped item so container/heap does not allocate either.
				it := heap.Pop(&h).(*stdItem)
				seq++
				it.at += deltas[events&4095]
				it.seq = seq
				heap.Push(&h, it)
				events++
			}
			reportEvents(b, events)
		})
	}
}

// The heartbeat pattern: n workers heartbeat once a second, each heartbeat pushing the
// worker's deadline (last heartbeat + 5s) later. Deadlines never fire. One event is one
// heartbeat delivered.
const (
	hbWorkers = 10_000
	hbTimeout = 5 * second
)

type hbEvent struct {
	deadline bool
	worker   int32
	gen      uint32 // push-new variant only
}

// BenchmarkHeartbeat compares three ways to keep a deadline that is pushed back on every
// heartbeat: Reset (lazy re-key), a new entry per heartbeat with stale entries skipped by
// generation, and container/heap with heap.Fix.
func BenchmarkHeartbeat(b *testing.B) {
	b.Run("eventq-reset", func(b *testing.B) {
		q := New[hbEvent](2 * hbWorkers)
		deadlines := make([]Handle, hbWorkers)
		for w := range hbWorkers {
			start := int64(w) * second / hbWorkers
			q.Push(start, hbEvent{worker: int32(w)})
			deadlines[w] = q.Push(start+hbTimeout, hbEvent{deadline: true, worker: int32(w)})
		}
		b.ReportAllocs()
		events, peak := 0, 0
		for b.Loop() {
			now, ev, _ := q.Pop()
			if ev.deadline {
				b.Fatal("deadline fired")
			}
			q.Reset(deadlines[ev.worker], now+hbTimeout)
			q.Push(now+second, ev)
			peak = max(peak, q.heapKeys())
			events++
		}
		b.ReportMetric(float64(peak), "heap-entries")
		reportEvents(b, events)
	})
	b.Run("eventq-push-skip", func(b *testing.B) {
		q := New[hbEvent](8 * hbWorkers)
		gens := make([]uint32, hbWorkers)
		for w := range hbWorkers {
			start := int64(w) * second / hbWorkers
			q.Push(start, hbEvent{worker: int32(w)})
			q.Push(start+hbTimeout, hbEvent{deadline: true, worker: int32(w)})
		}
		b.ReportAllocs()
		events, peak := 0, 0
		for b.Loop() {
			now, ev, _ := q.Pop()
			for ev.deadline {
				if ev.gen == gens[ev.worker] {
					b.Fatal("deadline fired")
				}
				now, ev, _ = q.Pop() // stale: skip
			}
			gens[ev.worker]++
			q.Push(now+hbTimeout, hbEvent{deadline: true, worker: ev.worker, gen: gens[ev.worker]})
			q.Push(now+second, ev)
			peak = max(peak, q.heapKeys())
			events++
		}
		b.ReportMetric(float64(peak), "heap-entries")
		reportEvents(b, events)
	})
	b.Run("container-heap-fix", func(b *testing.B) {
		h := make(stdHeap, 0, 2*hbWorkers)
		deadlines := make([]*stdItem, hbWorkers)
		seq := uint64(0)
		for w := range hbWorkers {
			start := int64(w) * second / hbWorkers
			seq++
			heap.Push(&h, &stdItem{at: start, seq: seq, worker: int32(w)})
			seq++
			deadlines[w] = &stdItem{at: start + hbTimeout, seq: seq, worker: int32(w), deadline: true}
			heap.Push(&h, deadlines[w])
		}
		b.ReportAllocs()
		events, peak := 0, 0
		for b.Loop() {
			it := h[0]
			if it.deadline {
				b.Fatal("deadline fired")
			}
			now := it.at
			d := deadlines[it.worker]
			seq++
			d.at, d.seq = now+hbTimeout, seq
			heap.Fix(&h, d.index)
			// Reschedule the heartbeat in place, the idiomatic container/heap timer.
			seq++
			it.at, it.seq = now+second, seq
			heap.Fix(&h, it.index)
			peak = max(peak, len(h))
			events++
		}
		b.ReportMetric(float64(peak), "heap-entries")
		reportEvents(b, events)
	})
}

type stdItem struct {
	at       int64
	seq      uint64
	index    int
	worker   int32
	deadline bool
}

type stdHeap []*stdItem

func (h stdHeap) Len() int { return len(h) }
func (h stdHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}
func (h stdHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *stdHeap) Push(x any) {
	it := x.(*stdItem)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *stdHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
