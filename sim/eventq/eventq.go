// Package eventq is the simulator's event queue: a 4-ary min-heap ordered by virtual time,
// then by insertion sequence, with timers that can be pushed back or cancelled through a
// handle without searching the heap.
//
// Ordering. Entries pop in order of (time, sequence). Push gives an entry the next
// sequence number, so entries at the same instant pop in the order they were pushed.
// Reset also gives the entry a fresh sequence number: a timer moved by Reset orders as if
// it had been pushed at the moment of the Reset, so same-instant events keep the order in
// which they were scheduled.
//
// Timers. A heartbeat deadline is typically pushed later again and again and rarely fires.
// Reset to a later time therefore only records the new key; the heap entry keeps its old,
// earlier key, and is re-keyed (and sifted down) only when it reaches the top, the way Go's
// runtime timers work. An entry's heap key is never later than its true key, so the true
// minimum is always found: whatever reaches the top with a stale key is re-keyed before
// anything is popped. Reset to an earlier time sifts up at once. Cancel removes the entry
// by its heap index at once: that costs about what dropping it lazily at the top would,
// and keeps Len exact and the heap free of dead entries.
//
// Handles. Every entry lives in a slot of a slot table; a Handle names the slot and its
// generation. A slot's generation changes when its entry is popped or cancelled, so a
// stale Handle is a harmless no-op: Reset and Cancel report false.
//
// Values are stored inline in the slot table and the heap holds small keys, so sifting
// moves 24 bytes whatever T is, and no operation allocates once the slices have grown.
//
// A Queue is not safe for concurrent use; the simulator is single-goroutine by design.
package eventq

// Handle names a queued entry. The zero Handle is never live.
type Handle struct {
	slot uint32
	gen  uint32
}

// key is a heap element. at and seq are the entry's heap key, which may be earlier than
// its true key (its slot's at and seq) after a lazy Reset.
type key struct {
	at   int64
	seq  uint64
	slot uint32
}

type slot[T any] struct {
	at  int64  // true time
	seq uint64 // true sequence
	idx int32  // position in heap; -1 when free
	gen uint32 // bumped when the entry leaves the queue; starts at 1 so Handle{} is dead
	v   T
}

// Queue is a timer-capable event queue. The zero value is an empty queue ready to use.
type Queue[T any] struct {
	heap  []key
	slots []slot[T]
	free  []uint32 // LIFO, so recently used (cache-warm) slots are reused first
	seq   uint64
	log   *Log // nil unless recording
}

// New returns an empty queue with room for n entries before it grows.
func New[T any](n int) *Queue[T] {
	return &Queue[T]{heap: make([]key, 0, n), slots: make([]slot[T], 0, n), free: make([]uint32, 0, n)}
}

// Len reports the number of live entries.
func (q *Queue[T]) Len() int { return len(q.heap) }

// Push schedules v at virtual time at and returns a handle for Reset and Cancel.
func (q *Queue[T]) Push(at int64, v T) Handle {
	var si uint32
	if n := len(q.free); n > 0 {
		si = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		si = uint32(len(q.slots))
		q.slots = append(q.slots, slot[T]{gen: 1})
	}
	q.seq++
	s := &q.slots[si]
	s.at, s.seq, s.v = at, q.seq, v
	i := len(q.heap)
	s.idx = int32(i)
	q.heap = append(q.heap, key{at: at, seq: q.seq, slot: si})
	q.up(i)
	if q.log != nil {
		q.log.push(si, at)
	}
	return Handle{slot: si, gen: s.gen}
}

// live returns the slot h names, or nil if the handle is stale.
func (q *Queue[T]) live(h Handle) *slot[T] {
	if uint64(h.slot) >= uint64(len(q.slots)) {
		return nil
	}
	s := &q.slots[h.slot]
	if s.gen != h.gen || s.idx < 0 {
		return nil
	}
	return s
}

// Reset moves the entry h names to virtual time at and gives it a fresh sequence number,
// so it orders as if pushed now. It reports whether h was live; a stale handle is a no-op.
// Moving later is O(1): the entry is re-keyed when it reaches the top. Moving earlier
// sifts it up at once.
func (q *Queue[T]) Reset(h Handle, at int64) bool {
	s := q.live(h)
	if s == nil {
		return false
	}
	if q.log != nil {
		q.log.op(OpReset, h.slot, at)
	}
	q.seq++
	s.at, s.seq = at, q.seq
	i := int(s.idx)
	if at >= q.heap[i].at {
		// The fresh sequence makes the new key later than the heap key even at an
		// equal time, so the heap key stays a lower bound.
		return true
	}
	q.heap[i].at, q.heap[i].seq = at, q.seq
	q.up(i)
	return true
}

// Cancel removes the entry h names and reports whether h was live; a stale handle is a
// no-op.
func (q *Queue[T]) Cancel(h Handle) bool {
	s := q.live(h)
	if s == nil {
		return false
	}
	if q.log != nil {
		q.log.op(OpCancel, h.slot, 0)
	}
	i := int(s.idx)
	q.release(h.slot)
	last := len(q.heap) - 1
	if i != last {
		q.heap[i] = q.heap[last]
		q.slots[q.heap[i].slot].idx = int32(i)
	}
	q.heap = q.heap[:last]
	if i != last {
		if !q.up(i) {
			q.down(i)
		}
	}
	return true
}

// When reports the virtual time the entry h names is due, and whether h is live.
func (q *Queue[T]) When(h Handle) (int64, bool) {
	s := q.live(h)
	if s == nil {
		return 0, false
	}
	return s.at, true
}

// Peek returns the earliest entry without removing it. It may re-key entries that were
// reset later, which changes no observable order.
func (q *Queue[T]) Peek() (at int64, v T, ok bool) {
	if !q.settle() {
		return 0, v, false
	}
	s := &q.slots[q.heap[0].slot]
	return s.at, s.v, true
}

// Pop removes and returns the earliest entry; ok is false when the queue is empty. The
// entry's handle becomes stale.
func (q *Queue[T]) Pop() (at int64, v T, ok bool) {
	if !q.settle() {
		return 0, v, false
	}
	si := q.heap[0].slot
	s := &q.slots[si]
	at, v = s.at, s.v
	if q.log != nil {
		q.log.op(OpPop, si, at)
	}
	q.release(si)
	last := len(q.heap) - 1
	if last > 0 {
		q.heap[0] = q.heap[last]
		q.slots[q.heap[0].slot].idx = 0
		q.heap = q.heap[:last]
		q.down(0)
	} else {
		q.heap = q.heap[:0]
	}
	return at, v, true
}

// settle re-keys the top until its heap key is its true key, and reports whether the
// queue is non-empty.
func (q *Queue[T]) settle() bool {
	for len(q.heap) > 0 {
		top := &q.heap[0]
		s := &q.slots[top.slot]
		if top.at == s.at && top.seq == s.seq {
			return true
		}
		top.at, top.seq = s.at, s.seq
		q.down(0)
	}
	return false
}

// release frees a slot: the generation bump makes outstanding handles stale, and the
// value is zeroed so the queue keeps nothing reachable.
func (q *Queue[T]) release(si uint32) {
	s := &q.slots[si]
	var zero T
	s.v = zero
	s.idx = -1
	s.gen++
	if s.gen == 0 { // keep Handle{} dead after wrap-around
		s.gen = 1
	}
	q.free = append(q.free, si)
}

func less(a, b *key) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// up sifts the element at i toward the root and reports whether it moved.
func (q *Queue[T]) up(i int) bool {
	h := q.heap
	e := h[i]
	start := i
	for i > 0 {
		p := (i - 1) / 4
		if !less(&e, &h[p]) {
			break
		}
		h[i] = h[p]
		q.slots[h[i].slot].idx = int32(i)
		i = p
	}
	if i == start {
		return false
	}
	h[i] = e
	q.slots[e.slot].idx = int32(i)
	return true
}

// down sifts the element at i toward the leaves.
func (q *Queue[T]) down(i int) {
	h := q.heap
	n := len(h)
	e := h[i]
	start := i
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		// Pick the smallest of up to four children.
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if less(&h[j], &h[m]) {
				m = j
			}
		}
		if !less(&h[m], &e) {
			break
		}
		h[i] = h[m]
		q.slots[h[i].slot].idx = int32(i)
		i = m
	}
	if i != start {
		h[i] = e
		q.slots[e.slot].idx = int32(i)
	}
}
