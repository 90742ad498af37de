// Package eventq is the simulator's event queue: a 4-ary min-heap ordered by virtual time,
// then by insertion sequence, beside FIFO lanes for entries pushed a fixed delay ahead,
// with timers that can be pushed back or cancelled through a handle without searching.
//
// Ordering. Entries pop in order of (time, sequence). Push gives an entry the next
// sequence number, so entries at the same instant pop in the order they were pushed.
// Reset also gives the entry a fresh sequence number: a timer moved by Reset orders as if
// it had been pushed at the moment of the Reset, so same-instant events keep the order in
// which they were scheduled. Where an entry is kept (heap or lane) never changes the
// order: the same operations pop the same entries in the same order either way.
//
// Lanes. Most of a simulation's entries are timers armed a fixed delay ahead (a 30s queue
// deadline per dispatch, a 10s RPC timeout per call, a 1s heartbeat tick), pushed in time
// order. PushAfter puts such an entry at the tail of its delay's lane, a FIFO ring, when
// that keeps the lane sorted by (time, sequence), and into the heap otherwise; Pop takes
// the least of the heap's top and the lanes' heads. A lane push is O(1) and touches no
// other entry, so the heap holds only what has no fixed delay.
//
// Keys. The heap and the lanes hold keys (time, sequence, slot), and an entry's value and
// true key live in its slot of a slot table. Exactly one key stands for each live entry:
// the slot records that key's sequence (sequences are never reused), and any other key
// naming the slot is dead. Nothing in the heap points back at its position, so a sift
// moves keys within the heap array and touches no slot: on a large queue the slot table
// is far bigger than the cache, and a write into it per sift level would miss per level.
//
// Timers. A heartbeat deadline is typically pushed later again and again and rarely fires.
// Reset to a later time therefore only records the new key in the slot; the entry's key
// keeps its old, earlier time and sequence, and is re-keyed (sifted down, or moved to the
// back of a lane or into the heap) only when it reaches the front, the way Go's runtime
// timers work. A key is never later than its entry's true key, so the true minimum is
// always found: whatever reaches the front with a stale key is re-keyed before anything
// is popped. Reset to an earlier time pushes a new key for the entry and Cancel frees the
// slot; either way the old key is left behind dead and dropped when it reaches the front.
// Dead keys are counted: when a heap's or a lane's dead keys outnumber its live ones (and
// are more than a few), it is compacted, so they take at most about as much room as the
// live entries.
//
// Handles. Every entry lives in a slot of a slot table; a Handle names the slot and its
// generation. A slot's generation changes when its entry is popped or cancelled, so a
// stale Handle is a harmless no-op: Reset and Cancel report false.
//
// Values are stored inline in the slot table and the heap and lanes hold small keys, so
// sifting moves 16 bytes whatever T is, and no operation allocates once the slices have
// grown (compaction works in place).
//
// A Queue is not safe for concurrent use; the simulator is single-goroutine by design.
package eventq

import "slices"

// Handle names a queued entry. The zero Handle is never live.
type Handle struct {
	slot uint32
	gen  uint32
}

// key is a heap or lane element: a lower bound (at, seq) of the key of the entry in slot,
// or dead (see slot.kseq).
//
// A key is 16 bytes, so four siblings fill one 64-byte cache line: the heap array starts
// with root (3) unused keys, which puts every node's four children at an index that is a
// multiple of four, one line (once the array is large enough to be page-aligned), and a
// sift reads one line per level. Sequences are 32 bits to fit; renumber keeps them so.
type key struct {
	at   int64
	seq  uint32
	slot uint32
}

// root is the heap's root index; the keys before it are unused (see key).
const root = 3

// seqLimit is the last sequence number issued before renumber (a variable so that tests
// can make renumbering frequent).
var seqLimit uint32 = 1<<32 - 1

// Where a slot's entry is kept (slot.where): the heap, free, or a lane (>= 0).
const (
	inHeap = -1
	isFree = -2
)

// A slot of the simulator's 24-byte event is 64 bytes with the padding after where and
// gen: one cache line (the table is page-aligned once large), so reading a slot at a pop
// misses once, not twice.
type slot[T any] struct {
	at  int64  // true time
	seq uint32 // true sequence
	// kat and kseq are the key that stands for this entry in the heap or its lane: any
	// other key naming this slot is dead. kseq is 0 while the slot is free (sequences
	// start at 1), so every key naming a free slot is dead.
	kseq  uint32
	where int32 // inHeap, isFree or a lane's index
	kat   int64
	gen   uint32
	v     T
}

// lane is a FIFO ring of keys sorted by (at, seq), live and dead.
type lane struct {
	delay int64
	keys  []key // len is a power of two
	head  int
	n     int // keys in the ring
	dead  int // of which dead
}

func (l *lane) front() *key { return &l.keys[l.head] }

func (l *lane) back() *key { return &l.keys[(l.head+l.n-1)&(len(l.keys)-1)] }

func (l *lane) popFront() {
	l.head = (l.head + 1) & (len(l.keys) - 1)
	l.n--
}

// fits reports whether a key (at, seq) keeps the lane sorted at its tail. A re-keyed
// entry's sequence can be older than the tail's, so both count.
func (l *lane) fits(at int64, seq uint32) bool {
	if l.n == 0 {
		return true
	}
	b := l.back()
	return b.at < at || (b.at == at && b.seq < seq)
}

func (l *lane) pushBack(k key) {
	if l.n == len(l.keys) {
		grown := make([]key, max(2*len(l.keys), 64))
		for i := range l.n {
			grown[i] = l.keys[(l.head+i)&(len(l.keys)-1)]
		}
		l.keys, l.head = grown, 0
	}
	l.keys[(l.head+l.n)&(len(l.keys)-1)] = k
	l.n++
}

// maxLanes bounds the lanes (one per distinct delay); PushAfter with further delays uses
// the heap.
const maxLanes = 8

// minCompact is the fewest dead keys that make a heap or lane worth compacting: below
// it, the reads of every key's slot would cost more than the room they free.
const minCompact = 256

// Queue is a timer-capable event queue. The zero value is an empty queue ready to use.
type Queue[T any] struct {
	heap     []key
	heapDead int // dead keys in heap
	slots    []slot[T]
	free     []uint32 // LIFO, so recently used (cache-warm) slots are reused first
	seq      uint32
	lanes    []lane
	live     int  // live entries
	log      *Log // nil unless recording
	// compactions and renumbers count those rare events (tests check they happen).
	compactions, renumbers int
}

// New returns an empty queue with room for n entries before it grows.
func New[T any](n int) *Queue[T] {
	return &Queue[T]{heap: make([]key, root, root+n), slots: make([]slot[T], 0, n), free: make([]uint32, 0, n)}
}

// Len reports the number of live entries.
func (q *Queue[T]) Len() int { return q.live }

// alloc takes a free slot for a new entry at at with the next sequence number.
func (q *Queue[T]) alloc(at int64, v T) (uint32, *slot[T]) {
	if q.seq >= seqLimit {
		q.renumber()
	}
	var si uint32
	if n := len(q.free); n > 0 {
		si = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		si = uint32(len(q.slots))
		q.slots = append(q.slots, slot[T]{gen: 1, where: isFree})
	}
	q.seq++
	q.live++
	s := &q.slots[si]
	s.at, s.seq, s.v = at, q.seq, v
	return si, s
}

// Push schedules v at virtual time at and returns a handle for Reset and Cancel.
func (q *Queue[T]) Push(at int64, v T) Handle {
	si, s := q.alloc(at, v)
	q.heapInsert(si, s)
	if q.log != nil {
		q.log.push(si, at, 0, false)
	}
	return Handle{slot: si, gen: s.gen}
}

// PushAfter is Push for an entry that is due delay after the caller's present (at is
// now + delay): it goes to the back of delay's lane when that keeps the lane in order,
// else into the heap. The order of pops is the same as with Push.
func (q *Queue[T]) PushAfter(at, delay int64, v T) Handle {
	si, s := q.alloc(at, v)
	if l := q.laneFor(delay); l >= 0 && q.lanes[l].fits(at, s.seq) {
		q.laneInsert(l, si, s)
	} else {
		q.heapInsert(si, s)
	}
	if q.log != nil {
		q.log.push(si, at, delay, true)
	}
	return Handle{slot: si, gen: s.gen}
}

// laneFor returns delay's lane, making one if there is room, or -1.
func (q *Queue[T]) laneFor(delay int64) int {
	for i := range q.lanes {
		if q.lanes[i].delay == delay {
			return i
		}
	}
	if len(q.lanes) == maxLanes {
		return -1
	}
	q.lanes = append(q.lanes, lane{delay: delay})
	return len(q.lanes) - 1
}

// heapInsert makes a key of the entry's true key stand for it in the heap.
func (q *Queue[T]) heapInsert(si uint32, s *slot[T]) {
	s.where = inHeap
	s.kat, s.kseq = s.at, s.seq
	if len(q.heap) == 0 {
		q.heap = make([]key, root, root+64)
	}
	q.heap = append(q.heap, key{at: s.at, seq: s.seq, slot: si})
	q.up(len(q.heap) - 1)
}

// laneInsert makes a key of the entry's true key stand for it at the back of lane l.
func (q *Queue[T]) laneInsert(l int, si uint32, s *slot[T]) {
	s.where = int32(l)
	s.kat, s.kseq = s.at, s.seq
	q.lanes[l].pushBack(key{at: s.at, seq: s.seq, slot: si})
}

// liveSlot returns the slot h names, or nil if the handle is stale.
func (q *Queue[T]) liveSlot(h Handle) *slot[T] {
	if uint64(h.slot) >= uint64(len(q.slots)) {
		return nil
	}
	s := &q.slots[h.slot]
	if s.gen != h.gen || s.where == isFree {
		return nil
	}
	return s
}

// Reset moves the entry h names to virtual time at and gives it a fresh sequence number,
// so it orders as if pushed now. It reports whether h was live; a stale handle is a no-op.
// Moving later is O(1): the entry is re-keyed when it reaches the front. Moving earlier
// gives it a new key at once and leaves the old one behind dead.
func (q *Queue[T]) Reset(h Handle, at int64) bool {
	s := q.liveSlot(h)
	if s == nil {
		return false
	}
	if q.log != nil {
		q.log.op(OpReset, h.slot, at)
	}
	if q.seq >= seqLimit {
		q.renumber()
	}
	q.seq++
	s.at, s.seq = at, q.seq
	// The fresh sequence makes the new key later than the entry's key even at an equal
	// time, so that key stays a lower bound.
	if at >= s.kat {
		return true
	}
	// Earlier than its key: that key is dead now, and the entry goes where its new key
	// keeps order (a lane entry back to its lane if it fits there, else the heap).
	was := s.where
	q.bury(s)
	if was >= 0 && q.lanes[was].fits(at, s.seq) {
		q.laneInsert(int(was), h.slot, s)
	} else {
		q.heapInsert(h.slot, s)
	}
	q.compact(was)
	return true
}

// bury counts the key that stands for s as dead, where it is.
func (q *Queue[T]) bury(s *slot[T]) {
	if s.where == inHeap {
		q.heapDead++
	} else {
		q.lanes[s.where].dead++
	}
}

// compact compacts the heap or lane where (inHeap or a lane) if its dead keys outnumber
// its live ones.
func (q *Queue[T]) compact(where int32) {
	if where == inHeap {
		if q.heapDead >= minCompact && 2*q.heapDead > len(q.heap)-root {
			q.compactHeap()
		}
		return
	}
	if l := &q.lanes[where]; l.dead >= minCompact && 2*l.dead > l.n {
		q.compactLane(l)
	}
}

// Cancel removes the entry h names and reports whether h was live; a stale handle is a
// no-op. Its key stays behind, dead, until it reaches the front or a compaction.
func (q *Queue[T]) Cancel(h Handle) bool {
	s := q.liveSlot(h)
	if s == nil {
		return false
	}
	if q.log != nil {
		q.log.op(OpCancel, h.slot, 0)
	}
	where := s.where
	q.bury(s)
	q.live--
	q.release(h.slot)
	q.compact(where)
	return true
}

// compactHeap drops the heap's dead keys and restores heap order. Keys are unique, so the
// order of pops does not depend on the heap's shape.
func (q *Queue[T]) compactHeap() {
	h := q.heap
	n := root
	for _, k := range h[root:] {
		if q.slots[k.slot].kseq == k.seq {
			h[n] = k
			n++
		}
	}
	clear(h[n:])
	q.heap = h[:n]
	q.heapDead = 0
	q.compactions++
	if n > root {
		for i := parent(n - 1); i >= root; i-- {
			q.down(i)
		}
	}
}

// renumber gives every sequence in use a new, small number in the same order, so that
// 32-bit sequences never run out: it drops every dead key, then maps the entries' key and
// true sequences to their ranks. Comparisons see only these sequences, so no order
// changes. It runs once per ~4 billion pushes and resets, and allocates.
func (q *Queue[T]) renumber() {
	if q.heapDead > 0 {
		q.compactHeap()
	}
	for l := range q.lanes {
		if q.lanes[l].dead > 0 {
			q.compactLane(&q.lanes[l])
		}
	}
	seqs := make([]uint32, 0, 2*q.live)
	for i := range q.slots {
		if s := &q.slots[i]; s.where != isFree {
			seqs = append(seqs, s.kseq)
			if s.seq != s.kseq {
				seqs = append(seqs, s.seq)
			}
		}
	}
	slices.Sort(seqs)
	rank := func(seq uint32) uint32 {
		i, _ := slices.BinarySearch(seqs, seq)
		return uint32(i + 1) // sequences start at 1
	}
	if len(q.heap) > root {
		for i := range q.heap[root:] {
			k := &q.heap[root+i]
			k.seq = rank(k.seq)
		}
	}
	for l := range q.lanes {
		ln := &q.lanes[l]
		for i := range ln.n {
			k := &ln.keys[(ln.head+i)&(len(ln.keys)-1)]
			k.seq = rank(k.seq)
		}
	}
	for i := range q.slots {
		if s := &q.slots[i]; s.where != isFree {
			s.seq, s.kseq = rank(s.seq), rank(s.kseq)
		}
	}
	q.seq = uint32(len(seqs))
	q.renumbers++
}

// compactLane drops lane l's dead keys, keeping the others in order.
func (q *Queue[T]) compactLane(l *lane) {
	mask := len(l.keys) - 1
	n := 0
	for i := range l.n {
		k := l.keys[(l.head+i)&mask]
		if q.slots[k.slot].kseq == k.seq {
			l.keys[(l.head+n)&mask] = k
			n++
		}
	}
	l.n, l.dead = n, 0
	q.compactions++
}

// When reports the virtual time the entry h names is due, and whether h is live.
func (q *Queue[T]) When(h Handle) (int64, bool) {
	s := q.liveSlot(h)
	if s == nil {
		return 0, false
	}
	return s.at, true
}

// Peek returns the earliest entry without removing it. It may drop dead keys and re-key
// entries that were reset later, which changes no observable order.
func (q *Queue[T]) Peek() (at int64, v T, ok bool) {
	src := q.settle()
	if src == srcEmpty {
		return 0, v, false
	}
	s := &q.slots[q.frontKey(src).slot]
	return s.at, s.v, true
}

// Pop removes and returns the earliest entry; ok is false when the queue is empty. The
// entry's handle becomes stale.
func (q *Queue[T]) Pop() (at int64, v T, ok bool) {
	src := q.settle()
	if src == srcEmpty {
		return 0, v, false
	}
	var si uint32
	if src == srcHeap {
		si = q.heap[root].slot
		q.popTop()
	} else {
		l := &q.lanes[src]
		si = l.front().slot
		l.popFront()
	}
	s := &q.slots[si]
	at, v = s.at, s.v
	if q.log != nil {
		q.log.op(OpPop, si, at)
	}
	q.live--
	q.release(si)
	return at, v, true
}

// Sources settle reports: a lane index, the heap, or nothing.
const (
	srcHeap  = -1
	srcEmpty = -2
)

func (q *Queue[T]) frontKey(src int) *key {
	if src == srcHeap {
		return &q.heap[root]
	}
	return q.lanes[src].front()
}

// settle finds the earliest entry and reports where it is. The least of the front keys
// is a lower bound of every live entry's key; if it is live and true, it is the earliest
// entry. Otherwise it is dropped (dead) or re-keyed (reset later) and settle looks again.
// Only that one key's slot is read, the slot a Pop reads anyway.
func (q *Queue[T]) settle() int {
	for {
		src := srcEmpty
		var best *key
		if len(q.heap) > root {
			src, best = srcHeap, &q.heap[root]
		}
		for l := range q.lanes {
			ln := &q.lanes[l]
			if ln.n > 0 && (best == nil || less(ln.front(), best)) {
				src, best = l, ln.front()
			}
		}
		if src == srcEmpty {
			return src
		}
		s := &q.slots[best.slot]
		if s.kseq != best.seq {
			// Dead: cancelled, reset earlier, or its slot reused.
			if src == srcHeap {
				q.popTop()
				q.heapDead--
			} else {
				q.lanes[src].popFront()
				q.lanes[src].dead--
			}
			continue
		}
		if best.at == s.at && best.seq == s.seq {
			return src
		}
		// Reset later: re-key it before it is due, which changes no order (its key only
		// moves to its true key), and look again.
		if src == srcHeap {
			best.at, best.seq = s.at, s.seq
			s.kat, s.kseq = s.at, s.seq
			q.down(root)
			continue
		}
		si := best.slot
		ln := &q.lanes[src]
		ln.popFront()
		if ln.fits(s.at, s.seq) {
			q.laneInsert(src, si, s)
		} else {
			q.heapInsert(si, s)
		}
	}
}

// release frees a slot: the generation bump makes outstanding handles stale, and the
// value is zeroed so the queue keeps nothing reachable.
func (q *Queue[T]) release(si uint32) {
	s := &q.slots[si]
	var zero T
	s.v = zero
	s.where = isFree
	s.kseq = 0
	s.gen++
	if s.gen == 0 { // keep Handle{} dead after wrap-around
		s.gen = 1
	}
	q.free = append(q.free, si)
}

func less(a, b *key) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// children returns the index of i's first child; parent is the inverse. With the root
// at 3, children are 4i-8 .. 4i-5 (a multiple of four: one cache line) and the parent of
// j is j/4 + 2.
func children(i int) int { return 4*i - 8 }

func parent(j int) int { return j/4 + 2 }

// popTop removes the heap's root. The hole left at the root moves down along the smaller
// children to a leaf, and the heap's last key fills it and sifts up: the last key
// usually belongs near the leaves, so this costs one comparison per level fewer than
// sifting it down from the root (Floyd's bottom-up heap).
func (q *Queue[T]) popTop() {
	h := q.heap
	last := len(h) - 1
	e := h[last]
	h = h[:last]
	q.heap = h
	if last == root {
		return
	}
	i := root
	for {
		c := children(i)
		if c >= last {
			break
		}
		m := c
		end := min(c+4, last)
		for j := c + 1; j < end; j++ {
			if less(&h[j], &h[m]) {
				m = j
			}
		}
		h[i] = h[m]
		i = m
	}
	h[i] = e
	q.up(i)
}

// up sifts the key at i toward the root.
func (q *Queue[T]) up(i int) {
	h := q.heap
	e := h[i]
	start := i
	for i > root {
		p := parent(i)
		if !less(&e, &h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	if i != start {
		h[i] = e
	}
}

// down sifts the key at i toward the leaves.
func (q *Queue[T]) down(i int) {
	h := q.heap
	n := len(h)
	e := h[i]
	start := i
	for {
		c := children(i)
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
		i = m
	}
	if i != start {
		h[i] = e
	}
}
