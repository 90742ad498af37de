package model

import "time"

// armScan schedules the next scan one HeartbeatTimeout from now. The scan timer is armed
// at process start and re-armed by each scan, so the cycle is fixed from start-up. The
// deadline detector needs no scan.
func (o *Orchestrator) armScan(now time.Duration, out *Effects) {
	if o.cfg.Detector != DetectorScan {
		return
	}
	out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerScan, 0, 0), At: now + o.cfg.HeartbeatTimeout})
}

// scan is the reference detector, as Stepflow's PendingTasks::scan_heartbeats
// (stepflow-grpc/src/pending_tasks.rs) does it: it lists, in claim order, each Executing
// task that has run ExecutionTimeout or longer (when there is a cap; checked first, so
// such a task is an execution timeout even if it also went silent) and each other one
// that started at least HeartbeatTimeout ago and was not seen since the previous scan;
// clears the seen set (at once, or at the scan's end when ScanDuration is set); then fails
// the execution timeouts, then the heartbeat timeouts.
func (o *Orchestrator) scan(now time.Duration, out *Effects) {
	o.armScan(now, out)
	clearNow := o.cfg.ScanDuration == 0
	o.scanExec, o.scanSilent = o.scanExec[:0], o.scanSilent[:0]
	for slot := o.execHead; slot != noSlot; slot = o.tasks[slot].next {
		t := &o.tasks[slot]
		age := now - t.startedAt
		switch {
		case o.cfg.ExecutionTimeout > 0 && age >= o.cfg.ExecutionTimeout:
			o.scanExec = append(o.scanExec, scanned{slot, t.gen})
		case age >= o.cfg.HeartbeatTimeout && !t.seen:
			o.scanSilent = append(o.scanSilent, scanned{slot, t.gen})
		}
		if clearNow {
			t.seen = false
		}
	}
	o.failScanned(now, o.scanExec, TimeoutExecution, out)
	o.failScanned(now, o.scanSilent, TimeoutHeartbeat, out)
	if !clearNow {
		out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerScanEnd, 0, 0), At: now + o.cfg.ScanDuration})
	}
}

// scanned names a task a scan listed: its slot, and the slot's generation then.
type scanned struct {
	slot int32
	gen  uint32
}

// failScanned fails the listed tasks that are still the ones listed and still Executing
// (failing one settles or retries only its own step, but a step settled by it may free
// its run's cap and dispatch others; none of them is Executing yet).
func (o *Orchestrator) failScanned(now time.Duration, list []scanned, reason uint8, out *Effects) {
	for _, sc := range list {
		t := &o.tasks[sc.slot]
		if t.gen != sc.gen || t.phase != phaseExecuting {
			continue
		}
		o.failTask(now, sc.slot, reason, t.attempt, out)
	}
}

// clearSeen ends a scan that takes time: every heartbeat seen so far, including those
// that landed during the scan, is forgotten.
func (o *Orchestrator) clearSeen() {
	for slot := o.execHead; slot != noSlot; slot = o.tasks[slot].next {
		o.tasks[slot].seen = false
	}
}

// armTaskDeadlines sets a freshly claimed task's deadlines (deadline detector): the
// heartbeat deadline and, with a cap, the execution deadline.
func (o *Orchestrator) armTaskDeadlines(now time.Duration, slot int32, out *Effects) {
	if o.cfg.Detector != DetectorDeadline {
		return
	}
	t := &o.tasks[slot]
	t.hbTimer = true
	out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerHeartbeat, t.gen, slot), At: now + o.cfg.HeartbeatTimeout})
	if o.cfg.ExecutionTimeout > 0 {
		t.execTimer = true
		out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerExecution, t.gen, slot), At: now + o.cfg.ExecutionTimeout})
	}
}

// moveHeartbeatDeadline pushes the heartbeat deadline to now + HeartbeatTimeout: the same
// timer, moved (the driver re-keys it).
func (o *Orchestrator) moveHeartbeatDeadline(now time.Duration, slot int32, out *Effects) {
	t := &o.tasks[slot]
	if !t.hbTimer {
		return
	}
	out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerHeartbeat, t.gen, slot), At: now + o.cfg.HeartbeatTimeout})
}

// onTaskDeadline handles a per-task heartbeat or execution deadline (deadline detector).
func (o *Orchestrator) onTaskDeadline(now time.Duration, kind orchTimerKind, gen uint32, slot int32, out *Effects) {
	if slot < 0 || int(slot) >= len(o.tasks) {
		return
	}
	t := &o.tasks[slot]
	if t.phase != phaseExecuting || t.gen&0xffffff != gen {
		return
	}
	reason := TimeoutHeartbeat
	if kind == orchTimerExecution {
		if !t.execTimer {
			return
		}
		t.execTimer = false
		reason = TimeoutExecution
	} else {
		if !t.hbTimer {
			return
		}
		t.hbTimer = false
	}
	o.failTask(now, slot, reason, t.attempt, out)
}

// failTask fails a tracked task with TIMEOUT because a timer fired (reason Timeout*;
// deadlineAttempt is the attempt the timer belonged to) and retries or fails its step.
func (o *Orchestrator) failTask(now time.Duration, slot int32, reason uint8, deadlineAttempt uint32, out *Effects) {
	t := o.tasks[slot]
	ev := Event{Kind: EvTimedOut, Reason: reason, Node: o.cfg.Node, Step: t.stepID, Run: t.run,
		Task: t.id, Attempt: t.attempt, CurrentAttempt: t.attempt, DeadlineAttempt: deadlineAttempt,
		Component: t.component, ErrorCode: ErrTimeout, Discovery: t.isDiscovery()}
	if t.phase == phaseExecuting {
		ev.Worker, ev.LastSeen = t.worker, t.lastSeen
	}
	out.Events = append(out.Events, ev)
	o.removeTask(slot, out)
	if !t.isDiscovery() {
		o.runResult(t.run)
		o.stepFailed(now, t.step, ErrTimeout, out)
		o.startWaiting(now, t.run, out)
	}
}

// linkExecuting appends a task to the executing list (claim order).
func (o *Orchestrator) linkExecuting(slot int32) {
	t := &o.tasks[slot]
	t.prev, t.next = o.execTail, noSlot
	if o.execTail != noSlot {
		o.tasks[o.execTail].next = slot
	} else {
		o.execHead = slot
	}
	o.execTail = slot
	o.executing++
}

// unlinkExecuting removes a task from the executing list.
func (o *Orchestrator) unlinkExecuting(slot int32) {
	t := &o.tasks[slot]
	if t.prev != noSlot {
		o.tasks[t.prev].next = t.next
	} else {
		o.execHead = t.next
	}
	if t.next != noSlot {
		o.tasks[t.next].prev = t.prev
	} else {
		o.execTail = t.prev
	}
	t.prev, t.next = noSlot, noSlot
	o.executing--
}
