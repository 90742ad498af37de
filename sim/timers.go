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
// Workers hold a handful of timers, searched linearly in a slice; the orchestrator and
// the queue hold one per tracked task, in a map.
type timerTable struct {
	incarnation uint32
	few         []handleOf
	many        map[model.TimerID]eventq.Handle
}

// newTimerTable returns an empty table for incarnation; many selects the map storage.
func newTimerTable(incarnation uint32, many bool) *timerTable {
	t := &timerTable{incarnation: incarnation}
	if many {
		t.many = map[model.TimerID]eventq.Handle{}
	}
	return t
}

func (t *timerTable) get(id model.TimerID) (eventq.Handle, bool) {
	if t.many != nil {
		h, ok := t.many[id]
		return h, ok
	}
	if i := findHandle(t.few, uint64(id)); i >= 0 {
		return t.few[i].h, true
	}
	return eventq.Handle{}, false
}

func (t *timerTable) put(id model.TimerID, h eventq.Handle) {
	if t.many != nil {
		t.many[id] = h
		return
	}
	if i := findHandle(t.few, uint64(id)); i >= 0 {
		t.few[i].h = h
		return
	}
	t.few = append(t.few, handleOf{uint64(id), h})
}

func (t *timerTable) drop(id model.TimerID) {
	if t.many != nil {
		delete(t.many, id)
		return
	}
	if i := findHandle(t.few, uint64(id)); i >= 0 {
		t.few = dropHandle(t.few, i)
	}
}

// discard cancels every timer of the table in q: the process died, and its timers with it.
// The table must not be used afterwards.
func (t *timerTable) discard(q *eventq.Queue[event]) {
	// Cancelling removes entries without touching the order of the rest, so map order
	// does not matter here.
	for _, h := range t.many {
		q.Cancel(h)
	}
	for _, x := range t.few {
		q.Cancel(x.h)
	}
	t.many, t.few = nil, nil
}
