package model

import "time"

// orchRun is one run's share of the per-run cap (MaxTasksPerRun): its steps in flight and
// those waiting for room, in arrival (or, after recovery, step id) order.
type orchRun struct {
	id       RunID
	live     int32 // steps not settled, waiting ones included
	inFlight int32
	waiting  ringFIFO[int32] // step slots
}

// runOf returns the slot of run id, adding it if it has none.
func (o *Orchestrator) runOf(id RunID) int32 {
	if r, ok := o.runIndex.get(id); ok {
		return r
	}
	var r int32
	if n := len(o.freeRuns); n > 0 {
		r = o.freeRuns[n-1]
		o.freeRuns = o.freeRuns[:n-1]
		o.runs[r] = orchRun{id: id, waiting: o.runs[r].waiting}
	} else {
		o.runs = append(o.runs, orchRun{id: id})
		r = int32(len(o.runs) - 1)
	}
	o.runIndex.set(id, r)
	return r
}

// admit makes a step that is not in flight (new, or recovered) part of its run: it is
// dispatched if the run has room under the cap, else it waits in the run. Its attempt
// tells why it is dispatched: a step never dispatched gets its first attempt, any other
// one is a recovery.
func (o *Orchestrator) admit(now time.Duration, slot int32, out *Effects) {
	if o.cfg.MaxTasksPerRun <= 0 {
		o.dispatch(now, slot, admitReason(&o.steps[slot]), out)
		return
	}
	r := &o.runs[o.runOf(o.steps[slot].run)]
	r.live++
	if int(r.inFlight) >= o.cfg.MaxTasksPerRun {
		r.waiting.Push(slot)
		return
	}
	o.startInRun(now, r, slot, out)
}

func admitReason(s *orchStep) uint8 {
	if s.attempt == 0 {
		return DispatchFirst
	}
	return DispatchRecovery
}

// startInRun dispatches a step of run r and counts it in flight until it settles.
func (o *Orchestrator) startInRun(now time.Duration, r *orchRun, slot int32, out *Effects) {
	r.inFlight++
	o.steps[slot].inRunFlight = true
	o.dispatch(now, slot, admitReason(&o.steps[slot]), out)
}

// startWaiting is the run's executor loop after one of its task results (a completion
// accepted, or a task failed by a timer, whether its step settled or retries): it starts
// max(cap - in flight, 1) waiting steps, the reference's floor of one that keeps a run
// whose slots are all held moving, so a result that is retried lets one more in.
func (o *Orchestrator) startWaiting(now time.Duration, run RunID, out *Effects) {
	if o.cfg.MaxTasksPerRun <= 0 {
		return
	}
	ri, ok := o.runIndex.get(run)
	if !ok {
		return
	}
	r := &o.runs[ri]
	for n := max(o.cfg.MaxTasksPerRun-int(r.inFlight), 1); n > 0 && r.waiting.Len() > 0; n-- {
		o.startInRun(now, r, r.waiting.Pop(), out)
	}
}

// leaveRun takes a settling step out of its run, and forgets the run once nothing of it
// is left.
func (o *Orchestrator) leaveRun(slot int32) {
	if o.cfg.MaxTasksPerRun <= 0 {
		return
	}
	s := &o.steps[slot]
	ri, ok := o.runIndex.get(s.run)
	if !ok {
		return
	}
	r := &o.runs[ri]
	if s.inRunFlight {
		r.inFlight--
		s.inRunFlight = false
	}
	r.live--
	if r.live <= 0 && r.waiting.Len() == 0 {
		o.runIndex.delete(s.run)
		o.freeRuns = append(o.freeRuns, ri)
	}
}

// RunInFlight reports run's steps in flight under the cap (0 without a cap).
func (o *Orchestrator) RunInFlight(run RunID) int {
	if ri, ok := o.runIndex.get(run); ok {
		return int(o.runs[ri].inFlight)
	}
	return 0
}

// RunWaiting reports run's steps waiting for room under the cap.
func (o *Orchestrator) RunWaiting(run RunID) int {
	if ri, ok := o.runIndex.get(run); ok {
		return o.runs[ri].waiting.Len()
	}
	return 0
}
