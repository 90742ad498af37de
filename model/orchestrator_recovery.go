package model

import (
	"cmp"
	"slices"
	"time"
)

// Crash loses the orchestrator's in-memory state: tracked tasks, worker streams, pull
// queues, health streaks, pending backoffs. The journal of unfinished steps (step, run,
// task id, attempt, component, payload, budgets used) survives, a step waiting for its
// backoff included. The driver drops the orchestrator's timers; until Restart every
// input is ignored.
func (o *Orchestrator) Crash() {
	o.up = false
	o.resetMemory()
}

// Restart brings the process back, as Stepflow's server start does (stepflow-server/src/
// bin/main.rs, stepflow-execution/src/recovery.rs): the scan cycle starts again from now;
// the start-up gate closes (every request for an unknown task answers UNAVAILABLE) and
// every run with an unfinished step is marked recovering; after RecoveryTime, the
// journal's replay, each unfinished step is re-dispatched and the start-up gate opens (see
// finishRecovery). A run's own gate stays closed until its first task result.
func (o *Orchestrator) Restart(now time.Duration, out *Effects) {
	if o.up {
		o.resetMemory() // a restart without a reported crash still loses the memory
	}
	o.up = true
	o.startupPending = true
	o.armScan(now, out)
	o.recoverySteps = o.recoverySteps[:0]
	for i := range o.steps {
		if o.steps[i].live {
			o.recoverySteps = append(o.recoverySteps, int32(i))
		}
	}
	// Recover runs in id order and steps in id order within a run, independent of slots.
	slices.SortFunc(o.recoverySteps, func(a, b int32) int {
		sa, sb := &o.steps[a], &o.steps[b]
		if c := cmp.Compare(sa.run, sb.run); c != 0 {
			return c
		}
		return cmp.Compare(sa.id, sb.id)
	})
	if len(o.recoverySteps) > 0 {
		o.recovering = make(map[RunID]bool)
	}
	for _, slot := range o.recoverySteps {
		o.recovering[o.steps[slot].run] = true
	}
	if o.cfg.RecoveryTime <= 0 {
		o.finishRecovery(now, out)
		return
	}
	// The replay takes RecoveryTime even when it finds nothing to recover: the start-up
	// gate is the server's, not a run's.
	out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerRecovery, 0, 0), At: now + o.cfg.RecoveryTime})
}

// finishRecovery re-dispatches the unfinished steps of the recovering runs (up to each
// run's cap), in run then step order, and reports each run recovered after its steps. A recovered step keeps its
// task id (under reuse) and its attempt counter as the journal has it (a retry waiting
// for its backoff was journaled with its own attempt), plus one; its retry budgets start
// afresh, as Stepflow's per-step RetryState is not journaled (stepflow-execution/src/
// state/item_state.rs: "Reset on orchestrator recovery").
func (o *Orchestrator) finishRecovery(now time.Duration, out *Effects) {
	steps := o.recoverySteps
	for i, slot := range steps {
		s := &o.steps[slot]
		run := s.run
		if s.retryJournaled {
			s.attempt++
		}
		s.transportRetries, s.componentRetries = 0, 0
		// A step submitted while down was never dispatched: its first attempt. Past the
		// run's cap a step waits in the run, as the recovered executor starts at most
		// MaxTasksPerRun of them.
		o.admit(now, slot, out)
		if i+1 == len(steps) || o.steps[steps[i+1]].run != run {
			out.Events = append(out.Events, Event{Kind: EvRecovered, Node: o.cfg.Node, Run: run})
		}
	}
	o.recoverySteps = o.recoverySteps[:0]
	o.startupPending = false
}

// runResult opens run's recovery gate: a result of one of its tasks reached the
// executor (an accepted CompleteTask, or a timer failing the task). Stepflow's
// FlowExecutor clears its recovery gate on the first task result of its loop
// (stepflow-execution/src/flow_executor.rs, run_internal), not when it re-dispatches.
func (o *Orchestrator) runResult(run RunID) {
	if o.recovering[run] {
		delete(o.recovering, run)
	}
}

// Recovering reports whether run's recovery gate is closed: its unknown tasks answer
// UNAVAILABLE to a request that names the run.
func (o *Orchestrator) Recovering(run RunID) bool { return o.recovering[run] }

// StartupPending reports whether the start-up gate is closed: from a restart until the
// journal has been replayed, every request for an unknown task answers UNAVAILABLE.
func (o *Orchestrator) StartupPending() bool { return o.startupPending }
