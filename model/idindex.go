package model

import "slices"

// idIndex maps ids (task, node, run, delivery numbers) to values, in place of a Go map on
// the hot path. The model mints its ids in sequence (and the simulator its NodeIDs), so
// the ids alive at one time are a window of consecutive numbers: a direct-mapped table at
// id & mask holds each of them in its own entry, found with one masked load and one
// compare, no hashing. An id whose entry another live id holds (one that outlived the
// table's width of newer ids, or any id at all from outside: a parsed UUID in live mode)
// goes to the spill map, so every id is correct whatever its value; each entry counts
// the spilled ids that map to it, so a miss (a stale timer's task, a new run) never
// touches the map unless one of them might be it.
//
// The table doubles while more than half full, or while the spill holds more than one
// id in 16 (a task that lives long is looked up most: every heartbeat), up to 64
// entries per id alive: memory follows the ids alive at once and the span of their
// numbers, never the ids ever seen. It never shrinks below its peak. Spilled ids move
// back into the doubled table in key order, so no layout leans on map order.
type idIndex[K ~uint64 | ~uint32 | ~int32, V any] struct {
	direct []idEntry[K, V]
	mask   uint64
	n      int // ids held, in direct and spill
	spill  map[K]V
}

type idEntry[K ~uint64 | ~uint32 | ~int32, V any] struct {
	key K
	// state is entryUsed when key holds a value, plus the count of spilled ids whose
	// entry this is (one word for both keeps an entry of a 64-bit id in 16 bytes).
	state uint32
	val   V
}

const entryUsed = 1 << 31

func (e *idEntry[K, V]) holds(k K) bool { return e.state&entryUsed != 0 && e.key == k }
func (e *idEntry[K, V]) used() bool     { return e.state&entryUsed != 0 }
func (e *idEntry[K, V]) spilled() bool  { return e.state&^entryUsed != 0 }

const (
	idIndexMinSize = 64
	// idIndexMaxSpread bounds the entries per id alive when the table grows for the spill.
	idIndexMaxSpread = 64
)

// get returns the value of id k.
func (x *idIndex[K, V]) get(k K) (V, bool) {
	if len(x.direct) > 0 {
		e := &x.direct[uint64(k)&x.mask]
		if e.holds(k) {
			return e.val, true
		}
		if e.spilled() {
			v, ok := x.spill[k]
			return v, ok
		}
	}
	var zero V
	return zero, false
}

// set gives id k the value v.
func (x *idIndex[K, V]) set(k K, v V) {
	if 2*(x.n+1) > len(x.direct) ||
		len(x.spill) >= 16 && 16*len(x.spill) > x.n && len(x.direct) < idIndexMaxSpread*x.n {
		x.grow()
	}
	e := &x.direct[uint64(k)&x.mask]
	switch {
	case e.holds(k):
		e.val = v
	case !e.used():
		if e.spilled() {
			if _, ok := x.spill[k]; ok {
				delete(x.spill, k)
				e.state--
				x.n--
			}
		}
		e.key, e.val = k, v
		e.state |= entryUsed
		x.n++
	default:
		if x.spill == nil {
			x.spill = make(map[K]V)
		}
		if _, ok := x.spill[k]; !ok {
			e.state++ // at most the ids alive: never reaches entryUsed
			x.n++
		}
		x.spill[k] = v
	}
}

// delete forgets id k, if it is there.
func (x *idIndex[K, V]) delete(k K) {
	if len(x.direct) == 0 {
		return
	}
	e := &x.direct[uint64(k)&x.mask]
	if e.holds(k) {
		var zero V
		e.key, e.val = 0, zero
		e.state &^= entryUsed
		x.n--
		return
	}
	if e.spilled() {
		if _, ok := x.spill[k]; ok {
			delete(x.spill, k)
			e.state--
			x.n--
		}
	}
}

// len reports the ids held.
func (x *idIndex[K, V]) len() int { return x.n }

// reset forgets every id, keeping the table's size.
func (x *idIndex[K, V]) reset() {
	clear(x.direct)
	x.spill = nil
	x.n = 0
}

// grow doubles the table. Two ids in distinct entries stay in distinct entries (the new
// mask keeps the old bits); spilled ids move into the free entries of the new table, in
// key order, and those that still collide stay spilled.
func (x *idIndex[K, V]) grow() {
	size := 2 * len(x.direct)
	if size < idIndexMinSize {
		size = idIndexMinSize
	}
	old := x.direct
	x.direct = make([]idEntry[K, V], size)
	x.mask = uint64(size - 1)
	for i := range old {
		if old[i].used() {
			x.direct[uint64(old[i].key)&x.mask] = idEntry[K, V]{key: old[i].key, state: entryUsed, val: old[i].val}
		}
	}
	if len(x.spill) == 0 {
		return
	}
	keys := make([]K, 0, len(x.spill))
	for k := range x.spill {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e := &x.direct[uint64(k)&x.mask]
		if e.used() {
			e.state++
			continue
		}
		e.key, e.val = k, x.spill[k]
		e.state |= entryUsed
		delete(x.spill, k)
	}
}
