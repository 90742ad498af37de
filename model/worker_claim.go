package model

import "time"

// assigned takes in one assignment: acks it (jetstream, on receipt), answers a python
// discovery task at once, and otherwise claims it when a slot is free or keeps it waiting.
func (w *Worker) assigned(now time.Duration, m Message, out *Effects) {
	// Only what the source delivered answers the read (and, jetstream, needs an ack).
	if w.term != termNone {
		w.terminatedAssignment(now, m, out)
		return
	}
	credited := m.From == w.cfg.Source
	if credited {
		w.reading = false
		w.streamOpened() // an assignment proves the stream open
	}
	if w.pol.DropsDuplicate && w.holds(m.Task, m.Attempt) {
		w.duplicate(now, m, credited, out)
		return
	}
	interval := w.cfg.HeartbeatInterval
	if interval <= 0 {
		interval = max(MinHeartbeatInterval, time.Duration(m.HeartbeatSecs)*time.Second)
	}
	w.nextExec++
	w.execs = append(w.execs, workerExec{
		exec: w.nextExec, task: m.Task, run: m.Run, step: m.Step, attempt: m.Attempt,
		component: m.Component, delivery: m.Delivery, discovery: m.Discovery, interval: interval,
		fromSource: credited,
	})
	i := len(w.execs) - 1
	if !w.cfg.AckOnComplete {
		w.ack(i, out)
	}
	if m.Discovery && w.pol.DiscoveryInline {
		// Answered inline (python): no slot, no claim, no heartbeat, and the read loop
		// goes straight on to the next assignment.
		e := &w.execs[i]
		e.phase, e.result = phaseRunning, ResultListComponents
		w.sendComplete(now, i, out)
		w.read(now, out)
		return
	}
	if credited {
		w.execs[i].credited = true
		w.held++
	}
	if w.free > 0 {
		w.free--
		w.execs[i].slot = true
		w.sendClaim(now, i, out)
		w.read(now, out)
		return
	}
	// Only python reads past its slots (or a duplicated delivery overfills any flavour):
	// the assignment waits here unclaimed while its queue deadline runs (hazard 6).
	w.execs[i].phase = phaseWaiting
	w.waiting = append(w.waiting, w.nextExec)
}

// holds reports whether the worker holds an execution of task's attempt.
func (w *Worker) holds(task TaskID, attempt uint32) bool {
	for i := range w.execs {
		if w.execs[i].task == task && w.execs[i].attempt == attempt {
			return true
		}
	}
	return false
}

// duplicate gives up a second copy of an assignment the strict worker already holds:
// acked (jetstream) so the queue does not deliver it again; the loop reads on.
func (w *Worker) duplicate(now time.Duration, m Message, credited bool, out *Effects) {
	if w.cfg.JetStream && credited {
		out.Send = append(out.Send, Message{Type: MsgAck, From: w.cfg.Node, To: w.cfg.Source,
			Worker: w.cfg.Node, Task: m.Task, Delivery: m.Delivery})
	}
	out.Events = append(out.Events, Event{Kind: EvTaskDropped, Reason: DropDuplicate, Node: w.cfg.Node,
		Worker: w.cfg.Node, Step: m.Step, Run: m.Run, Task: m.Task, Attempt: m.Attempt,
		Component: m.Component, Discovery: m.Discovery})
	w.read(now, out)
}

// sendClaim sends execution i's first heartbeat, the claim.
func (w *Worker) sendClaim(now time.Duration, i int, out *Effects) {
	e := &w.execs[i]
	e.phase = phaseClaiming
	e.tries++
	call := w.call()
	out.Send = append(out.Send, w.heartbeat(e, call))
	w.await(now, i, call, rpcClaim, out)
}

// heartbeat builds a TaskHeartbeatRequest for execution e.
func (w *Worker) heartbeat(e *workerExec, call uint32) Message {
	return Message{Type: MsgHeartbeat, From: w.cfg.Node, To: w.cfg.Orchestrator, Call: call,
		Worker: w.cfg.Node, Task: e.task, Run: w.runID(e), Truth: Truth{Step: e.step, Attempt: e.attempt}}
}

// runID is the run_id execution e's heartbeats and CompleteTask carry: the assignment's
// run when the flavour sends one and the assignment has one (a list_components task has
// no ObservabilityContext), NoRun otherwise.
func (w *Worker) runID(e *workerExec) RunID {
	if !w.pol.SendsRunID || e.discovery {
		return NoRun
	}
	return e.run
}

// claimAnswered acts on the answer to execution i's claim (code DEADLINE_EXCEEDED when
// none came in time).
func (w *Worker) claimAnswered(now time.Duration, i int, code Code, status TaskStatus, abort bool, out *Effects) {
	e := &w.execs[i]
	claimed := code == CodeOK && !(abort && w.pol.ClaimRefusedOnAbort) &&
		!(status == StatusAlreadyClaimed && w.pol.ClaimRefusedOnAlreadyClaimed)
	pause, again := w.pol.Claim.Retry(code, e.tries)
	switch {
	case claimed:
		w.started(now, i, out)
	case again:
		w.setTimer(e, timerRetry, now+pause, out)
	default:
		w.drop(now, i, DropClaimFailed, code, status, out)
	}
}

// started runs a claimed execution: the component (or, for discovery, the answer at once)
// and the heartbeat loop, whose first heartbeat follows one interval after the claim.
func (w *Worker) started(now time.Duration, i int, out *Effects) {
	e := &w.execs[i]
	e.phase, e.tries = phaseRunning, 0
	if e.discovery {
		// list_components completes at once after the claim; the rust loop would be
		// cancelled before its first sleep ends, the strict loop runs until the answer.
		e.result = ResultListComponents
		if w.pol.DiscoveryBeats {
			e.beating = true
			w.setTimer(e, timerBeat, now+e.interval, out)
		}
		w.sendComplete(now, i, out)
		return
	}
	e.running, e.beating = true, true
	w.running++
	out.Runs = append(out.Runs, RunOp{Task: e.task, Step: e.step, Attempt: e.attempt,
		Component: e.component, Exec: e.exec})
	out.Events = append(out.Events, w.event(EvExecStarted, e))
	w.setTimer(e, timerBeat, now+e.interval, out)
}

// heartbeatReply routes a TaskHeartbeatResponse to the claim or loop heartbeat that waits
// for it; an answer nobody waits for any more is ignored.
func (w *Worker) heartbeatReply(now time.Duration, m Message, out *Effects) {
	if m.Call == 0 {
		return
	}
	if i := w.awaiting(m.Call); i >= 0 {
		if w.execs[i].waitKind != rpcClaim {
			return
		}
		w.answered(i, out)
		w.reply(&w.execs[i], &m, out)
		w.claimAnswered(now, i, m.Code, m.Status, m.ShouldAbort, out)
		return
	}
	if i := w.beatAwaiting(m.Call); i >= 0 {
		w.execs[i].beatCall = 0
		w.reply(&w.execs[i], &m, out)
		w.beatAnswered(now, i, m.Code, m.Status, m.ShouldAbort, out)
		return
	}
	if !w.pol.BeatWaitsForAnswer {
		w.periodicBeatReply(now, m, out)
	}
}
