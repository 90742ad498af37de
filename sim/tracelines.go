package sim

import (
	"strconv"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim/trace"
)

// trace.jsonl: one line per kernel event (docs/trace.md). The loop begins a line before
// it dispatches an event and ends it after; the handlers add the message delivered, the
// messages sent and the lifecycle events the participants reported. None of this
// enters the trace hash, which hashes the kernel's events as before.

// eventNames are the kernel events as trace.jsonl names them, by evKind.
var eventNames = [...]string{
	evDeliver:        "deliver",
	evTimer:          "timer",
	evExecDone:       "exec_done",
	evArrival:        "arrival",
	evWorkerStart:    "worker_start",
	evFaultStart:     "fault_start",
	evFaultEnd:       "fault_end",
	evOrchestratorUp: "orchestrator_up",
	evStreamBroken:   "stream_broken",
	evPipeArrive:     "pipe_arrive",
	evSendDone:       "send_done",
	evTCPGiveUp:      "tcp_give_up",
}

// lifecycleNames are the participants' lifecycle events, by model.EventKind.
var lifecycleNames = [...]string{
	model.EvStepSubmitted:  "step_submitted",
	model.EvDispatched:     "dispatched",
	model.EvDelivered:      "delivered",
	model.EvClaimed:        "claimed",
	model.EvHeartbeatSeen:  "heartbeat_seen",
	model.EvTimedOut:       "timed_out",
	model.EvCompleted:      "completed",
	model.EvRetryScheduled: "retry_scheduled",
	model.EvStepSettled:    "step_settled",
	model.EvUnhealthy:      "unhealthy",
	model.EvRecovered:      "recovered",
	model.EvExecStarted:    "exec_started",
	model.EvExecEnded:      "exec_ended",
	model.EvReply:          "reply",
	model.EvTaskDropped:    "task_dropped",
	model.EvWorkerExited:   "worker_exited",
}

func nameOf[K ~uint8](names []string, k K) string {
	if int(k) < len(names) && names[k] != "" {
		return names[k]
	}
	return "unknown"
}

// reasonOf names an event's Reason, where its kind has reasons.
func reasonOf(ev *model.Event) string {
	var names []string
	switch ev.Kind {
	case model.EvDispatched:
		names = []string{model.DispatchFirst: "first", model.DispatchTransport: "transport",
			model.DispatchComponent: "component", model.DispatchRecovery: "recovery"}
	case model.EvDelivered:
		names = []string{model.DeliveryFirst: "first", model.DeliveryRedelivery: "redelivery"}
	case model.EvTimedOut:
		names = []string{model.TimeoutQueue: "queue", model.TimeoutHeartbeat: "heartbeat", model.TimeoutExecution: "execution"}
	case model.EvRetryScheduled:
		names = []string{model.RetryTransport: "transport", model.RetryComponent: "component"}
	case model.EvStepSettled:
		names = []string{model.SettledCompleted: "completed", model.SettledFailed: "failed"}
	case model.EvReply, model.EvWorkerExited:
		return ev.Code.String()
	default:
		return ""
	}
	if int(ev.Reason) < len(names) {
		return names[ev.Reason]
	}
	return ""
}

// traceNode names node: the orchestrator, the queue, or worker-N (N its node number, a
// new one for each process a slot runs) with its pool's name.
func (w *world) traceNode(node model.NodeID) (trace.Node, string) {
	switch {
	case node == w.orchNode:
		return trace.Node{Name: "orchestrator", ID: -1}, ""
	case w.queue != nil && node == w.sourceNode:
		return trace.Node{Name: "queue", ID: -1}, ""
	}
	if p := w.proc(node); p != nil {
		return trace.Node{Name: "worker", ID: int32(node)}, w.cfg.Workers[p.pool].Pool
	}
	return trace.Node{Name: "node", ID: int32(node)}, ""
}

func (w *world) traceName(node model.NodeID) trace.Node {
	n, _ := w.traceNode(node)
	return n
}

// traceBegin starts the line of event e, with what the queue entry itself says.
func (w *world) traceBegin(at int64, e event) {
	w.tw.Begin(at, nameOf(eventNames[:], e.kind))
	switch e.kind {
	case evArrival, evOrchestratorUp:
		w.tw.Node(w.traceNode(w.orchNode))
	case evFaultStart, evFaultEnd, evTCPGiveUp:
		w.tw.StringField("fault", string(w.cfg.Faults[e.a].Kind))
		w.tw.Field("fault_index", int64(e.a))
	case evWorkerStart:
		// The node (and its pool) is the new process's, set when it starts.
		w.tw.Field("slot", int64(e.a&(1<<20-1)))
	case evTimer:
		w.tw.Node(w.traceNode(e.node))
		w.tw.Field("timer", int64(e.timer))
	case evExecDone:
		w.tw.Node(w.traceNode(e.node))
		w.tw.Field("exec", int64(e.a))
	default:
		w.tw.Node(w.traceNode(e.node))
	}
}

// traceDeliver records the message an event delivers.
func (w *world) traceDeliver(m *model.Message, bytes int) {
	if w.tw != nil {
		w.tw.Message(uint64(m.Task), m.TrueAttempt(), m.Type.String(), bytes)
	}
}

// traceSend records a message put on the network.
func (w *world) traceSend(m *model.Message, bytes int) {
	if w.tw != nil {
		w.tw.Send(w.traceName(m.From), w.traceName(m.To), uint64(m.Task), m.TrueAttempt(), m.Type.String(), bytes)
	}
}

// traceDrop records a message the network or a dead receiver lost, and why.
func (w *world) traceDrop(m *model.Message, reason string) {
	if w.tw != nil {
		w.tw.Lifecycle(trace.Life{Kind: "message_dropped", Node: w.traceName(m.From), Worker: w.traceName(m.To),
			Step: -1, Task: uint64(m.Task), Attempt: m.TrueAttempt(), Reason: reason + ": " + m.Type.String()})
	}
}

// traceProcess records what happened to a process: a crash, a start, a restart.
func (w *world) traceProcess(kind string, node model.NodeID) {
	if w.tw != nil {
		w.tw.Lifecycle(trace.Life{Kind: kind, Node: w.traceName(node), Step: -1})
	}
}

// traceConnectionBroken records a worker's connection to the orchestrator breaking, with
// the number of calls it failed.
func (w *world) traceConnectionBroken(p *proc, calls int) {
	if w.tw != nil {
		w.tw.Lifecycle(trace.Life{Kind: "connection_broken", Node: w.traceName(p.node), Step: -1,
			Reason: strconv.Itoa(calls) + " calls failed"})
	}
}

// traceLifecycle records a participant's lifecycle event.
func (w *world) traceLifecycle(ev *model.Event) {
	if w.tw == nil {
		return
	}
	l := trace.Life{Kind: nameOf(lifecycleNames[:], ev.Kind), Node: w.traceName(ev.Node), Step: int64(ev.Step),
		Task: uint64(ev.Task), Attempt: ev.Attempt, Reason: reasonOf(ev)}
	switch ev.Kind {
	case model.EvUnhealthy, model.EvRecovered, model.EvWorkerExited:
		l.Step = -1 // about a component, a run, a process: no step
	}
	if ev.Worker != ev.Node && w.proc(ev.Worker) != nil {
		l.Worker = w.traceName(ev.Worker)
	}
	w.tw.Lifecycle(l)
}
