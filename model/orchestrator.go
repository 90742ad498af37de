package model

import "time"

// Detector is how the orchestrator notices that an executing task's worker went silent.
type Detector uint8

const (
	// DetectorScan is the reference's: one scanner on a fixed cycle of HeartbeatTimeout
	// from process start fails each executing task that started at least HeartbeatTimeout
	// ago and was not seen since the previous scan, so detection takes (timeout, 2·timeout].
	DetectorScan Detector = iota
	// DetectorDeadline gives each executing task its own deadline at last heartbeat +
	// HeartbeatTimeout, moved on every heartbeat: detection takes exactly the timeout.
	DetectorDeadline
)

// ComponentSpec is what the orchestrator knows of one component (indexed by Component).
type ComponentSpec struct {
	// Pool is the queue (worker pool) its assignments go to.
	Pool int32
	// Retriable says whether its component errors use the component retry budget.
	Retriable bool
}

// OrchestratorConfig configures an Orchestrator. Zero timeouts take the reference defaults
// (see NewOrchestrator); zero budgets mean no retries.
type OrchestratorConfig struct {
	// Node is the orchestrator's own NodeID; Queue is where assignments go: Node itself
	// for the pull queue, the JetStreamQueue's node when JetStream is set.
	Node, Queue NodeID
	// JetStream sends every assignment to Queue instead of keeping a pull FIFO.
	JetStream bool
	Detector  Detector
	// HeartbeatTimeout is the crash-detection window (default 5s) and the scan cycle.
	HeartbeatTimeout time.Duration
	// HeartbeatInterval is suggested to workers in execute assignments (default 1s).
	HeartbeatInterval time.Duration
	// QueueTimeout fails a task still Queued this long after its dispatch (default 30s);
	// DiscoveryQueueTimeout does the same for list_components tasks (default 5s).
	QueueTimeout, DiscoveryQueueTimeout time.Duration
	// ExecutionTimeout caps the time from claim to completion; 0 = no cap.
	ExecutionTimeout time.Duration
	// MaxTransportRetries and MaxComponentRetries are the per-step retry budgets.
	MaxTransportRetries, MaxComponentRetries int
	Backoff                                  Backoff
	// PerAttemptIDs gives every attempt a fresh TaskID; false reuses the step's TaskID for
	// every attempt, as the reference does.
	PerAttemptIDs bool
	// Discovery enqueues one list_components task on a queue's FIFO per PullTasks connect.
	Discovery bool
	// UnhealthyAfter flags a component after that many consecutive failed completions;
	// 0 disables the health tracker.
	UnhealthyAfter int
	// RecoveryTime is how long the journal's replay takes after a restart: until then
	// every unknown task answers UNAVAILABLE (the start-up gate), and then the unfinished
	// steps are re-dispatched. A run's own gate stays closed until its first task result
	// (see Restart). The first Start has an empty journal and no gate.
	RecoveryTime time.Duration
	// ScanDuration models how long one scan takes (scan detector only; default 0). The
	// scan decides whom to fail when it starts but clears the seen set only when it ends,
	// so a heartbeat that lands during a scan is wiped and does not count for the next
	// one (PROTOCOL.md hazard 2). It is clamped below HeartbeatTimeout.
	ScanDuration time.Duration
	// MaxTasksPerRun caps a run's steps in flight (dispatched, not settled; a retry in
	// its backoff included); the others wait in the run, not in the queue. 0 = no cap.
	// As Stepflow's FlowExecutor (stepflow-execution/src/flow_executor.rs, run_internal)
	// every task result of the run starts max(cap - in flight, 1) waiting steps, so a
	// result that is retried lets one more step in past the cap.
	MaxTasksPerRun int
	// Components describes each component, indexed by Message.Component.
	Components []ComponentSpec
}

// StepSpec is one logical step submitted to the orchestrator.
type StepSpec struct {
	Step         StepID
	Run          RunID
	Component    int32
	PayloadBytes int32
}

// Reference defaults for zero config values.
const (
	defaultHeartbeatTimeout      = 5 * time.Second
	defaultHeartbeatInterval     = time.Second
	defaultQueueTimeout          = 30 * time.Second
	defaultDiscoveryQueueTimeout = 5 * time.Second
)

// taskPhase is where a tracked task is in its life.
type taskPhase uint8

const (
	phaseFree      taskPhase = iota
	phaseQueued              // dispatched, no heartbeat yet
	phaseExecuting           // claimed by worker
)

// noSlot marks an absent slot index.
const noSlot int32 = -1

// isDiscovery reports whether t is a list_components task (it belongs to no step).
func (t *orchTask) isDiscovery() bool { return t.step == noSlot }

// orchTask is one tracked task, in a dense slot of Orchestrator.tasks. It is 64 bytes, one
// cache line, so a heartbeat (index entry, then task) touches two lines; a discovery task
// is the one without a step (step == noSlot), which keeps a flag out of the line.
type orchTask struct {
	id        TaskID
	step      int32 // slot in Orchestrator.steps; noSlot for discovery tasks
	gen       uint32
	attempt   uint32
	phase     taskPhase
	seen      bool // heartbeat from the claimant since the previous scan
	hbTimer   bool // deadline detector: heartbeat deadline is live
	execTimer bool // deadline detector: execution cap is live
	stepID    StepID
	run       RunID
	component int32
	worker    NodeID
	startedAt time.Duration // entered Executing
	lastSeen  time.Duration // last heartbeat from the claimant arrived
	// prev and next link Executing tasks in claim order, so the scan walks a fixed order.
	prev, next int32
}

// orchStep is one unfinished step. The steps table is the journal: it survives Crash.
type orchStep struct {
	id               StepID
	run              RunID
	component        int32
	payload          int32
	task             TaskID
	attempt          uint32 // last dispatched attempt, 1-based
	transportRetries int32
	componentRetries int32
	gen              uint32
	live             bool
	// retryJournaled: a retry's attempt (attempt+1) is in the journal but was not
	// dispatched yet (its backoff was running).
	retryJournaled bool
	// Volatile fields, rebuilt on Restart.
	taskSlot     int32 // the tracked task of the current attempt; noSlot if none
	inRunFlight  bool  // counted in its run's in-flight steps (MaxTasksPerRun)
	retryPending bool  // waiting for the backoff timer
	retryReason  uint8 // Dispatch* reason of the pending retry
	lastError    ErrorCode
}

// queueDeadline is one dispatch's queue deadline, kept until it fires (never cancelled).
type queueDeadline struct {
	task    TaskID
	attempt uint32
	gen     uint32
	live    bool
}

// Orchestrator is the reference orchestrator as a pure state machine (PROTOCOL.md,
// "Orchestrator (reference behaviour)", plus the deadline detector and per_attempt ids).
// It is driven by Start, Submit, Receive, Fire, Crash and Restart.
type Orchestrator struct {
	cfg OrchestratorConfig
	up  bool

	// Journal: survives Crash. nextTask stands for UUID uniqueness: ids never repeat.
	steps     []orchStep
	freeSteps []int32
	liveSteps int
	nextTask  TaskID

	// In-memory tables, lost on Crash.
	tasks        []orchTask
	freeTasks    []int32
	taskIndex    idIndex[TaskID, int32]
	trackedTasks int
	execHead     int32
	execTail     int32
	executing    int
	// scanExec and scanSilent are the scan's lists, kept to reuse their arrays.
	scanExec, scanSilent []scanned

	deadlines     []queueDeadline
	freeDeadlines []int32

	workers     []orchWorker
	workerIndex idIndex[NodeID, int32]
	pools       []orchPool

	health []componentHealth

	// Runs' cap bookkeeping (MaxTasksPerRun > 0 only): in-memory, rebuilt by recovery.
	runs     []orchRun
	freeRuns []int32
	runIndex idIndex[RunID, int32]

	// startupPending is the start-up gate; recovering holds the runs whose own gate is
	// closed (see Restart).
	startupPending bool
	recovering     map[RunID]bool
	recoverySteps  []int32
}

// NewOrchestrator returns an orchestrator that is up but has not started its scan cycle
// (call Start). Zero HeartbeatTimeout, HeartbeatInterval, QueueTimeout and
// DiscoveryQueueTimeout take the reference defaults 5s, 1s, 30s and 5s.
func NewOrchestrator(cfg OrchestratorConfig) *Orchestrator {
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = defaultHeartbeatTimeout
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = defaultHeartbeatInterval
	}
	if cfg.QueueTimeout <= 0 {
		cfg.QueueTimeout = defaultQueueTimeout
	}
	if cfg.DiscoveryQueueTimeout <= 0 {
		cfg.DiscoveryQueueTimeout = defaultDiscoveryQueueTimeout
	}
	if cfg.ScanDuration < 0 {
		cfg.ScanDuration = 0
	}
	if cfg.ScanDuration >= cfg.HeartbeatTimeout {
		cfg.ScanDuration = cfg.HeartbeatTimeout - 1
	}
	if !cfg.JetStream {
		cfg.Queue = cfg.Node
	}
	o := &Orchestrator{cfg: cfg, up: true}
	o.resetMemory()
	return o
}

// resetMemory empties every in-memory table (process start, or a crash).
func (o *Orchestrator) resetMemory() {
	o.tasks = o.tasks[:0]
	o.freeTasks = o.freeTasks[:0]
	o.taskIndex.reset()
	o.trackedTasks = 0
	o.execHead, o.execTail, o.executing = noSlot, noSlot, 0
	o.deadlines = o.deadlines[:0]
	o.freeDeadlines = o.freeDeadlines[:0]
	o.workers = o.workers[:0]
	o.workerIndex.reset()
	o.pools = o.pools[:0]
	for _, c := range o.cfg.Components {
		o.pool(c.Pool)
	}
	o.health = make([]componentHealth, len(o.cfg.Components))
	o.runs, o.freeRuns = o.runs[:0], o.freeRuns[:0]
	o.runIndex.reset()
	o.startupPending = false
	o.recovering = nil
	o.recoverySteps = o.recoverySteps[:0]
	for i := range o.steps {
		s := &o.steps[i]
		s.taskSlot, s.retryPending, s.inRunFlight = noSlot, false, false
	}
}

// Config returns the configuration with defaults filled in.
func (o *Orchestrator) Config() OrchestratorConfig { return o.cfg }

// Start is the process start: it arms the scan cycle (scan detector).
func (o *Orchestrator) Start(now time.Duration, out *Effects) {
	o.up = true
	o.armScan(now, out)
}

// Submit accepts a new step and dispatches its first attempt. While the orchestrator is
// down (between Crash and Restart) the step only enters the journal, and its first attempt
// is dispatched when recovery ends; a driver would normally hold submissions instead.
func (o *Orchestrator) Submit(now time.Duration, s StepSpec, out *Effects) {
	slot := o.allocStep()
	st := &o.steps[slot]
	*st = orchStep{id: s.Step, run: s.Run, component: s.Component, payload: s.PayloadBytes,
		gen: st.gen + 1, live: true, taskSlot: noSlot, task: o.newTaskID()}
	out.Events = append(out.Events, Event{Kind: EvStepSubmitted, Node: o.cfg.Node, Step: s.Step,
		Run: s.Run, Task: st.task, Component: s.Component})
	if o.up {
		o.admit(now, slot, out)
	}
}

// Receive handles a message addressed to the orchestrator.
func (o *Orchestrator) Receive(now time.Duration, m Message, out *Effects) {
	if !o.up {
		return
	}
	switch m.Type {
	case MsgPullTasks:
		o.onConnect(now, &m, out)
	case MsgHeartbeat:
		o.onHeartbeat(now, &m, out)
	case MsgComplete:
		o.onComplete(now, &m, out)
	}
}

// Fire handles one of the orchestrator's timers.
func (o *Orchestrator) Fire(now time.Duration, id TimerID, out *Effects) {
	if !o.up {
		return
	}
	kind, gen, slot := splitOrchTimer(id)
	switch kind {
	case orchTimerScan:
		o.scan(now, out)
	case orchTimerScanEnd:
		o.clearSeen()
	case orchTimerRecovery:
		o.finishRecovery(now, out)
	case orchTimerQueue:
		o.onQueueDeadline(now, gen, slot, out)
	case orchTimerHeartbeat, orchTimerExecution:
		o.onTaskDeadline(now, kind, gen, slot, out)
	case orchTimerRetry:
		o.onRetryTimer(now, gen, slot, out)
	}
}

// InFlight reports the steps submitted and not yet settled (including those waiting for a
// retry's backoff).
func (o *Orchestrator) InFlight() int { return o.liveSteps }

// TrackedTasks reports the tasks Queued or Executing, discovery tasks included.
func (o *Orchestrator) TrackedTasks() int { return o.trackedTasks }

// ExecutingTasks reports the tasks in the Executing phase.
func (o *Orchestrator) ExecutingTasks() int { return o.executing }

// onHeartbeat answers TaskHeartbeat: the first heartbeat claims a Queued task, later
// ones from the claimant mark it seen, others get ALREADY_CLAIMED with should_abort.
func (o *Orchestrator) onHeartbeat(now time.Duration, m *Message, out *Effects) {
	slot, ok := o.taskIndex.get(m.Task)
	if !ok {
		o.reply(m, MsgHeartbeatReply, o.unknownTaskCode(m.Run), StatusUnspecified, false, out)
		return
	}
	t := &o.tasks[slot]
	// Attempt, the sender's, is not on the wire: the driver attaches it (AttachTruth).
	ev := Event{Node: o.cfg.Node, Worker: m.Worker, Step: t.stepID, Run: t.run, Task: t.id,
		CurrentAttempt: t.attempt, Component: t.component, Discovery: t.isDiscovery()}
	switch {
	case t.phase == phaseQueued:
		t.phase = phaseExecuting
		t.worker = m.Worker
		// The claim itself counts as seen (Stepflow's PendingTasks::heartbeat records the
		// task in the heartbeat tracker on the Queued -> Executing move).
		t.startedAt, t.lastSeen, t.seen = now, now, true
		o.linkExecuting(slot)
		o.armTaskDeadlines(now, slot, out)
		ev.Kind = EvClaimed
	case t.worker == m.Worker:
		t.seen = true
		t.lastSeen = now
		o.moveHeartbeatDeadline(now, slot, out)
		ev.Kind = EvHeartbeatSeen
	default:
		o.reply(m, MsgHeartbeatReply, CodeOK, StatusAlreadyClaimed, true, out)
		return
	}
	out.Events = append(out.Events, ev)
	o.reply(m, MsgHeartbeatReply, CodeOK, StatusInProgress, false, out)
}

// onComplete accepts a CompleteTask for a tracked task in either phase, from any sender.
func (o *Orchestrator) onComplete(now time.Duration, m *Message, out *Effects) {
	slot, ok := o.taskIndex.get(m.Task)
	if !ok {
		o.reply(m, MsgCompleteReply, o.unknownTaskCode(m.Run), StatusUnspecified, false, out)
		return
	}
	if m.Result == ResultNone {
		o.reply(m, MsgCompleteReply, CodeInvalidArgument, StatusUnspecified, false, out)
		return
	}
	t := o.tasks[slot]
	errCode := ErrUnspecified
	if m.Result == ResultError {
		errCode = m.ErrorCode
	}
	out.Events = append(out.Events, Event{Kind: EvCompleted, Node: o.cfg.Node, Worker: m.From,
		Step: t.stepID, Run: t.run, Task: t.id, CurrentAttempt: t.attempt,
		Component: t.component, ErrorCode: errCode, Discovery: t.isDiscovery(), LastSeen: t.lastSeen})
	o.reply(m, MsgCompleteReply, CodeOK, StatusUnspecified, false, out)
	o.removeTask(slot, out)
	if t.isDiscovery() {
		return
	}
	o.runResult(t.run)
	o.recordHealth(t.component, m.Result == ResultError, out)
	if m.Result == ResultError {
		o.stepFailed(now, t.step, errCode, out)
	} else {
		o.settleStep(t.step, SettledCompleted, ErrUnspecified, out)
	}
	o.startWaiting(now, t.run, out)
}

// unknownTaskCode is the answer for a task that is not tracked, as Stepflow's
// OrchestratorService gives it (stepflow-grpc/src/services/orchestrator_service.rs):
// UNAVAILABLE while the start-up gate is closed, or when the request names (run_id) a run
// whose recovery gate is closed; NOT_FOUND otherwise, a request without run_id included.
func (o *Orchestrator) unknownTaskCode(run RunID) Code {
	if o.startupPending || run != NoRun && o.recovering[run] {
		return CodeUnavailable
	}
	return CodeNotFound
}

// reply answers an RPC; the request's Worker, Task, Run and Discovery are copied for
// observers (its Truth, which the orchestrator never sees, the driver attaches).
func (o *Orchestrator) reply(m *Message, typ MsgType, code Code, status TaskStatus, abort bool, out *Effects) {
	out.Send = append(out.Send, Message{Type: typ, From: o.cfg.Node, To: m.From, Call: m.Call,
		Worker: m.Worker, Task: m.Task, Run: m.Run, Discovery: m.Discovery,
		Code: code, Status: status, ShouldAbort: abort})
}

// newTaskID returns an id never used before by this orchestrator (a fresh UUID).
func (o *Orchestrator) newTaskID() TaskID {
	o.nextTask++
	return o.nextTask
}

func (o *Orchestrator) allocStep() int32 {
	o.liveSteps++
	if n := len(o.freeSteps); n > 0 {
		s := o.freeSteps[n-1]
		o.freeSteps = o.freeSteps[:n-1]
		return s
	}
	o.steps = append(o.steps, orchStep{})
	return int32(len(o.steps) - 1)
}

func (o *Orchestrator) freeStep(slot int32) {
	s := &o.steps[slot]
	s.live, s.retryPending, s.taskSlot = false, false, noSlot
	o.liveSteps--
	o.freeSteps = append(o.freeSteps, slot)
}

// addTask tracks a new Queued task and returns its slot; step noSlot makes it a discovery task.
func (o *Orchestrator) addTask(id TaskID, step int32, attempt uint32,
	stepID StepID, run RunID, component int32) int32 {
	var slot int32
	if n := len(o.freeTasks); n > 0 {
		slot = o.freeTasks[n-1]
		o.freeTasks = o.freeTasks[:n-1]
	} else {
		o.tasks = append(o.tasks, orchTask{})
		slot = int32(len(o.tasks) - 1)
	}
	t := &o.tasks[slot]
	*t = orchTask{id: id, step: step, gen: t.gen + 1, attempt: attempt, phase: phaseQueued,
		stepID: stepID, run: run, component: component, prev: noSlot, next: noSlot}
	o.taskIndex.set(id, slot)
	o.trackedTasks++
	return slot
}

// removeTask forgets a task: unlinks it from the executing list and cancels its
// per-task deadlines. Queue deadlines are never cancelled (the reference does not).
func (o *Orchestrator) removeTask(slot int32, out *Effects) {
	t := &o.tasks[slot]
	if t.phase == phaseExecuting {
		o.unlinkExecuting(slot)
	}
	if t.hbTimer {
		out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerHeartbeat, t.gen, slot), Cancel: true})
	}
	if t.execTimer {
		out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerExecution, t.gen, slot), Cancel: true})
	}
	o.taskIndex.delete(t.id)
	if t.step != noSlot && o.steps[t.step].taskSlot == slot {
		o.steps[t.step].taskSlot = noSlot
	}
	t.phase, t.hbTimer, t.execTimer = phaseFree, false, false
	o.trackedTasks--
	o.freeTasks = append(o.freeTasks, slot)
}

// component returns the spec of component c, or a zero spec if c is out of range.
func (o *Orchestrator) component(c int32) ComponentSpec {
	if c >= 0 && int(c) < len(o.cfg.Components) {
		return o.cfg.Components[c]
	}
	return ComponentSpec{}
}

// orchTimerKind tells apart the orchestrator's timers; it is the top byte of a TimerID.
type orchTimerKind uint8

const (
	orchTimerScan orchTimerKind = iota + 1
	orchTimerScanEnd
	orchTimerRecovery
	orchTimerQueue     // slot: Orchestrator.deadlines
	orchTimerHeartbeat // slot: Orchestrator.tasks
	orchTimerExecution // slot: Orchestrator.tasks
	orchTimerRetry     // slot: Orchestrator.steps
)

// orchTimerID packs kind, a 24-bit slot generation and a slot into a TimerID, so a timer
// names its slot without a lookup and a stale one is recognised by its generation.
func orchTimerID(kind orchTimerKind, gen uint32, slot int32) TimerID {
	return TimerID(uint64(kind)<<56 | uint64(gen&0xffffff)<<32 | uint64(uint32(slot)))
}

func splitOrchTimer(id TimerID) (kind orchTimerKind, gen uint32, slot int32) {
	return orchTimerKind(id >> 56), uint32(id>>32) & 0xffffff, int32(uint32(id))
}
