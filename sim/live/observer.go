package live

import (
	"sync"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

// Observer is the simulator's oracle (sim.Observer) shared by the goroutines of a live
// run: every participant's events and the driver's ground truth go through one lock.
type Observer struct {
	mu sync.Mutex
	ob *sim.Observer
}

// NewObserver returns an Observer for a run of cfg.
func NewObserver(cfg *sim.Config) *Observer { return &Observer{ob: sim.NewObserver(cfg)} }

// Submit records a submitted step.
func (o *Observer) Submit(now time.Duration, s model.StepSpec) {
	o.mu.Lock()
	o.ob.Submit(now, s)
	o.mu.Unlock()
}

// Observe takes a participant's lifecycle event.
func (o *Observer) Observe(now time.Duration, e *model.Event) {
	o.mu.Lock()
	o.ob.Observe(now, e)
	o.mu.Unlock()
}

// Message counts a protobuf message put on a socket.
func (o *Observer) Message(t model.MsgType, n int) {
	o.mu.Lock()
	o.ob.Message(t, n)
	o.mu.Unlock()
}

// Crashed records a worker process the driver killed.
func (o *Observer) Crashed(node model.NodeID, now time.Duration) {
	o.mu.Lock()
	o.ob.Crashed(node, now)
	o.mu.Unlock()
}

// WorkerStarted records a worker process the driver started in slot index of pool.
func (o *Observer) WorkerStarted(node model.NodeID, pool int32, index int) {
	o.mu.Lock()
	o.ob.WorkerStarted(node, pool, index)
	o.mu.Unlock()
}

// CutOff records a worker process the driver partitioned from the orchestrator.
func (o *Observer) CutOff(node model.NodeID, from, until time.Duration) {
	o.mu.Lock()
	o.ob.CutOff(node, from, until)
	o.mu.Unlock()
}

// Paused records a worker process the driver paused.
func (o *Observer) Paused(node model.NodeID, from, until time.Duration) {
	o.mu.Lock()
	o.ob.Paused(node, from, until)
	o.mu.Unlock()
}

// FaultStarted records the start of fault i of the scenario.
func (o *Observer) FaultStarted(i int, now time.Duration) {
	o.mu.Lock()
	o.ob.FaultStarted(i, now)
	o.mu.Unlock()
}

// Settled returns the steps settled and submitted so far.
func (o *Observer) Settled() (settled, submitted int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ob.Settled()
}

// AllSettled reports whether every step was submitted and has settled.
func (o *Observer) AllSettled() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ob.AllSettled()
}

// Result builds the run's result at now.
func (o *Observer) Result(now time.Duration, pools []sim.PoolStats) *sim.Result {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ob.Result(now, pools)
}
