package conform

import (
	"time"

	"github.com/tasksim/tasksim/model"
)

// loopReaction is what a worker's heartbeat loop does with one kind of answer.
type loopReaction uint8

const (
	loopIgnores  loopReaction = iota + 1 // goes on heartbeating, component runs, completes
	loopStops                            // stops heartbeating; the component runs on and completes
	loopAbandons                         // stops heartbeating and the component, no CompleteTask
)

// behaviour is what one worker flavour does in the situations conform scripts: the single
// table the expected column of every row is derived from. Values come from PROTOCOL.md
// ("Worker (two reference flavours)", "What tasksim adds") and from model/'s exported
// constants where model has them; model keeps the rest inside its switch statements
// (worker_claim.go, worker_heartbeat.go, worker_complete.go), so those are written here
// once, next to the name of the model code they mirror.
type behaviour struct {
	flavour model.Flavour
	// heartbeatFloor: the period is max(floor, the assignment's suggestion).
	heartbeatFloor time.Duration
	// discoveryClaimed: a list_components task is claimed (heartbeated) before its answer.
	discoveryClaimed bool
	// claimDropsOnAbort: a claim answered IN_PROGRESS with should_abort drops the task.
	claimDropsOnAbort bool
	// claimRetries: pauses between claim tries answered UNAVAILABLE; then it drops the task.
	claimRetries []time.Duration
	onAbort      loopReaction // a later heartbeat answered should_abort
	onNotFound   loopReaction // a later heartbeat answered NOT_FOUND
	onUnavail    loopReaction // a later heartbeat answered UNAVAILABLE
	// waitsForBeat: the loop sends the next heartbeat only after the previous one's
	// answer (sleep-then-send), so an answer that never comes stops it.
	waitsForBeat bool
	// rpcDeadline is the deadline on every RPC, 0 for none.
	rpcDeadline time.Duration
	// beatsWhileCompleting: the loop heartbeats on while CompleteTask is retried.
	beatsWhileCompleting bool
	// completeRetries: pauses between CompleteTask tries answered UNAVAILABLE; after the
	// last one the result is dropped. NOT_FOUND ends the tries in every flavour.
	completeRetries []time.Duration
	// runsDuplicate: a second copy of a task it already runs runs again (two completions).
	runsDuplicate bool
	// unknownResult is the CompleteTask result for a component it does not have (after
	// a claim).
	unknownResult string
	// reconnect: pause before reconnect attempt n (from 1) after a stream failed; nil when
	// the model does not specify it. giveUp: failed attempts in a row after which it exits.
	reconnect func(n int) time.Duration
	giveUp    int
	// sigterm: specified says whether PROTOCOL.md states it; noticedOnAssignment: SIGTERM is
	// acted on only when the next assignment arrives; grace: how long running tasks may
	// finish before they are cancelled with no CompleteTask.
	sigtermSpecified    bool
	noticedOnAssignment bool
	grace               time.Duration
}

// pythonCompleteRetries mirrors model's unexported pythonCompleteBackoff (worker.go).
var pythonCompleteRetries = []time.Duration{4 * time.Second, 8 * time.Second,
	16 * time.Second, 30 * time.Second, 30 * time.Second}

// strictRetries is the strict flavour's pause list for a claim or CompleteTask: one try
// plus model.StrictMaxTries-1 retries, paused by model.StrictBackoff.
func strictRetries() []time.Duration {
	out := make([]time.Duration, model.StrictMaxTries-1)
	for i := range out {
		out[i] = model.StrictBackoff(i + 1)
	}
	return out
}

// repeat is n copies of d.
func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// behaviours is the table: one row per flavour of the model, in model.Flavour order.
var behaviours = []behaviour{
	{
		flavour:           model.FlavourPython,
		heartbeatFloor:    model.MinHeartbeatInterval,
		discoveryClaimed:  false,
		claimDropsOnAbort: true,
		// model: pythonClaimTries (5) tries, pythonClaimPause (1s) apart.
		claimRetries:         repeat(time.Second, 4),
		onAbort:              loopStops,
		onNotFound:           loopStops,
		onUnavail:            loopIgnores,
		waitsForBeat:         true,
		beatsWhileCompleting: true,
		completeRetries:      pythonCompleteRetries,
		runsDuplicate:        true,
		unknownResult:        "error COMPONENT_FAILED",
		// model.Worker.reconnectDelay: every 2s, exits when a 16th stream fails.
		reconnect:           func(int) time.Duration { return 2 * time.Second },
		giveUp:              15,
		sigtermSpecified:    true,
		noticedOnAssignment: true,
		grace:               10 * time.Second,
	},
	{
		flavour:           model.FlavourRust,
		heartbeatFloor:    model.MinHeartbeatInterval,
		discoveryClaimed:  true,
		claimDropsOnAbort: false,
		onAbort:           loopIgnores,
		onNotFound:        loopIgnores,
		onUnavail:         loopIgnores,
		waitsForBeat:      true,
		runsDuplicate:     true,
		unknownResult:     "error COMPONENT_FAILED",
		// model.Worker.reconnectDelay: 2^n s capped at 60s, exits when an 11th stream fails.
		reconnect: func(n int) time.Duration {
			return min(time.Duration(1<<min(n, 6))*time.Second, 60*time.Second)
		},
		giveUp:           10,
		sigtermSpecified: true,
		grace:            30 * time.Second,
	},
	{
		flavour:              model.FlavourStrict,
		heartbeatFloor:       model.MinHeartbeatInterval,
		discoveryClaimed:     true,
		claimDropsOnAbort:    true,
		claimRetries:         strictRetries(),
		onAbort:              loopAbandons,
		onNotFound:           loopAbandons,
		onUnavail:            loopIgnores,
		waitsForBeat:         false,
		rpcDeadline:          model.DefaultRPCTimeout,
		beatsWhileCompleting: true,
		completeRetries:      strictRetries(),
		runsDuplicate:        false,
		// PROTOCOL.md does not say; the strict flavour claims before it runs anything.
		unknownResult: "error COMPONENT_FAILED",
		// PROTOCOL.md does not say; the model's worker reconnects strict like python
		// (model.Worker.reconnectDelay, its default case).
		reconnect: func(int) time.Duration { return 2 * time.Second },
		giveUp:    15,
	},
}
