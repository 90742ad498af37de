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
// table the expected column of every row is derived from. The rows are built from
// model's policy table (model.Flavour.Policy), which follows PROTOCOL.md ("Worker (two
// reference flavours)", "What tasksim adds"); what model does not decide (the result of
// an unknown component, whether PROTOCOL.md specifies SIGTERM) is written here.
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
	// the model does not specify it. giveUp: reconnect attempts that fail before it exits.
	reconnect func(n int) time.Duration
	giveUp    int
	// sigterm: specified says whether PROTOCOL.md states it; noticedOnAssignment: SIGTERM is
	// acted on only when the next assignment arrives; grace: how long running tasks may
	// finish before they are cancelled with no CompleteTask.
	sigtermSpecified    bool
	noticedOnAssignment bool
	grace               time.Duration
}

// fromModel is flavour f's row as model's policy table gives it.
func fromModel(f model.Flavour, sigtermSpecified bool) behaviour {
	p := f.Policy()
	reaction := func(stops bool) loopReaction {
		switch {
		case !stops || p.BeatAnswer == model.BeatIgnores:
			return loopIgnores
		case p.BeatAnswer == model.BeatAbandons:
			return loopAbandons
		default:
			return loopStops
		}
	}
	b := behaviour{
		flavour:              f,
		heartbeatFloor:       model.MinHeartbeatInterval,
		discoveryClaimed:     !p.DiscoveryInline,
		claimDropsOnAbort:    p.ClaimRefusedOnAbort,
		claimRetries:         p.Claim.Pauses,
		onAbort:              reaction(true),
		onNotFound:           reaction(true),
		onUnavail:            reaction(false),
		waitsForBeat:         p.BeatWaitsForAnswer,
		beatsWhileCompleting: p.BeatUntil == model.BeatEndsWithComplete,
		completeRetries:      p.Complete.Pauses,
		runsDuplicate:        !p.DropsDuplicate,
		// Every flavour claims before it looks the component up.
		unknownResult: "error COMPONENT_FAILED",
		// The situations break a stream that had opened: a flavour that reopens such a
		// stream at once (rust) pauses only before the opens after it.
		reconnect: func(n int) time.Duration {
			if n == 1 && p.Reconnect.AtOnceAfterOpen {
				return atOnce
			}
			d, _ := p.Reconnect.Delay(n)
			return d
		},
		// The break is failure 1; the reconnects fail 2 .. GiveUp, and the last ends it.
		giveUp:           p.Reconnect.GiveUp - 1,
		sigtermSpecified: sigtermSpecified,
	}
	if p.RPCDeadline {
		b.rpcDeadline = model.DefaultRPCTimeout
	}
	if sigtermSpecified {
		b.noticedOnAssignment, b.grace = p.SigtermOnAssignment, p.SigtermGrace
	}
	return b
}

// behaviours is the table: one row per flavour of the model, in model.Flavour order.
var behaviours = []behaviour{
	fromModel(model.FlavourPython, true),
	fromModel(model.FlavourRust, true),
	// PROTOCOL.md does not say how the strict flavour shuts down; the model's choice
	// (model.Worker.Terminate: at once, 30s for running tasks) is what conform checks.
	fromModel(model.FlavourStrict, true),
}
