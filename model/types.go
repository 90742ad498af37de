// Package model holds the Stepflow v1 task protocol's participants, the orchestrator and
// its workers, as pure state machines in the manner of etcd's raft: a participant takes an
// input together with the current virtual time, changes its state, and appends what it
// wants done to an Effects value (messages to send, timers to set or cancel, components to
// run, and lifecycle events for observers). It never reads a clock, sleeps, starts a
// goroutine, takes a lock or does I/O, so the simulator (and later a real-time driver) can
// run it unchanged, and a test can drive it with explicit times.
package model

import "time"

// NodeID names a process: the orchestrator, the jetstream queue, or one worker process.
// A restarted worker is a new process with a new NodeID (and so a new worker_id).
type NodeID int32

// TaskID identifies a task on the wire (a UUID string there). With task ids `reuse` one
// TaskID serves every attempt of a step; with `per_attempt` each attempt gets a fresh one.
type TaskID uint64

// StepID identifies a logical step (a unit of submitted work) across all its attempts.
type StepID uint32

// RunID identifies the run a step belongs to; recovery after a restart is per run.
type RunID uint32

// NoRun is the RunID of a heartbeat or CompleteTask that carries no run_id (the rust SDK
// never sends one) or one that names no run of this orchestrator.
const NoRun = ^RunID(0)

// TimerID is chosen by a participant and unique among that participant's live timers.
type TimerID uint64

// MsgType is the kind of a message between nodes. The protobuf ones map one to one onto
// stepflow.v1 messages; Fetch and Ack are NATS JetStream's own (a pull request, an
// acknowledgement) and carry no protobuf bytes. A gRPC pull stream has no message of its
// own beside PullTasksRequest and TaskAssignment: its flow control is the driver's
// business, stated to the participants as inputs and effects (see "Transport mechanics").
type MsgType uint8

const (
	MsgPullTasks      MsgType = iota + 1 // PullTasksRequest: a worker opens its stream for a queue
	MsgFetch                             // jetstream: the worker's pull request for one more message (the driver sends it for Effects.Recv)
	MsgAssignment                        // TaskAssignment
	MsgAck                               // jetstream: the worker acknowledges delivery Delivery
	MsgHeartbeat                         // TaskHeartbeatRequest
	MsgHeartbeatReply                    // TaskHeartbeatResponse, or an RPC error in Code
	MsgComplete                          // CompleteTaskRequest
	MsgCompleteReply                     // CompleteTaskResponse, or an RPC error in Code
)

var msgTypeNames = [...]string{"", "PullTasksRequest", "Fetch", "TaskAssignment", "Ack",
	"TaskHeartbeatRequest", "TaskHeartbeatResponse", "CompleteTaskRequest", "CompleteTaskResponse"}

func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) {
		return msgTypeNames[t]
	}
	return "MsgType(?)"
}

// OnWire reports whether the type is a protobuf message (and so costs encoded bytes).
func (t MsgType) OnWire() bool { return t != MsgFetch && t != MsgAck }

// Code is an RPC's outcome as the caller sees it (gRPC status codes that matter here).
type Code uint8

const (
	CodeOK Code = iota
	CodeNotFound
	CodeUnavailable
	CodeInvalidArgument
	// CodeDeadlineExceeded is never sent: a worker concludes it locally when no answer
	// came within the RPC timeout (its request or the answer was lost).
	CodeDeadlineExceeded
)

func (c Code) String() string {
	return [...]string{"OK", "NOT_FOUND", "UNAVAILABLE", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED"}[c]
}

// TaskStatus mirrors stepflow.v1.TaskStatus.
type TaskStatus uint8

const (
	StatusUnspecified TaskStatus = iota
	StatusInProgress
	StatusAlreadyClaimed
)

// ErrorCode mirrors stepflow.v1.TaskErrorCode (same numbers).
type ErrorCode uint8

const (
	ErrUnspecified ErrorCode = iota
	ErrTimeout
	ErrInvalidInput
	ErrComponentFailed
	ErrCancelled
	ErrUnreachable
	ErrComponentNotFound
	ErrResourceUnavailable
	ErrExpressionFailure
	ErrOrchestratorError
	ErrWorkerError
)

// ResultKind is which branch of CompleteTaskRequest.result a completion carries.
type ResultKind uint8

const (
	ResultNone           ResultKind = iota
	ResultResponse                  // response: ComponentExecuteResponse
	ResultError                     // error: TaskError
	ResultListComponents            // list_components: ListComponentsResult
)

// Message is one message between two nodes, in three parts kept apart by type:
//   - the envelope (Type, From, To, Call): what the connection and the RPC itself tell
//     both ends (who is at the other end of a socket, which request a reply answers);
//   - the wire fields (Worker .. Delivery): what model/wiremap maps to and from protobuf
//     for the message's type (Delivery: the JetStream message a delivery or ack names);
//   - Truth: what the sender really did, which the wire does not carry. Observers (the
//     oracle, metrics, the trace and its hash) read it where the sender put it; a
//     receiving participant never can, because every driver hands it Truth zero.
//
// A reply's Worker, Task, Run and Discovery are the request's, which the RPC pairing
// tells the caller (no reply body carries them); the orchestrator copies them from the
// request it answers, for observers.
type Message struct {
	Type MsgType
	From NodeID
	To   NodeID
	// Call pairs an RPC reply with its request (per sender).
	Call uint32
	// Worker is worker_id in PullTasks and heartbeats (a UUID on the wire).
	Worker NodeID
	// Pool is queue_name in PullTasks (index into the scenario's pools).
	Pool int32
	Task TaskID
	Run  RunID
	// Step and Attempt are an assignment's observability.step_id and execute.attempt.
	// Only an assignment carries them; a heartbeat's or a completion's sender puts the
	// attempt it really runs in Truth instead.
	Step    StepID
	Attempt uint32
	// Discovery marks a list_components assignment, and its list_components result.
	Discovery bool
	// Component indexes the scenario's components (component_id / path on the wire).
	Component int32
	// PayloadBytes is the encoded size of the input Value (assignment) or output (result).
	PayloadBytes int32
	// HeartbeatSecs is heartbeat_interval_secs in an assignment.
	HeartbeatSecs uint32
	// Result and ErrorCode describe a completion.
	Result    ResultKind
	ErrorCode ErrorCode
	// Status and ShouldAbort answer a heartbeat.
	Status      TaskStatus
	ShouldAbort bool
	// Code is an RPC reply's status; a reply whose Code is not OK has no protobuf body.
	Code Code
	// Delivery numbers a jetstream delivery, so an ack names what it acknowledges.
	Delivery uint32
	// Truth is ground truth for observers, never on the wire (see Truth).
	Truth Truth
}

// Truth is what the sender of a message really did where the wire does not say it: read
// by the oracle, the trace and the trace hash when the message is sent or arrives, never
// by the participant that receives it. A driver takes it from the sending process only
// (the simulator's kernel at send, the live driver from its own workers) and hands every
// receiver a message whose Truth is zero; AttachTruth then gives it to the observed
// effects of the receiver's answer.
type Truth struct {
	// Step is the step of the execution that sent a heartbeat or a completion (the
	// assignment's step_id, which TaskHeartbeatRequest and CompleteTaskRequest lack);
	// in a reply, that of the request it answers.
	Step StepID
	// Attempt is the attempt that execution really runs, which may be older than the
	// orchestrator's current one (a stale heartbeat or result); in a reply, the
	// request's. Zero when the sender is not a tasksim worker (a foreign SDK's request).
	Attempt uint32
}

// TrueAttempt is the attempt m concerns, for observers: the wire's in an assignment, the
// sender's truth in a heartbeat, a completion or a reply.
func (m *Message) TrueAttempt() uint32 {
	if m.Type == MsgAssignment {
		return m.Attempt
	}
	return m.Truth.Attempt
}

// AttachTruth gives the observed effects of a participant's answer to req the ground
// truth req carried, which the participant was handed without: each reply to req gets
// req's Truth, and each claim, heartbeat seen or completion the orchestrator reported
// about req's task gets the sender's true attempt. A driver calls it after Receive (with
// out reset before it), passing req as sent.
func AttachTruth(req *Message, out *Effects) {
	reply := MsgHeartbeatReply
	switch req.Type {
	case MsgHeartbeat:
	case MsgComplete:
		reply = MsgCompleteReply
	default:
		return
	}
	for i := range out.Send {
		if r := &out.Send[i]; r.Type == reply && r.To == req.From && r.Call == req.Call {
			r.Truth = req.Truth
		}
	}
	for i := range out.Events {
		switch e := &out.Events[i]; e.Kind {
		case EvClaimed, EvHeartbeatSeen, EvCompleted:
			if e.Task == req.Task {
				e.Attempt = req.Truth.Attempt
			}
		}
	}
}

// TimerOp sets (or moves) or cancels one of the participant's timers.
type TimerOp struct {
	ID     TimerID
	At     time.Duration
	Cancel bool
}

// RunOp asks the driver to start a component execution (the driver samples its duration
// and outcome and later calls the worker's ComponentDone), or to stop one (the worker
// abandoned it; no ComponentDone follows).
type RunOp struct {
	Stop      bool
	Task      TaskID
	Step      StepID
	Attempt   uint32
	Component int32
	// Exec numbers executions on this worker, so that two copies of one task are told apart.
	Exec uint32
}

// Effects collects what a participant wants done in answer to one input. The driver owns
// it, resets it between inputs and reuses its slices, so a steady state allocates nothing.
type Effects struct {
	Send   []Message
	Timers []TimerOp
	Runs   []RunOp
	Events []Event
	// Recv (worker): the worker's read loop wants the next assignment from its stream
	// (it calls stream.Recv, or with JetStream fetches one message). At most one read is
	// outstanding; the driver answers it by delivering the next assignment with
	// Worker.Receive when one is there, which ends the read.
	Recv bool
	// CloseStream (worker): the worker closes its assignment stream (cancels PullTasks, or
	// stops fetching from its JetStream consumer) and reads nothing more from it. The
	// driver drops the stream's pipe and tells the source the worker is gone.
	CloseStream bool
}

// Reset empties the effects, keeping capacity.
func (e *Effects) Reset() {
	e.Send = e.Send[:0]
	e.Timers = e.Timers[:0]
	e.Runs = e.Runs[:0]
	e.Events = e.Events[:0]
	e.Recv = false
	e.CloseStream = false
}

// Transport mechanics: how a driver runs a gRPC PullTasks stream under the participants.
// There is no credit message on the wire; flow control is HTTP/2's, and the participants
// see only its consequences.
//
// Orchestrator side (the server's stream.Send):
//   - A MsgPullTasks that arrives opens the worker's stream; a new one replaces the old.
//   - The orchestrator sends one assignment (an Effects.Send of MsgAssignment to the
//     worker) and then waits: the stream takes the next one only after the driver calls
//     Orchestrator.SendDone for that worker, which means the send completed (the stream's
//     flow-control window, its pipe, had room). In grpc-go this is stream.Send returning.
//   - Orchestrator.Disconnect says the stream broke (reset, peer gone); nothing more is
//     sent on it. Whatever was popped for it and not yet read is lost with it.
//
// The pipe between the two is the driver's: the simulator models it as a byte budget of
// encoded assignments sent and not yet read by the worker (queue.pipe_bytes), calling
// SendDone at once while the pipe holds less than the budget and otherwise when the
// worker's reads have made room. A broken stream drops its pipe.
//
// Worker side (the client's stream.Recv):
//   - Worker.Start sends MsgPullTasks and asks to read (Effects.Recv); the worker asks
//     again whenever its flavour would call Recv (python: while no assignment waits for
//     a slot, one ahead; rust and strict: with a free slot; python on JetStream: with a
//     free slot, no read-ahead).
//   - The driver answers a read with Worker.Receive of the next piped assignment.
//   - Worker.StreamBroken says the stream failed (UNAVAILABLE: reset, peer gone,
//     orchestrator down) or ended (OK); the worker reconnects as its flavour does.

// EventKind is a lifecycle observation, reported by participants for the simulator's
// oracle, metrics and trace. Observers must not need a participant's internals.
type EventKind uint8

const (
	EvStepSubmitted  EventKind = iota + 1 // orchestrator: a step arrived
	EvDispatched                          // orchestrator: an attempt was queued for dispatch (Task, Attempt, Reason = why: first, transport, component, recovery)
	EvDelivered                           // orchestrator or queue: an assignment was handed to worker Worker (Reason: DeliveryFirst or DeliveryRedelivery)
	EvClaimed                             // orchestrator: first heartbeat moved Task to Executing for Worker (Attempt: the sender's true attempt, see AttachTruth)
	EvHeartbeatSeen                       // orchestrator: a heartbeat from the claiming worker (Attempt as EvClaimed)
	EvTimedOut                            // orchestrator: Task failed by a timer; Reason: TimeoutQueue/Heartbeat/Execution; Worker is the claimant (executing) if any; LastSeen is when the last heartbeat arrived; DeadlineAttempt is the attempt whose timer fired
	EvCompleted                           // orchestrator: a CompleteTask was accepted for Task (Attempt = the sender's true attempt, which the driver attaches (AttachTruth); CurrentAttempt = the orchestrator's)
	EvRetryScheduled                      // orchestrator: next attempt of Step at time At; Reason: RetryTransport or RetryComponent
	EvStepSettled                         // orchestrator: Step finished for good; Reason: SettledCompleted or SettledFailed
	EvUnhealthy                           // orchestrator: Component flagged unhealthy
	EvRecovered                           // orchestrator: a run's recovery finished (Run)
	EvExecStarted                         // worker: began running Step/Attempt (Exec numbers it)
	EvExecEnded                           // worker: stopped running it (finished or abandoned)
	EvReply                               // worker: got an RPC reply (Code, Status) for Task; counts already_claimed/not_found/unavailable
	EvTaskDropped                         // worker: dropped an assignment without running or completing it
	EvWorkerExited                        // worker: the process ended (gave up reconnecting, Code = the last stream error; or SIGTERM)
)

// Reasons, by event kind.
const (
	DispatchFirst uint8 = iota
	DispatchTransport
	DispatchComponent
	DispatchRecovery
)

const (
	TimeoutQueue uint8 = iota + 1
	TimeoutHeartbeat
	TimeoutExecution
)

const (
	RetryTransport uint8 = iota + 1
	RetryComponent
)

const (
	SettledCompleted uint8 = iota + 1
	SettledFailed
)

const (
	DeliveryFirst uint8 = iota + 1
	DeliveryRedelivery
)

// Event is one lifecycle observation.
type Event struct {
	Kind            EventKind
	Reason          uint8
	Node            NodeID // who reports it
	Worker          NodeID
	Step            StepID
	Run             RunID
	Task            TaskID
	Attempt         uint32
	CurrentAttempt  uint32
	DeadlineAttempt uint32
	Component       int32
	Exec            uint32
	Code            Code
	Status          TaskStatus
	ErrorCode       ErrorCode
	Discovery       bool
	// LastSeen is when the last heartbeat of the timed-out task arrived (heartbeat timeouts).
	LastSeen time.Duration
	// At is a future time the event refers to (a retry's dispatch time).
	At time.Duration
}
