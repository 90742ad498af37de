package sim

import (
	"time"

	"github.com/tasksim/tasksim/model"
)

// Observer is the simulator's oracle for another driver: it takes the participants'
// lifecycle events and the ground truth that driver has (which steps it submitted, which
// worker processes it started, crashed, paused or cut off) and fills the same Result,
// the same summary paths, as a simulation of the scenario. The kernel's own ledger (step
// numbering, held submissions, when the run ends) stays with each driver.
//
// The oracle reads a worker's slot through the kernel's process table; the Observer keeps
// a table of its own, filled by WorkerStarted, and nothing else of a kernel.
//
// An Observer is not safe for concurrent use; a driver with goroutines serialises its
// calls.
type Observer struct {
	o *oracle
	w *world // only the worker nodes (node -> slot), cfg and now; no queue, no orchestrator
}

// NewObserver returns an Observer for a run of cfg.
func NewObserver(cfg *Config) *Observer {
	return &Observer{o: newOracle(cfg), w: &world{cfg: cfg}}
}

// WorkerStarted records that worker process node started in slot index of pool.
func (ob *Observer) WorkerStarted(node model.NodeID, pool int32, index int) {
	for int(node) >= len(ob.w.nodes) {
		ob.w.nodes = append(ob.w.nodes, nodeEntry{})
	}
	ob.w.nodes[node].proc = &proc{node: node, pool: pool, slot: &slot{pool: pool, index: index}, alive: true}
}

// Submit records that step s was submitted at now.
func (ob *Observer) Submit(now time.Duration, s model.StepSpec) {
	ob.o.advance(now)
	ob.o.submit(now, s)
}

// Observe takes one lifecycle event a participant reported at now.
func (ob *Observer) Observe(now time.Duration, e *model.Event) {
	ob.o.advance(now)
	ob.w.now = now
	ob.o.observe(now, e, ob.w)
}

// Message counts one protobuf message of type t, of n encoded bytes, that was sent.
func (ob *Observer) Message(t model.MsgType, n int) { ob.o.message(t, n) }

// Crashed records that the driver killed worker process node at now.
func (ob *Observer) Crashed(node model.NodeID, now time.Duration) {
	if p := ob.w.proc(node); p != nil {
		p.alive = false
		ob.o.crashed(p, now)
	}
}

// Paused records that the driver paused the slot of worker process node for [from, until).
func (ob *Observer) Paused(node model.NodeID, from, until time.Duration) {
	if p := ob.w.proc(node); p != nil {
		ob.o.paused(p.slot, from, until)
	}
}

// CutOff records that the driver partitioned worker process node's slot for [from, until).
func (ob *Observer) CutOff(node model.NodeID, from, until time.Duration) {
	if p := ob.w.proc(node); p != nil {
		ob.o.cutOff(p.slot, from, until)
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
	ob.w.now = now
	res := ob.o.result(ob.w)
	res.Metrics.Pools = pools
	return res
}
