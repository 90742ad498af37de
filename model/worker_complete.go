package model

import "time"

// ComponentDone reports that the driver's execution exec ended (it sampled the duration
// and outcome): the worker ends its heartbeat loop (reference flavours) and sends
// CompleteTask. An execution the worker already abandoned is ignored.
func (w *Worker) ComponentDone(now time.Duration, exec uint32, failed bool, outputBytes int32, out *Effects) {
	w.componentEnded(now, exec, failed, ErrorValue, outputBytes, out)
}

// ComponentRaised reports that the driver's execution exec ended with an exception of
// the given kind; the worker completes it with the error code its flavour maps the kind
// to (python: ValueError COMPONENT_FAILED, TypeError INVALID_INPUT, OS errors
// RESOURCE_UNAVAILABLE; rust: COMPONENT_FAILED for all).
func (w *Worker) ComponentRaised(now time.Duration, exec uint32, kind ComponentError, out *Effects) {
	w.componentEnded(now, exec, true, kind, 0, out)
}

func (w *Worker) componentEnded(now time.Duration, exec uint32, failed bool, kind ComponentError, outputBytes int32, out *Effects) {
	i := w.find(exec)
	if i < 0 || !w.execs[i].running {
		return
	}
	e := &w.execs[i]
	e.running = false
	w.running--
	ev := w.event(EvExecEnded, e)
	ev.Reason = ExecFinished
	if failed {
		code := w.errorCode(kind)
		e.result, e.errorCode = ResultError, code
		ev.ErrorCode = code
	} else {
		e.result, e.outputBytes = ResultResponse, outputBytes
	}
	out.Events = append(out.Events, ev)
	if w.pol.BeatUntil == BeatEndsWithComponent {
		// The heartbeat task is cancelled when the component returns; an answer to a
		// heartbeat in flight is then never read.
		e.beating, e.beatCall = false, 0
		w.cancel(e, timerBeat, out)
	}
	// Otherwise the loop goes on until CompleteTask is over, so that a completion tried
	// again later finds the task still alive.
	w.sendComplete(now, i, out)
}

// sendComplete sends (or sends again) execution i's CompleteTask.
func (w *Worker) sendComplete(now time.Duration, i int, out *Effects) {
	e := &w.execs[i]
	if e.phase != phaseCompleting {
		e.phase, e.tries = phaseCompleting, 0
	}
	e.tries++
	call := w.call()
	m := Message{Type: MsgComplete, From: w.cfg.Node, To: w.cfg.Orchestrator, Call: call,
		Task: e.task, Run: w.runID(e), Discovery: e.discovery, Result: e.result, ErrorCode: e.errorCode,
		Truth: Truth{Step: e.step, Attempt: e.attempt}}
	if e.result == ResultResponse {
		m.PayloadBytes = e.outputBytes
	}
	out.Send = append(out.Send, m)
	if w.cfg.AckOnComplete {
		w.ack(i, out)
	}
	w.await(now, i, call, rpcComplete, out)
}

// completeReply routes a CompleteTaskResponse to the execution that waits for it.
func (w *Worker) completeReply(now time.Duration, m Message, out *Effects) {
	i := w.awaiting(m.Call)
	if i < 0 || w.execs[i].waitKind != rpcComplete {
		return
	}
	w.answered(i, out)
	w.reply(&w.execs[i], &m, out)
	w.completeAnswered(now, i, m.Code, out)
}

// completeAnswered acts on the answer to execution i's CompleteTask (code
// DEADLINE_EXCEEDED when none came in time): done, try again later, or give up.
func (w *Worker) completeAnswered(now time.Duration, i int, code Code, out *Effects) {
	e := &w.execs[i]
	delivered := code == CodeOK || (code == CodeNotFound && w.pol.CompleteNotFoundDelivered)
	pause, again := w.pol.Complete.Retry(code, e.tries)
	switch {
	case delivered:
		w.finish(now, i, out)
	case again:
		w.setTimer(e, timerRetry, now+pause, out)
	default:
		w.drop(now, i, DropCompleteFailed, code, StatusUnspecified, out)
	}
}

// drop gives up execution i without a result reaching the orchestrator, reporting why.
func (w *Worker) drop(now time.Duration, i int, reason uint8, code Code, status TaskStatus, out *Effects) {
	ev := w.event(EvTaskDropped, &w.execs[i])
	ev.Reason, ev.Code, ev.Status = reason, code, status
	out.Events = append(out.Events, ev)
	w.finish(now, i, out)
}

// errorCode is the TaskErrorCode the flavour reports for an exception of kind k.
func (w *Worker) errorCode(k ComponentError) ErrorCode {
	if k >= NumComponentErrors {
		k = ErrorValue
	}
	return w.pol.ErrorCodes[k]
}
