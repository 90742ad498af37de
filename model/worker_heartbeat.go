package model

import "time"

// sendBeat sends one loop heartbeat of execution i. The reference loops then wait for the
// answer before they sleep again, with no deadline: an answer that never comes stops the
// loop (hazard 8) until the connection fails and answers UNAVAILABLE. The strict loop
// sleeps at once, so its period is fixed and it never waits.
func (w *Worker) sendBeat(now time.Duration, i int, out *Effects) {
	e := &w.execs[i]
	call := w.call()
	out.Send = append(out.Send, w.heartbeat(e, call))
	if w.pol.BeatWaitsForAnswer {
		e.beatCall = call
		return
	}
	w.pruneBeats(now)
	w.beats = append(w.beats, pendingBeat{call: call, exec: e.exec, sentAt: now})
	w.setTimer(e, timerBeat, now+e.interval, out)
}

// beatAnswered acts on the answer to a reference loop heartbeat of execution i.
func (w *Worker) beatAnswered(now time.Duration, i int, code Code, _ TaskStatus, abort bool, out *Effects) {
	e := &w.execs[i]
	if !e.beating {
		return
	}
	if w.pol.BeatAnswer == BeatStops && (abort || (code != CodeOK && code != CodeUnavailable)) {
		// The loop stops but the component runs on and still sends CompleteTask (hazard 5).
		e.beating = false
		return
	}
	// BeatIgnores goes on after any answer; BeatStops after OK or UNAVAILABLE.
	w.setTimer(e, timerBeat, now+e.interval, out)
}

// periodicBeatReply acts on the answer to a heartbeat of a loop that does not wait for
// answers (strict), if it came within the RPC timeout: with BeatAbandons, a task the
// worker no longer owns is abandoned.
func (w *Worker) periodicBeatReply(now time.Duration, m Message, out *Effects) {
	j := -1
	for k := range w.beats {
		if w.beats[k].call == m.Call {
			j = k
			break
		}
	}
	if j < 0 {
		return
	}
	b := w.beats[j]
	w.beats = append(w.beats[:j], w.beats[j+1:]...)
	if w.pol.RPCDeadline && now >= b.sentAt+w.cfg.RPCTimeout {
		return // the call already failed with DEADLINE_EXCEEDED, which the loop ignores
	}
	i := w.find(b.exec)
	if i < 0 {
		return
	}
	e := &w.execs[i]
	w.reply(e, &m, out)
	if w.pol.BeatAnswer == BeatAbandons && (m.ShouldAbort || m.Status == StatusAlreadyClaimed || m.Code == CodeNotFound) {
		w.abandon(now, i, out)
	}
}

// stopComponent stops e's component if it is still running (the driver gets a stop, the
// observers an ExecEnded with reason): what abandoning and SIGTERM's end of grace share.
func (w *Worker) stopComponent(e *workerExec, reason uint8, out *Effects) {
	if !e.running {
		return
	}
	e.running = false
	w.running--
	out.Runs = append(out.Runs, RunOp{Stop: true, Task: e.task, Step: e.step,
		Attempt: e.attempt, Component: e.component, Exec: e.exec})
	ev := w.event(EvExecEnded, e)
	ev.Reason = reason
	out.Events = append(out.Events, ev)
}

// abandon stops execution i for good without a CompleteTask (strict flavour): the
// orchestrator has given the task to someone else or forgotten it.
func (w *Worker) abandon(now time.Duration, i int, out *Effects) {
	w.stopComponent(&w.execs[i], ExecAbandoned, out)
	w.finish(now, i, out)
}

// pruneBeats forgets strict heartbeats whose answers can no longer count. They were sent
// in time order with one timeout, so the expired ones are a prefix.
func (w *Worker) pruneBeats(now time.Duration) {
	if !w.pol.RPCDeadline {
		return
	}
	n := 0
	for n < len(w.beats) && now >= w.beats[n].sentAt+w.cfg.RPCTimeout {
		n++
	}
	if n > 0 {
		w.beats = append(w.beats[:0], w.beats[n:]...)
	}
}

// dropBeats forgets the strict heartbeats of a finished execution.
func (w *Worker) dropBeats(exec uint32) {
	kept := w.beats[:0]
	for _, b := range w.beats {
		if b.exec != exec {
			kept = append(kept, b)
		}
	}
	w.beats = kept
}
