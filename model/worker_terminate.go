package model

import "time"

// Reasons of EvWorkerExited.
const (
	// ExitGaveUp: the worker gave up reconnecting (Code is the last stream error).
	ExitGaveUp uint8 = iota
	// ExitTerminated: the process ended after SIGTERM (Terminate), once its running
	// tasks finished or its grace ran out.
	ExitTerminated
)

// terminatePhase is where a SIGTERM stands.
type terminatePhase uint8

const (
	termNone terminatePhase = iota
	// termPending: the python SDK's handler only set a flag; the read loop sees it when
	// the next assignment arrives (which it drops), or when its stream fails or its
	// reconnect pause ends.
	termPending
	// termDraining: noticed; the stream is closed, nothing more is read, running tasks
	// have until the grace timer to finish.
	termDraining
)

// graceTimer is the worker's SIGTERM grace: exec number 0 is never an execution's.
var graceTimer = workerTimerID(0, timerRPC)

// Terminating reports whether the worker got SIGTERM (noticed or not) and has not exited.
func (w *Worker) Terminating() bool { return w.term != termNone && !w.exited }

// Terminate delivers SIGTERM. Each flavour shuts down as its SDK does (PROTOCOL.md,
// worker table, SIGTERM; the policy's Sigterm fields): python over gRPC notices it only
// when the next assignment arrives (dropping it), then waits up to 10s for running
// tasks, heartbeating, then cancels the rest with no CompleteTask; rust, and strict
// (tasksim's choice), notice it at once and wait up to 30s. The python NATS worker
// installs no handler, so SIGTERM ends it at once, like a kill. The worker reports
// EvWorkerExited (ExitTerminated) when it is done.
func (w *Worker) Terminate(now time.Duration, out *Effects) {
	if w.exited || w.term != termNone {
		return
	}
	if w.pol.SigtermKillsOverNATS && w.cfg.JetStream {
		w.notice(now, 0, out)
		return
	}
	if w.pol.SigtermOnAssignment && !w.cfg.JetStream {
		w.term = termPending
		return
	}
	w.notice(now, w.pol.SigtermGrace, out)
}

// notice acts on SIGTERM: the read loop ends and closes its stream, assignments read but
// not claimed are given up, and running tasks get the grace to finish.
func (w *Worker) notice(now, grace time.Duration, out *Effects) {
	w.term = termDraining
	w.reading = false
	if w.streamUp {
		w.streamUp = false
		out.CloseStream = true
	}
	if w.reconnectLive {
		w.reconnectLive = false
		out.Timers = append(out.Timers, TimerOp{ID: reconnectTimer, Cancel: true})
	}
	for len(w.waiting) > 0 {
		if i := w.find(w.waiting[0]); i >= 0 {
			w.drop(now, i, DropTerminated, CodeOK, StatusUnspecified, out)
		} else {
			w.waiting = w.waiting[1:]
		}
	}
	if w.exited {
		return // nothing was left to wait for
	}
	if len(w.execs) == 0 {
		w.exit(now, out)
		return
	}
	if grace <= 0 {
		w.graceOver(now, out)
		return
	}
	w.graceLive = true
	out.Timers = append(out.Timers, TimerOp{ID: graceTimer, At: now + grace})
}

// graceOver cancels every task still held: a running component is stopped, nothing more
// is sent for any of them (no CompleteTask), and the process exits. The orchestrator
// learns of them only by its timers.
func (w *Worker) graceOver(now time.Duration, out *Effects) {
	w.graceLive = false
	for len(w.execs) > 0 && !w.exited {
		i := len(w.execs) - 1
		w.stopComponent(&w.execs[i], ExecCancelled, out)
		w.drop(now, i, DropTerminated, CodeOK, StatusUnspecified, out)
	}
}

// exitIfDrained ends a draining process once it holds nothing more.
func (w *Worker) exitIfDrained(now time.Duration, out *Effects) {
	if w.term == termDraining && !w.exited && len(w.execs) == 0 {
		w.exit(now, out)
	}
}

// exit ends the process after SIGTERM.
func (w *Worker) exit(_ time.Duration, out *Effects) {
	w.exited = true
	if w.graceLive {
		w.graceLive = false
		out.Timers = append(out.Timers, TimerOp{ID: graceTimer, Cancel: true})
	}
	out.Events = append(out.Events, Event{Kind: EvWorkerExited, Reason: ExitTerminated, Node: w.cfg.Node, Worker: w.cfg.Node})
}

// terminatedAssignment handles an assignment that reaches a worker that got SIGTERM: the
// python loop notices SIGTERM on it and drops it; after the notice the stream is closed,
// so it can only be one that was already on its way, dropped too.
func (w *Worker) terminatedAssignment(now time.Duration, m Message, out *Effects) {
	if m.From == w.cfg.Source {
		w.reading = false
	}
	out.Events = append(out.Events, Event{Kind: EvTaskDropped, Reason: DropTerminated, Node: w.cfg.Node,
		Worker: w.cfg.Node, Step: m.Step, Run: m.Run, Task: m.Task, Attempt: m.Attempt,
		Component: m.Component, Discovery: m.Discovery})
	if w.term == termPending {
		w.notice(now, w.pol.SigtermGrace, out)
	}
}
