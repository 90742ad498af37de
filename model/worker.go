package model

import "time"

// Flavour is a worker implementation: the two reference SDKs and tasksim's strict variant
// (PROTOCOL.md, "Worker (two reference flavours)" and "What tasksim adds").
type Flavour uint8

const (
	// FlavourPython is the reference Python SDK: holds concurrency+1 assignments, retries
	// the claim on UNAVAILABLE, keeps running (and completing) after it is told to abort.
	FlavourPython Flavour = iota
	// FlavourRust is the reference Rust SDK: reads only with a free slot, ignores every
	// heartbeat answer, tries CompleteTask once.
	FlavourRust
	// FlavourStrict heartbeats on a fixed period without waiting, abandons a task it no
	// longer owns, and retries the claim and CompleteTask with capped backoff.
	FlavourStrict
)

var flavourNames = [...]string{"python", "rust", "strict"}

// String returns the scenario name of the flavour (python, rust, strict).
func (f Flavour) String() string {
	if int(f) < len(flavourNames) {
		return flavourNames[f]
	}
	return "Flavour(?)"
}

// ParseFlavour maps a scenario's flavour name (python, rust, strict) to a Flavour.
func ParseFlavour(name string) (Flavour, bool) {
	for i, n := range flavourNames {
		if n == name {
			return Flavour(i), true
		}
	}
	return 0, false
}

// Default worker timings, as PROTOCOL.md gives them.
const (
	// DefaultRPCTimeout is network.rpc_timeout's default.
	DefaultRPCTimeout = 10 * time.Second
	// MinHeartbeatInterval is the floor both reference loops put under the suggested period.
	MinHeartbeatInterval = time.Second
)

// Reasons of EvExecEnded reported by a worker.
const (
	// ExecFinished: the component returned (ComponentDone).
	ExecFinished uint8 = iota + 1
	// ExecAbandoned: the strict worker stopped the component because it no longer owns the task.
	ExecAbandoned
	// ExecCancelled: SIGTERM's grace ran out while the component ran; it was stopped and
	// no CompleteTask follows.
	ExecCancelled
)

// Reasons of EvTaskDropped.
const (
	// DropClaimFailed: the first heartbeat was refused or failed (Code, Status say how);
	// the component never ran.
	DropClaimFailed uint8 = iota + 1
	// DropCompleteFailed: the component ran but the worker gave up delivering its result
	// (Code is the last answer).
	DropCompleteFailed
	// DropDuplicate: the strict worker already holds this task's attempt (a duplicated
	// delivery); the copy is acknowledged and given up at once, so the step runs once.
	DropDuplicate
	// DropTerminated: given up because of SIGTERM: an assignment that arrived after it
	// (python notices SIGTERM on it), one read but not claimed, or a task still held when
	// the grace ran out. No CompleteTask is sent for it.
	DropTerminated
)

// WorkerConfig configures one worker process.
type WorkerConfig struct {
	// Node is this process; it is also its worker_id.
	Node NodeID
	// Orchestrator receives heartbeats and CompleteTask.
	Orchestrator NodeID
	// Source sends assignments: the orchestrator for `pull`, the queue node for `jetstream`.
	Source NodeID
	// Pool is the queue_name the worker pulls from.
	Pool    int32
	Flavour Flavour
	// Concurrency is how many tasks run at once; 0 means the flavour's default (4, 10, 4).
	Concurrency int
	// JetStream: assignments come from a jetstream queue and are acknowledged.
	JetStream bool
	// AckOnComplete (jetstream): acknowledge when CompleteTask is sent (or the assignment
	// is given up without one) instead of on receipt.
	AckOnComplete bool
	// HeartbeatInterval overrides the period; 0 means max(1s, the assignment's suggestion).
	HeartbeatInterval time.Duration
	// RPCTimeout is how long an RPC waits for its answer before DEADLINE_EXCEEDED; 0 means 10s.
	RPCTimeout time.Duration
}

// workerPhase is where one execution stands.
type workerPhase uint8

const (
	phaseWaiting    workerPhase = iota + 1 // read, waiting for a slot, not yet claimed (python's extra one)
	phaseClaiming                          // first heartbeat in flight, or waiting to be tried again
	phaseRunning                           // claimed; the component runs (or, discovery, is about to complete)
	phaseCompleting                        // CompleteTask in flight, or waiting to be tried again
)

// rpcKind is what an execution's awaited claim or CompleteTask is (a loop heartbeat in
// flight is beatCall, since a loop may beat while CompleteTask is tried).
type rpcKind uint8

const (
	rpcNone rpcKind = iota
	rpcClaim
	rpcComplete
)

// workerTimerKind is the low bits of a worker TimerID; the high bits are the Exec number, so each
// execution has at most one timer of each kind and moving one re-uses its id.
type workerTimerKind uint8

const (
	timerBeat  workerTimerKind = iota + 1 // the heartbeat loop's next send
	timerRPC                              // the awaited claim's or CompleteTask's deadline
	timerRetry                            // the pause before a claim or CompleteTask is tried again
)

const timerKindBits = 2

// workerTimerID names the timer of one kind of execution exec.
func workerTimerID(exec uint32, kind workerTimerKind) TimerID {
	return TimerID(uint64(exec)<<timerKindBits | uint64(kind))
}

// execution is one assignment the worker holds. Two copies of one task are two executions.
type workerExec struct {
	exec      uint32
	task      TaskID
	run       RunID
	step      StepID
	attempt   uint32
	component int32
	delivery  uint32
	discovery bool
	interval  time.Duration
	// fromSource: the source delivered it (so it is acked with jetstream).
	fromSource bool

	phase    workerPhase
	slot     bool // holds one of the Concurrency slots
	credited bool // read from the source, so it counts in Held
	running  bool // the component runs (between EvExecStarted and EvExecEnded)
	beating  bool // the heartbeat loop is on
	acked    bool

	waitCall uint32 // the claim or CompleteTask this execution waits for, if waitKind != rpcNone
	waitKind rpcKind
	// beatCall is the loop heartbeat whose answer a loop that waits for answers
	// (BeatWaitsForAnswer) waits for, 0 for none; without a deadline it may wait for ever.
	beatCall uint32
	tries    int // tries of the current claim or CompleteTask

	result      ResultKind
	errorCode   ErrorCode
	outputBytes int32

	beatLive, rpcLive, retryLive bool // which of its timers are set
}

// pendingBeat is a strict heartbeat that has not been answered and may still be.
type pendingBeat struct {
	call   uint32
	exec   uint32
	sentAt time.Duration
}

// Worker is one worker process as a pure state machine: it reads assignments from its
// stream, claims them with a first heartbeat, runs the component (through the driver's
// RunOps), heartbeats, and sends CompleteTask, each the way its Flavour does.
type Worker struct {
	cfg   WorkerConfig
	pol   *FlavourPolicy // the flavour's row of the policy table
	slots int            // Concurrency
	free  int            // slots free

	held    int // assignments read from the source and not finished
	running int // components running

	// The read loop: reading means a read (Effects.Recv) is outstanding; streamUp means
	// the worker has a stream (it sent PullTasks and saw it fail since).
	reading  bool
	streamUp bool
	// connectFailures counts stream failures in a row (Reconnect says what resets it).
	connectFailures int
	// opened: the current stream has opened (StreamOpened, or an assignment came).
	opened bool
	// cleanEnd: a stream has ended with OK (python then exits on UNAVAILABLE).
	cleanEnd bool
	// broken: the stream failed (brokenCode) while the loop was not reading; it learns
	// of it when it next reads.
	broken        bool
	brokenCode    Code
	reconnectLive bool
	// exited: the process gave up reconnecting, or ended after SIGTERM (EvWorkerExited).
	exited bool
	// term is where a SIGTERM stands; graceLive: its grace timer is set.
	term      terminatePhase
	graceLive bool

	nextCall uint32
	nextExec uint32

	execs   []workerExec // live executions, in no particular order (looked up by exec)
	waiting []uint32     // FIFO of executions waiting for a slot
	beats   []pendingBeat
}

// reconnectTimer is the worker's one process-wide timer: exec number 0 is never used by
// an execution.
var reconnectTimer = workerTimerID(0, timerBeat)

// NewWorker returns a worker that has not connected yet (see Start).
func NewWorker(cfg WorkerConfig) *Worker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = cfg.Flavour.DefaultConcurrency()
	}
	if cfg.RPCTimeout <= 0 {
		cfg.RPCTimeout = DefaultRPCTimeout
	}
	pol := &policies[FlavourStrict]
	if int(cfg.Flavour) < len(policies) {
		pol = &policies[cfg.Flavour]
	}
	return &Worker{cfg: cfg, pol: pol, slots: cfg.Concurrency, free: cfg.Concurrency}
}

// Config returns the configuration with defaults filled in.
func (w *Worker) Config() WorkerConfig { return w.cfg }

// Running is the number of component executions in progress.
func (w *Worker) Running() int { return w.running }

// Held is the number of assignments read from the source and not yet finished with,
// including those waiting for a slot (python holds up to Concurrency+1).
func (w *Worker) Held() int { return w.held }

// Waiting is the number of assignments read but waiting for a slot, unclaimed.
func (w *Worker) Waiting() int { return len(w.waiting) }

// Reading reports whether a read of the stream is outstanding (Effects.Recv asked for
// one and no assignment has answered it yet).
func (w *Worker) Reading() bool { return w.reading }

// Exited reports whether the process has ended (it gave up reconnecting).
func (w *Worker) Exited() bool { return w.exited }

// Start connects the worker: it opens its assignment stream and starts reading.
func (w *Worker) Start(now time.Duration, out *Effects) {
	w.pull(now, out)
}

// StreamBroken tells the worker its stream failed (code UNAVAILABLE: the connection
// broke, the orchestrator is gone or refused it) or ended (code OK). The outstanding
// read is void; the worker reconnects as its flavour does, or gives up and exits.
// Tasks it holds are untouched: their RPCs go their own way. A jetstream worker's
// subscription is the queue's, so it does nothing.
//
// The read loop learns of it when it reads: at once if a read is outstanding, otherwise
// when it would next read (a worker waiting for a free slot finds out once one frees).
func (w *Worker) StreamBroken(now time.Duration, code Code, out *Effects) {
	if w.cfg.JetStream || !w.streamUp || w.exited {
		return
	}
	w.streamUp = false
	if !w.reading {
		w.broken, w.brokenCode = true, code
		return
	}
	w.reading = false
	w.reconnect(now, code, out)
}

// StreamOpened tells the worker its stream opened: the orchestrator accepted PullTasks
// (its response headers arrived). A rust worker's count of failures in a row starts
// again.
func (w *Worker) StreamOpened(now time.Duration, out *Effects) {
	if w.cfg.JetStream || !w.streamUp || w.exited {
		return
	}
	w.streamOpened()
}

func (w *Worker) streamOpened() {
	w.opened = true
	if w.pol.Reconnect.ResetOnOpen {
		w.connectFailures = 0
	}
}

// reconnect is what the read loop does once it knows its stream failed (or ended, code
// OK): it opens it again, at once or after its flavour's pause, or gives up and exits.
func (w *Worker) reconnect(now time.Duration, code Code, out *Effects) {
	if w.term == termPending {
		// The python loop checks the flag when its stream fails, and leaves.
		w.notice(now, w.pol.SigtermGrace, out)
		return
	}
	r := &w.pol.Reconnect
	opened := w.opened
	w.opened = false
	if code == CodeOK && r.CleanEndReconnects {
		w.connectFailures, w.cleanEnd = 0, true
		w.pull(now, out)
		return
	}
	w.connectFailures++
	delay, again := r.Delay(w.connectFailures)
	if code == CodeUnavailable && w.cleanEnd && r.ExitOnUnavailableAfterCleanEnd {
		again = false
	}
	if !again {
		w.exited = true
		out.Events = append(out.Events, Event{Kind: EvWorkerExited, Node: w.cfg.Node, Worker: w.cfg.Node, Code: code})
		return
	}
	if opened && r.AtOnceAfterOpen {
		w.pull(now, out)
		return
	}
	w.reconnectLive = true
	out.Timers = append(out.Timers, TimerOp{ID: reconnectTimer, At: now + delay})
}

// pull opens the stream (PullTasksRequest) and starts the read loop.
func (w *Worker) pull(now time.Duration, out *Effects) {
	w.streamUp = true
	out.Send = append(out.Send, Message{Type: MsgPullTasks, From: w.cfg.Node, To: w.cfg.Source,
		Worker: w.cfg.Node, Pool: w.cfg.Pool})
	w.read(now, out)
}

// wantsRead reports whether the flavour's read loop would call Recv now: python over
// gRPC reads one assignment ahead of its slots (it reads, then waits for a slot); rust,
// strict and python over NATS read only with a free slot.
func (w *Worker) wantsRead() bool {
	if len(w.waiting) > 0 {
		return false
	}
	if w.pol.ReadAhead && !w.cfg.JetStream {
		return true
	}
	return w.free > 0
}

// read asks the driver for the next assignment if the loop would read now; a stream
// that failed meanwhile is found broken instead.
func (w *Worker) read(now time.Duration, out *Effects) {
	if w.reading || w.exited || !w.wantsRead() {
		return
	}
	if w.broken {
		w.broken = false
		w.reconnect(now, w.brokenCode, out)
		return
	}
	if !w.streamUp {
		return
	}
	w.reading = true
	out.Recv = true
}

// Receive handles a message addressed to the worker: an assignment or an RPC answer.
func (w *Worker) Receive(now time.Duration, m Message, out *Effects) {
	if w.exited && w.term != termNone {
		return // the process is gone
	}
	switch m.Type {
	case MsgAssignment:
		w.assigned(now, m, out)
	case MsgHeartbeatReply:
		w.heartbeatReply(now, m, out)
	case MsgCompleteReply:
		w.completeReply(now, m, out)
	}
}

// Fire handles one of the worker's timers.
func (w *Worker) Fire(now time.Duration, id TimerID, out *Effects) {
	if w.exited && w.term != termNone {
		return // the process is gone
	}
	switch id {
	case reconnectTimer:
		if w.reconnectLive && !w.exited {
			w.reconnectLive = false
			if w.term == termPending {
				// The reconnect pause ends; the loop checks the flag and leaves.
				w.notice(now, w.pol.SigtermGrace, out)
				return
			}
			w.pull(now, out)
		}
		return
	case graceTimer:
		if w.graceLive {
			w.graceOver(now, out)
		}
		return
	}
	i := w.find(uint32(id >> timerKindBits))
	if i < 0 {
		return
	}
	e := &w.execs[i]
	switch workerTimerKind(id & (1<<timerKindBits - 1)) {
	case timerBeat:
		if !e.beatLive {
			return // not set (or cancelled): a stray input
		}
		e.beatLive = false
		if e.beating {
			w.sendBeat(now, i, out)
		}
	case timerRPC:
		if !e.rpcLive {
			return
		}
		e.rpcLive = false
		kind := e.waitKind
		e.waitKind, e.waitCall = rpcNone, 0
		switch kind {
		case rpcClaim:
			w.claimAnswered(now, i, CodeDeadlineExceeded, StatusUnspecified, false, out)
		case rpcComplete:
			w.completeAnswered(now, i, CodeDeadlineExceeded, out)
		}
	case timerRetry:
		if !e.retryLive {
			return
		}
		e.retryLive = false
		switch e.phase {
		case phaseClaiming:
			w.sendClaim(now, i, out)
		case phaseCompleting:
			w.sendComplete(now, i, out)
		}
	}
}

// find returns the index of execution exec in w.execs, or -1.
func (w *Worker) find(exec uint32) int {
	for i := range w.execs {
		if w.execs[i].exec == exec {
			return i
		}
	}
	return -1
}

// awaiting returns the index of the execution that waits for claim or CompleteTask call, or -1.
func (w *Worker) awaiting(call uint32) int {
	for i := range w.execs {
		if w.execs[i].waitKind != rpcNone && w.execs[i].waitCall == call {
			return i
		}
	}
	return -1
}

// beatAwaiting returns the index of the execution whose loop waits for heartbeat call, or -1.
func (w *Worker) beatAwaiting(call uint32) int {
	for i := range w.execs {
		if w.execs[i].beatCall == call {
			return i
		}
	}
	return -1
}

// call numbers a new RPC of this worker.
func (w *Worker) call() uint32 {
	w.nextCall++
	return w.nextCall
}

// await records that execution i waits for RPC call and, if the flavour sets one, sets
// that RPC's deadline.
func (w *Worker) await(now time.Duration, i int, call uint32, kind rpcKind, out *Effects) {
	e := &w.execs[i]
	e.waitCall, e.waitKind = call, kind
	if w.pol.RPCDeadline {
		w.setTimer(e, timerRPC, now+w.cfg.RPCTimeout, out)
	}
}

// answered clears execution i's awaited RPC and cancels its deadline.
func (w *Worker) answered(i int, out *Effects) {
	e := &w.execs[i]
	e.waitKind, e.waitCall = rpcNone, 0
	w.cancel(e, timerRPC, out)
}

// setTimer sets or moves one of execution e's timers.
func (w *Worker) setTimer(e *workerExec, kind workerTimerKind, at time.Duration, out *Effects) {
	switch kind {
	case timerBeat:
		e.beatLive = true
	case timerRPC:
		e.rpcLive = true
	case timerRetry:
		e.retryLive = true
	}
	out.Timers = append(out.Timers, TimerOp{ID: workerTimerID(e.exec, kind), At: at})
}

// cancel cancels one of execution e's timers if it is set.
func (w *Worker) cancel(e *workerExec, kind workerTimerKind, out *Effects) {
	live := &e.beatLive
	switch kind {
	case timerRPC:
		live = &e.rpcLive
	case timerRetry:
		live = &e.retryLive
	}
	if *live {
		*live = false
		out.Timers = append(out.Timers, TimerOp{ID: workerTimerID(e.exec, kind), Cancel: true})
	}
}

// event returns an event of execution e with its identity filled in.
func (w *Worker) event(kind EventKind, e *workerExec) Event {
	return Event{Kind: kind, Node: w.cfg.Node, Worker: w.cfg.Node, Step: e.step, Run: e.run,
		Task: e.task, Attempt: e.attempt, Component: e.component, Exec: e.exec, Discovery: e.discovery}
}

// reply reports an RPC answer the worker acted on.
func (w *Worker) reply(e *workerExec, m *Message, out *Effects) {
	ev := w.event(EvReply, e)
	ev.Reason = uint8(m.Type)
	ev.Code, ev.Status = m.Code, m.Status
	out.Events = append(out.Events, ev)
}

// ack acknowledges execution i's jetstream delivery, once.
func (w *Worker) ack(i int, out *Effects) {
	e := &w.execs[i]
	// The queue does not track targeted discovery deliveries, so they need no ack.
	if !w.cfg.JetStream || e.acked || !e.fromSource || e.discovery {
		return
	}
	e.acked = true
	out.Send = append(out.Send, Message{Type: MsgAck, From: w.cfg.Node, To: w.cfg.Source,
		Worker: w.cfg.Node, Task: e.task, Delivery: e.delivery})
}

// finish forgets execution i: its timers are cancelled, its slot goes to the next waiting
// assignment, and the read loop reads again if it now would.
func (w *Worker) finish(now time.Duration, i int, out *Effects) {
	e := &w.execs[i]
	w.cancel(e, timerBeat, out)
	w.cancel(e, timerRPC, out)
	w.cancel(e, timerRetry, out)
	if w.cfg.AckOnComplete {
		// A handler that ends without CompleteTask still acks, or the queue would
		// redeliver a refused task forever.
		w.ack(i, out)
	}
	if e.running {
		// Unreachable by design (callers end the component first); keep the gauge right.
		e.running = false
		w.running--
	}
	exec, slot, credited, phase := e.exec, e.slot, e.credited, e.phase
	w.dropBeats(exec)
	last := len(w.execs) - 1
	w.execs[i] = w.execs[last]
	w.execs[last] = workerExec{}
	w.execs = w.execs[:last]
	if phase == phaseWaiting {
		w.unwait(exec)
	}
	if slot {
		w.free++
		w.promote(now, out)
	}
	if credited {
		w.held--
	}
	w.read(now, out)
	w.exitIfDrained(now, out)
}

// unwait removes exec from the waiting FIFO.
func (w *Worker) unwait(exec uint32) {
	for j, x := range w.waiting {
		if x == exec {
			w.waiting = append(w.waiting[:j], w.waiting[j+1:]...)
			return
		}
	}
}

// promote gives free slots to waiting assignments, oldest first, and claims them.
func (w *Worker) promote(now time.Duration, out *Effects) {
	for w.free > 0 && len(w.waiting) > 0 {
		exec := w.waiting[0]
		copy(w.waiting, w.waiting[1:])
		w.waiting = w.waiting[:len(w.waiting)-1]
		i := w.find(exec)
		if i < 0 {
			continue
		}
		w.free--
		w.execs[i].slot = true
		w.sendClaim(now, i, out)
	}
}
