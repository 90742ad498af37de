package model

import "time"

// errorClass sorts a TaskErrorCode by which retry budget it draws on.
type errorClass uint8

const (
	errorFatal     errorClass = iota // fails the step
	errorTransport                   // TIMEOUT, UNREACHABLE: always retried
	errorComponent                   // COMPONENT_FAILED, RESOURCE_UNAVAILABLE: retried if the component is retriable
)

func classifyError(code ErrorCode) errorClass {
	switch code {
	case ErrTimeout, ErrUnreachable:
		return errorTransport
	case ErrComponentFailed, ErrResourceUnavailable:
		return errorComponent
	}
	return errorFatal
}

// stepFailed handles a failed attempt of a step: a retry after backoff while the matching
// budget lasts, otherwise the step fails for good. Budgets are separate, and the backoff
// is indexed by the retry count of the error's own kind (Stepflow's maybe_retry_task in
// stepflow-execution/src/flow_executor.rs passes that kind's counter to delay): a
// component retry after two transport retries waits Delay(1), not Delay(3).
func (o *Orchestrator) stepFailed(now time.Duration, slot int32, code ErrorCode, out *Effects) {
	s := &o.steps[slot]
	s.lastError = code
	switch classifyError(code) {
	case errorTransport:
		if int(s.transportRetries) < o.cfg.MaxTransportRetries {
			s.transportRetries++
			o.scheduleRetry(now, slot, int(s.transportRetries), RetryTransport, DispatchTransport, code, out)
			return
		}
	case errorComponent:
		if o.component(s.component).Retriable && int(s.componentRetries) < o.cfg.MaxComponentRetries {
			s.componentRetries++
			o.scheduleRetry(now, slot, int(s.componentRetries), RetryComponent, DispatchComponent, code, out)
			return
		}
	}
	o.settleStep(slot, SettledFailed, code, out)
}

// scheduleRetry announces the step's next attempt (retry number kindRetries of its kind)
// and arms its backoff timer (or dispatches at once when the delay is zero). The retry's
// attempt is journaled now, before the backoff, as the reference writes TasksStarted
// before it sleeps: a restart during the backoff restores that attempt.
func (o *Orchestrator) scheduleRetry(now time.Duration, slot int32, kindRetries int, retryReason, dispatchReason uint8, code ErrorCode, out *Effects) {
	s := &o.steps[slot]
	at := now + o.cfg.Backoff.Delay(kindRetries)
	out.Events = append(out.Events, Event{Kind: EvRetryScheduled, Reason: retryReason, Node: o.cfg.Node,
		Step: s.id, Run: s.run, Task: s.task, Attempt: s.attempt + 1, CurrentAttempt: s.attempt,
		Component: s.component, ErrorCode: code, At: at})
	if at <= now {
		o.dispatch(now, slot, dispatchReason, out)
		return
	}
	s.retryPending, s.retryReason, s.retryJournaled = true, dispatchReason, true
	out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerRetry, s.gen, slot), At: at})
}

// onRetryTimer dispatches a step's retry when its backoff ends.
func (o *Orchestrator) onRetryTimer(now time.Duration, gen uint32, slot int32, out *Effects) {
	if slot < 0 || int(slot) >= len(o.steps) {
		return
	}
	s := &o.steps[slot]
	if !s.live || !s.retryPending || s.gen&0xffffff != gen {
		return
	}
	o.dispatch(now, slot, s.retryReason, out)
}

// settleStep finishes a step for good and drops it from the journal. A failed step's
// ErrorCode tells an observer which budget ran out: a transport code means the transport
// budget (transport errors are always retried); a component code of a retriable
// component means the component budget.
func (o *Orchestrator) settleStep(slot int32, reason uint8, code ErrorCode, out *Effects) {
	s := &o.steps[slot]
	out.Events = append(out.Events, Event{Kind: EvStepSettled, Reason: reason, Node: o.cfg.Node,
		Step: s.id, Run: s.run, Task: s.task, Attempt: s.attempt, CurrentAttempt: s.attempt,
		Component: s.component, ErrorCode: code})
	o.leaveRun(slot)
	o.freeStep(slot)
}
