package model

import (
	"slices"
	"time"
)

// FlavourPolicy is what one worker flavour does wherever the flavours differ
// (PROTOCOL.md, "Worker (two reference flavours)" and "What tasksim adds"). The worker's
// code reads its flavour's row (Flavour.Policy) instead of branching on the flavour, so
// a behaviour is changed, and read, in one place.
type FlavourPolicy struct {
	// Concurrency is the number of slots when WorkerConfig.Concurrency is 0.
	Concurrency int
	// ReadAhead: over gRPC the read loop reads one assignment more than it has free slots
	// and keeps it waiting, unclaimed (python; hazard 6). Over NATS no flavour reads ahead.
	ReadAhead bool
	// DropsDuplicate: a second copy of an attempt the worker already holds is acked and
	// given up at once (EvTaskDropped DropDuplicate), so the step runs once.
	DropsDuplicate bool

	// DiscoveryInline: a list_components task is answered at once, with no slot, claim
	// or heartbeat, and the read loop goes straight on.
	DiscoveryInline bool
	// DiscoveryBeats: a claimed list_components task heartbeats until its CompleteTask is
	// over (otherwise the loop would be cancelled before its first sleep ends).
	DiscoveryBeats bool

	// ClaimRefusedOnAbort: a first heartbeat answered with should_abort drops the task.
	ClaimRefusedOnAbort bool
	// ClaimRefusedOnAlreadyClaimed: a first heartbeat answered ALREADY_CLAIMED drops the task.
	ClaimRefusedOnAlreadyClaimed bool
	// Claim is how a first heartbeat that failed is tried again.
	Claim RetryPolicy

	// BeatWaitsForAnswer: the loop sleeps one interval after the previous heartbeat's
	// answer, then sends (the reference loops); otherwise it sends on a fixed period and
	// never waits (strict).
	BeatWaitsForAnswer bool
	// BeatAnswer is what the loop does with an answer to one of its heartbeats.
	BeatAnswer BeatReaction
	// BeatUntil is what ends the heartbeat loop of a task whose component finished.
	BeatUntil BeatEnd

	// CompleteNotFoundDelivered: a CompleteTask answered NOT_FOUND counts as delivered
	// (an earlier try is assumed to have got through).
	CompleteNotFoundDelivered bool
	// Complete is how a CompleteTask that failed is tried again; after the last pause
	// the result is dropped (DropCompleteFailed).
	Complete RetryPolicy

	// Reconnect is how the worker reconnects after its stream failed, and when it exits.
	Reconnect ReconnectPolicy

	// SigtermOnAssignment: SIGTERM is noticed only when the next assignment arrives
	// (which is dropped); otherwise at once.
	SigtermOnAssignment bool
	// SigtermGrace is how long running tasks may still finish after SIGTERM is noticed;
	// then they are cancelled with no CompleteTask.
	SigtermGrace time.Duration
	// SigtermKillsOverNATS: over NATS the worker installs no SIGTERM handler, so the
	// signal ends the process at once, like a kill (the python NATS worker).
	SigtermKillsOverNATS bool

	// ErrorCodes is the TaskErrorCode a CompleteTask reports for each kind of exception
	// a component raised (PROTOCOL.md, worker table, "component errors").
	ErrorCodes [NumComponentErrors]ErrorCode

	// SendsRunID: heartbeats and CompleteTask carry the assignment's run_id (python reads
	// it from ObservabilityContext), so the orchestrator's per-run recovery gate can
	// answer them UNAVAILABLE; without it (rust sends none) they get NOT_FOUND.
	SendsRunID bool

	// RPCDeadline: a claim, a CompleteTask or a loop heartbeat fails with
	// DEADLINE_EXCEEDED when no answer came within WorkerConfig.RPCTimeout
	// (network.rpc_timeout). Neither SDK sets a deadline, so a reference RPC waits for its
	// answer until the connection fails (PROTOCOL.md). The loop heartbeats' deadline is
	// kept only by a loop that does not wait for answers (BeatWaitsForAnswer false).
	RPCDeadline bool
}

// BeatReaction is what a heartbeat loop does with the answer to one of its heartbeats.
type BeatReaction uint8

const (
	// BeatIgnores: every answer is ignored; the loop goes on (rust).
	BeatIgnores BeatReaction = iota + 1
	// BeatStops: should_abort, or an error other than UNAVAILABLE, stops the loop; the
	// component still runs and still sends CompleteTask (python; hazard 5).
	BeatStops
	// BeatAbandons: should_abort, ALREADY_CLAIMED or NOT_FOUND stop the component and
	// give the task up without CompleteTask (strict).
	BeatAbandons
)

// BeatEnd is what ends the heartbeat loop of a task whose component has returned.
type BeatEnd uint8

const (
	// BeatEndsWithComponent: the loop is cancelled when the component returns, before
	// CompleteTask; an answer to a heartbeat in flight is then never read.
	BeatEndsWithComponent BeatEnd = iota + 1
	// BeatEndsWithComplete: the loop runs until CompleteTask and all its retries are
	// over, so a completion tried again later finds the task still alive.
	BeatEndsWithComplete
)

// RetryPolicy is how a claim or a CompleteTask that failed is tried again.
type RetryPolicy struct {
	// On are the answers that are tried again.
	On []Code
	// Pauses[n-1] is the pause after failed try n; one try plus len(Pauses) retries in all.
	Pauses []time.Duration
}

// Retry reports whether try number `tries` (from 1), answered code, is tried again, and
// after what pause.
func (r RetryPolicy) Retry(code Code, tries int) (time.Duration, bool) {
	if tries < 1 || tries > len(r.Pauses) || !slices.Contains(r.On, code) {
		return 0, false
	}
	return r.Pauses[tries-1], true
}

// ReconnectPolicy is how the worker's read loop reconnects after its stream failed or
// ended, and when it gives up (PROTOCOL.md's "stream ends or fails" row). The loop
// learns of a failure only when it next reads: a worker waiting for a slot finds its
// stream broken once a slot frees.
type ReconnectPolicy struct {
	// First is the pause after the first failure in a row; Doubles doubles it for each
	// further one, up to Max (pause n is Delay(n)).
	First   time.Duration
	Doubles bool
	Max     time.Duration
	// GiveUp is the failure in a row that makes the worker exit (EvWorkerExited)
	// instead of reconnecting: python exits at its 15th, rust at its 10th.
	GiveUp int
	// ResetOnOpen: the count of failures in a row starts again when a stream opens
	// (its response headers arrive, Worker.StreamOpened) or an assignment arrives
	// (rust); otherwise only a stream the orchestrator ended with OK resets it
	// (python: a stream that delivered for an hour and then broke still counts).
	ResetOnOpen bool
	// AtOnceAfterOpen: a stream that had opened and then failed or ended is opened
	// again at once (rust); the pauses are for opens that fail.
	AtOnceAfterOpen bool
	// CleanEndReconnects: a stream the orchestrator ended with OK is no failure; the
	// loop reconnects at once (python).
	CleanEndReconnects bool
	// ExitOnUnavailableAfterCleanEnd: once a stream has ended with OK, any later
	// failure with UNAVAILABLE makes the worker exit ("the server went away", python).
	ExitOnUnavailableAfterCleanEnd bool
}

// Delay is the pause after failure number n in a row (from 1) before the next try, or
// false when that failure makes the worker give up.
func (r ReconnectPolicy) Delay(n int) (time.Duration, bool) {
	if n >= r.GiveUp {
		return 0, false
	}
	d := r.First
	for i := 1; r.Doubles && i < n && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max), true
}

// Retry schedules of the flavours.
const (
	// StrictMaxTries bounds the strict flavour's tries of a claim or a CompleteTask
	// (the first one included); the pauses between them are StrictBackoff(1..5):
	// 1s, 2s, 4s, 8s, 10s, so a strict worker gives up 25s plus the RPC times after the
	// first try, inside the 30s queue timeout when the answers come back.
	StrictMaxTries = 6
	// strictBackoffMin and strictBackoffMax bound the strict flavour's doubling pause.
	strictBackoffMin = time.Second
	strictBackoffMax = 10 * time.Second
)

// StrictBackoff is the strict flavour's pause after its try number `tries` (from 1) of a
// claim or CompleteTask failed with UNAVAILABLE or DEADLINE_EXCEEDED: 1s doubling, capped
// at 10s.
func StrictBackoff(tries int) time.Duration {
	d := strictBackoffMin
	for i := 1; i < tries && d < strictBackoffMax; i++ {
		d *= 2
	}
	return min(d, strictBackoffMax)
}

// strictPauses is StrictBackoff(1..StrictMaxTries-1).
func strictPauses() []time.Duration {
	p := make([]time.Duration, StrictMaxTries-1)
	for i := range p {
		p[i] = StrictBackoff(i + 1)
	}
	return p
}

// policies is the table, in Flavour order.
var policies = [...]FlavourPolicy{
	FlavourPython: {
		Concurrency:         4,
		ReadAhead:           true,
		DiscoveryInline:     true,
		ClaimRefusedOnAbort: true,
		// Up to 5 tries, 1s apart, on UNAVAILABLE (ALREADY_CLAIMED comes with should_abort).
		Claim: RetryPolicy{On: []Code{CodeUnavailable},
			Pauses: []time.Duration{time.Second, time.Second, time.Second, time.Second}},
		BeatWaitsForAnswer:        true,
		BeatAnswer:                BeatStops,
		BeatUntil:                 BeatEndsWithComplete,
		CompleteNotFoundDelivered: true,
		// Observed against a loopback server: retries after 4, 8, 16, 30, 30s.
		Complete: RetryPolicy{On: []Code{CodeUnavailable}, Pauses: []time.Duration{4 * time.Second,
			8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
		// run_grpc_worker: a 2s sleep after each failure, max_retries=15 failures in a
		// row (consecutive_failures >= 15 exits); only a stream ended OK resets the count,
		// and once one has, UNAVAILABLE means the server went away.
		Reconnect: ReconnectPolicy{First: 2 * time.Second, Max: 2 * time.Second, GiveUp: 15,
			CleanEndReconnects: true, ExitOnUnavailableAfterCleanEnd: true},
		SigtermOnAssignment: true,
		// STEPFLOW_SHUTDOWN_GRACE_SECS' default.
		SigtermGrace:         10 * time.Second,
		SigtermKillsOverNATS: true,
		ErrorCodes:           pythonErrorCodes,
		SendsRunID:           true,
	},
	FlavourRust: {
		Concurrency:                  10,
		ClaimRefusedOnAlreadyClaimed: true,
		BeatWaitsForAnswer:           true,
		BeatAnswer:                   BeatIgnores,
		BeatUntil:                    BeatEndsWithComponent,
		// Worker::run: an open that succeeds or an assignment resets the count; a stream
		// that ended or failed is opened again at once; a failed open waits
		// 2^min(failures, 6) s, at most 60s; the 10th failure in a row ends the worker.
		Reconnect: ReconnectPolicy{First: 2 * time.Second, Doubles: true, Max: 60 * time.Second, GiveUp: 10,
			ResetOnOpen: true, AtOnceAfterOpen: true},
		// STEPFLOW_SHUTDOWN_GRACE_SECS' default; the NATS worker waits the same.
		SigtermGrace: 30 * time.Second,
		ErrorCodes: [NumComponentErrors]ErrorCode{ErrComponentFailed, ErrComponentFailed,
			ErrComponentFailed, ErrComponentFailed},
	},
	FlavourStrict: {
		Concurrency:                  4,
		DropsDuplicate:               true,
		DiscoveryBeats:               true,
		ClaimRefusedOnAbort:          true,
		ClaimRefusedOnAlreadyClaimed: true,
		Claim:                        RetryPolicy{On: []Code{CodeUnavailable, CodeDeadlineExceeded}, Pauses: strictPauses()},
		BeatAnswer:                   BeatAbandons,
		BeatUntil:                    BeatEndsWithComplete,
		CompleteNotFoundDelivered:    true,
		Complete:                     RetryPolicy{On: []Code{CodeUnavailable, CodeDeadlineExceeded}, Pauses: strictPauses()},
		// PROTOCOL.md does not say; every 2s like python, its count reset by an open
		// stream like rust's, exiting at the 15th failure in a row.
		Reconnect: ReconnectPolicy{First: 2 * time.Second, Max: 2 * time.Second, GiveUp: 15, ResetOnOpen: true},
		// PROTOCOL.md does not say; like rust it notices at once and lets running tasks
		// finish for 30s.
		SigtermGrace: 30 * time.Second,
		// tasksim's own flavour sends run_id: the per-run gate then works for it.
		SendsRunID: true,
		// tasksim's choice: python's mapping, so that bad input is not retried.
		ErrorCodes:  pythonErrorCodes,
		RPCDeadline: true,
	},
}

// pythonErrorCodes is the python SDK's classify_exception: ValueError (and any other
// exception) COMPONENT_FAILED, TypeError INVALID_INPUT, OSError, ConnectionError and
// TimeoutError RESOURCE_UNAVAILABLE; an unknown component, claimed, COMPONENT_FAILED.
var pythonErrorCodes = [NumComponentErrors]ErrorCode{
	ErrorValue:            ErrComponentFailed,
	ErrorType:             ErrInvalidInput,
	ErrorOS:               ErrResourceUnavailable,
	ErrorUnknownComponent: ErrComponentFailed,
}

// Policy returns the flavour's row of the table; the caller may read it, not change it
// (its slices are shared).
func (f Flavour) Policy() FlavourPolicy {
	if int(f) < len(policies) {
		return policies[f]
	}
	return policies[FlavourStrict]
}

// DefaultConcurrency is the number of slots a flavour runs when none is configured.
func (f Flavour) DefaultConcurrency() int { return f.Policy().Concurrency }
