package sim

import (
	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim/eventq"
)

// timerTable is one process incarnation's live timers: the only place the kernel keeps
// the queue handles of a participant's timers. A process that dies takes its table with
// it (discard cancels every entry and the process gets a fresh table with the next
// incarnation), so no handle of a previous life can be found again: a restarted
// participant that arms a timer under an id its previous life used gets a new entry, never
// a Reset of a stale one. Each timer event carries the incarnation that armed it, and
// fire runs only events of the current one.
//
// Workers hold a handful of timers, searched linearly in the table's own array (a worker
// process's table is in its proc record); the orchestrator and the queue hold one per
// tracked task, in a dense table (see manyTimers), which a worker's table also moves to
// if it ever outgrows its array.
type timerTable struct {
	incarnation uint32
	n           uint8 // entries in few
	many        *manyTimers
	few         [4]handleOf
}

// newTimerTable returns an empty table for incarnation; many selects the dense storage.
func newTimerTable(incarnation uint32, many bool) *timerTable {
	t := &timerTable{incarnation: incarnation}
	if many {
		t.many = &manyTimers{}
	}
	return t
}

func (t *timerTable) get(id model.TimerID) (eventq.Handle, bool) {
	if t.many != nil {
		return t.many.get(id)
	}
	if i := findHandle(t.few[:t.n], uint64(id)); i >= 0 {
		return t.few[i].h, true
	}
	return eventq.Handle{}, false
}

func (t *timerTable) put(id model.TimerID, h eventq.Handle) {
	if t.many != nil {
		t.many.put(id, h)
		return
	}
	if i := findHandle(t.few[:t.n], uint64(id)); i >= 0 {
		t.few[i].h = h
		return
	}
	if int(t.n) < len(t.few) {
		t.few[t.n] = handleOf{uint64(id), h}
		t.n++
		return
	}
	// Outgrown: every timer moves to the dense table, for good.
	t.many = &manyTimers{}
	for _, x := range t.few {
		t.many.put(model.TimerID(x.id), x.h)
	}
	t.n = 0
	t.many.put(id, h)
}

func (t *timerTable) drop(id model.TimerID) {
	if t.many != nil {
		t.many.drop(id)
		return
	}
	if i := findHandle(t.few[:t.n], uint64(id)); i >= 0 {
		t.n = uint8(len(dropHandle(t.few[:t.n], i)))
	}
}

// discard cancels every timer of the table in q: the process died, and its timers with it.
// The table must not be used afterwards.
func (t *timerTable) discard(q *eventq.Queue[event]) {
	// Cancelling changes no other entry's place in the order of pops, so the order of
	// the cancels (map order included) does not matter here.
	if t.many != nil {
		t.many.each(func(h eventq.Handle) { q.Cancel(h) })
	}
	for _, x := range t.few[:t.n] {
		q.Cancel(x.h)
	}
	t.many, t.n = nil, 0
}

// manyTimers holds many timers by id without hashing. Participants with many timers
// name a table slot in an id's low 32 bits and the timer's kind in its top byte (the
// orchestrator: kind, slot generation, slot; the JetStream queue: a delivery number), so
// a cell per (top byte, low 32 bits) below denseLimit finds almost every id at once; the
// cell keeps the whole id, and an id whose cell is taken by another (an older slot
// generation still armed) or out of range goes to a map. Any id scheme is correct here;
// these ones are fast.
type manyTimers struct {
	rows  [256][]timerCell
	other map[model.TimerID]eventq.Handle
}

type timerCell struct {
	id model.TimerID
	h  eventq.Handle // zero: the cell is empty
}

// denseLimit bounds a row's cells (16 bytes each); larger slots use the map.
const denseLimit = 1 << 22

func (m *manyTimers) cell(id model.TimerID, grow bool) *timerCell {
	col := uint32(id)
	if col >= denseLimit {
		return nil
	}
	row := &m.rows[id>>56]
	if int(col) >= len(*row) {
		if !grow {
			return nil
		}
		*row = append(*row, make([]timerCell, int(col)+1-len(*row)+len(*row)/2)...)
	}
	return &(*row)[col]
}

func (m *manyTimers) get(id model.TimerID) (eventq.Handle, bool) {
	if c := m.cell(id, false); c != nil && c.id == id && c.h != (eventq.Handle{}) {
		return c.h, true
	}
	if m.other != nil {
		h, ok := m.other[id]
		return h, ok
	}
	return eventq.Handle{}, false
}

func (m *manyTimers) put(id model.TimerID, h eventq.Handle) {
	// An id lives in one place: its cell if it is there, else the map if it is there,
	// else a free cell, else the map.
	c := m.cell(id, true)
	if c != nil && c.id == id && c.h != (eventq.Handle{}) {
		c.h = h
		return
	}
	if _, ok := m.other[id]; ok {
		m.other[id] = h
		return
	}
	if c != nil && c.h == (eventq.Handle{}) {
		c.id, c.h = id, h
		return
	}
	if m.other == nil {
		m.other = map[model.TimerID]eventq.Handle{}
	}
	m.other[id] = h
}

func (m *manyTimers) drop(id model.TimerID) {
	if c := m.cell(id, false); c != nil && c.id == id && c.h != (eventq.Handle{}) {
		*c = timerCell{}
		return
	}
	delete(m.other, id)
}

func (m *manyTimers) each(f func(eventq.Handle)) {
	for r := range m.rows {
		for _, c := range m.rows[r] {
			if c.h != (eventq.Handle{}) {
				f(c.h)
			}
		}
	}
	for _, h := range m.other {
		f(h)
	}
}
