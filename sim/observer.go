package sim

import (
	"time"

	"github.com/tasksim/tasksim/model"
)

// Observer is the simulator's oracle for another driver: it takes the participants'
// lifecycle events and the ground truth that driver has (which steps it submitted, which
// worker processes it started, crashed, paused or cut off) and fills the same Result,
// the same summary paths, as a simulation of the scenario. The kernel's own ledger (step
// numbering, held submissions, when the run ends) stays with each driver; the oracle
// keeps its own table of worker slots, filled by WorkerStarted, and nothing of a kernel.
//
// An Observer is not safe for concurrent use; a driver with goroutines serialises its
// calls.
type Observer struct {
	o *oracle
}

// NewObserver returns an Observer for a run of cfg.
func NewObserver(cfg *Config) *Observer { return &Observer{o: newOracle(cfg)} }

// WorkerStarted records that worker process node started in slot index of pool.
func (ob *Observer) WorkerStarted(node model.NodeID, pool int32, index int) {
	ob.o.started(node, slotRef{pool, index})
}

// Submit records that step s was submitted at now.
func (ob *Observer) Submit(now time.Duration, s model.StepSpec) {
	ob.o.advance(now)
	ob.o.submit(now, s)
}

// Observe takes one lifecycle event a participant reported at now.
func (ob *Observer) Observe(now time.Duration, e *model.Event) {
	ob.o.advance(now)
	ob.o.observe(now, e)
}

// Message counts one protobuf message of type t, of n encoded bytes, that was sent.
func (ob *Observer) Message(t model.MsgType, n int) { ob.o.message(t, n) }

// Crashed records that the driver killed worker process node at now.
func (ob *Observer) Crashed(node model.NodeID, now time.Duration) {
	if _, ok := ob.o.slotOf(node); ok {
		ob.o.crashed(node, now)
	}
}

// Paused records that the driver paused the slot of worker process node for [from, until).
func (ob *Observer) Paused(node model.NodeID, from, until time.Duration) {
	if s, ok := ob.o.slotOf(node); ok {
		ob.o.paused(s, from, until)
	}
}

// CutOff records that the driver partitioned worker process node's slot for [from, until).
func (ob *Observer) CutOff(node model.NodeID, from, until time.Duration) {
	if s, ok := ob.o.slotOf(node); ok {
		ob.o.cutOff(s, from, until)
	}
}

// FaultStarted records that fault i of the scenario began at now (for the plots' shading).
func (ob *Observer) FaultStarted(i int, now time.Duration) {
	ob.o.faultWindow(i, &ob.o.cfg.Faults[i], now)
}

// Settled returns the steps settled and submitted so far.
func (ob *Observer) Settled() (settled, submitted int64) { return ob.o.settled, ob.o.submitted }

// AllSettled reports whether every step of the scenario's load was submitted and settled.
func (ob *Observer) AllSettled() bool { return ob.o.allSettled() }

// Result builds the run's result at now, the end of the run, with the pools' gauges.
func (ob *Observer) Result(now time.Duration, pools []PoolStats) *Result {
	return ob.o.result(now, pools)
}
