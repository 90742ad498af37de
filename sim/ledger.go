package sim

import "github.com/tasksim/tasksim/model"

// ledger is the kernel's own book of the load, kept apart from the oracle (which only
// watches): it numbers the steps the kernel submits, holds the submissions that arrive
// while the orchestrator is down, and, with the oracle's count of settled steps, says
// when the run is over. sim/live keeps a book of its own and feeds the same oracle.
type ledger struct {
	// next is the next step's id; runs are numbered like steps (one step per run).
	next model.StepID
	// held are steps submitted while the orchestrator was down, for its restart.
	held []model.StepSpec
}

// newStep numbers the next step of component with a payload of the given size.
func (l *ledger) newStep(component, payloadBytes int32) model.StepSpec {
	s := model.StepSpec{Step: l.next, Run: model.RunID(l.next), Component: component, PayloadBytes: payloadBytes}
	l.next++
	return s
}

// hold keeps a step for the orchestrator's restart.
func (l *ledger) hold(s model.StepSpec) { l.held = append(l.held, s) }

// release returns the held steps, in submission order, and forgets them.
func (l *ledger) release() []model.StepSpec {
	h := l.held
	l.held = nil
	return h
}

// over reports whether the run is done: nothing is held, and the oracle saw every step of
// the load settle.
func (l *ledger) over(o *oracle) bool { return len(l.held) == 0 && o.allSettled() }
