package model

import (
	"slices"
	"testing"
	"time"
)

// Tests of the orchestrator behaviours PROTOCOL.md revised ("Changes from the first
// version"), each driven at explicit instants.

// Backoff is indexed by the retry count of the error's own kind: transport, transport,
// component, transport retries wait 1s, 1s, 1s (the first component retry), 2s (the
// third transport retry). Indexed by the step's retries together they would wait 1, 1,
// 2, 3.
func TestBackoffIndexedPerErrorKind(t *testing.T) {
	h := newOTHarness(t, nil)
	h.submit(0, 1, 1, 0)
	failures := []ErrorCode{ErrUnreachable, ErrTimeout, ErrComponentFailed, ErrUnreachable}
	for i, code := range failures {
		d := h.dispatched(1)[i]
		h.complete(d.When+100*otMillisecond, d.Task, otWorker, 1, d.Attempt, code)
		h.advance(h.eventsOf(EvRetryScheduled)[i].At)
	}
	var got []time.Duration
	for _, d := range h.dispatched(1) {
		got = append(got, d.When)
	}
	// Each failure comes 100ms after its dispatch; then the wait.
	want := []time.Duration{0, 1100 * otMillisecond, 2200 * otMillisecond, 3300 * otMillisecond, 5400 * otMillisecond}
	if !slices.Equal(got, want) {
		t.Fatalf("dispatches at %v, want %v", got, want)
	}
	reasons := []uint8{DispatchFirst, DispatchTransport, DispatchTransport, DispatchComponent, DispatchTransport}
	for i, d := range h.dispatched(1) {
		if d.Reason != reasons[i] || d.Attempt != uint32(i+1) {
			t.Fatalf("dispatch %d: reason %d attempt %d, want %d and %d", i, d.Reason, d.Attempt, reasons[i], i+1)
		}
	}
}

// Recovery resets a step's retry budgets and restores its attempt counter plus one. With
// a transport budget of 1: attempt 1 fails (the budget is spent), attempt 2 is claimed;
// a crash and restart re-dispatch it as attempt 3 with a fresh budget, so its transport
// failure is retried (attempt 4, after the first retry's 1s), and only the next one
// fails the step. A step whose retry was waiting for its backoff at the crash comes back
// as that retry's attempt plus one.
func TestRecoveryResetsRetryBudgets(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.MaxTransportRetries = 1 })
	h.submit(0, 1, 1, 0)
	h.submit(0, 2, 2, 0)
	t1, t2 := h.lastTask(1), h.lastTask(2)
	h.complete(100*otMillisecond, t1, otWorker, 1, 1, ErrUnreachable) // step 1: retry at 1.1s
	h.advance(1100 * otMillisecond)
	h.heartbeat(1200*otMillisecond, t1, otWorker, 1, 2)
	h.complete(1300*otMillisecond, t2, otWorker, 2, 1, ErrUnreachable) // step 2: retry at 2.3s
	h.advance(2 * otSecond)
	h.o.Crash()
	h.timers = map[TimerID]otTimer{}
	h.do(3*otSecond, h.o.Restart) // RecoveryTime 0: re-dispatched at once

	d1, d2 := h.dispatched(1), h.dispatched(2)
	if len(d1) != 3 || d1[2].When != 3*otSecond || d1[2].Attempt != 3 || d1[2].Reason != DispatchRecovery || d1[2].Task != t1 {
		t.Fatalf("step 1 dispatches %+v, want attempt 3 at 3s for recovery", d1)
	}
	if len(d2) != 2 || d2[1].When != 3*otSecond || d2[1].Attempt != 3 || d2[1].Reason != DispatchRecovery {
		t.Fatalf("step 2 dispatches %+v, want attempt 3 (its journaled retry was 2) at 3s", d2)
	}
	h.complete(3500*otMillisecond, t1, otWorker, 1, 3, ErrUnreachable)
	r := otOnly(t, h.eventsOf(EvRetryScheduled)[2:], "retries after recovery")
	if r.Step != 1 || r.At != 4500*otMillisecond || r.Attempt != 4 {
		t.Fatalf("retry after recovery %+v, want step 1 attempt 4 at 4.5s", r)
	}
	h.advance(4500 * otMillisecond)
	h.complete(4600*otMillisecond, t1, otWorker, 1, 4, ErrUnreachable)
	s := otOnly(t, h.eventsOf(EvStepSettled), "settled")
	if s.Step != 1 || s.Reason != SettledFailed || s.When != 4600*otMillisecond || s.Attempt != 4 {
		t.Fatalf("settled %+v, want step 1 failed at 4.6s on attempt 4", s)
	}
}

// The claim counts as seen. A task claimed right after the scan at 5s and silent from
// then on is 5s old at the scan at 10s but was seen (its claim) in that cycle, so the
// scan at 15s fails it. Claimed at 4.9s it is too young for the scan at 5s, which clears
// its claim's mark, and the scan at 10s fails it.
func TestClaimCountsAsSeen(t *testing.T) {
	for _, tc := range []struct {
		claim, wantAt time.Duration
	}{
		{claim: 5 * otSecond, wantAt: 15 * otSecond},
		{claim: 4900 * otMillisecond, wantAt: 10 * otSecond},
	} {
		h := newOTHarness(t, nil)
		h.submit(0, 1, 1, 0)
		h.advance(tc.claim) // the scan at this instant runs first
		otReplyIs(t, h.heartbeat(tc.claim, h.lastTask(1), otWorker, 1, 1), CodeOK, StatusInProgress, false)
		h.advance(30 * otSecond)
		ev := h.eventsOf(EvTimedOut)[0]
		if ev.When != tc.wantAt || ev.Reason != TimeoutHeartbeat || ev.LastSeen != tc.claim {
			t.Fatalf("claim at %v: timed out at %v (reason %d, last seen %v), want %v", tc.claim, ev.When, ev.Reason, ev.LastSeen, tc.wantAt)
		}
	}
}

// The execution cap is checked before the heartbeat on a scan. Cap 14s; at the scan at
// 15s task C (claimed 0.2s, silent since 9s) is over the cap and silent: an execution
// timeout, not a heartbeat one; B (claimed 1s, heartbeating) is over the cap; A (claimed
// 1.5s, silent since 9s) is under it and silent: a heartbeat timeout.
func TestScanChecksExecutionCapFirst(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.ExecutionTimeout = 14 * otSecond })
	for s := StepID(1); s <= 3; s++ {
		h.submit(0, s, RunID(s), 0)
	}
	a, b, c := h.lastTask(1), h.lastTask(2), h.lastTask(3)
	h.heartbeat(200*otMillisecond, c, otWorker, 3, 1)
	h.heartbeat(1*otSecond, b, otWorker, 2, 1)
	h.heartbeat(1500*otMillisecond, a, otWorker, 1, 1)
	for at := 2 * otSecond; at < 15*otSecond; at += otSecond {
		if at <= 9*otSecond {
			h.heartbeat(at, c, otWorker, 3, 1)
			h.heartbeat(at, a, otWorker, 1, 1)
		}
		h.heartbeat(at, b, otWorker, 2, 1)
	}
	h.advance(15 * otSecond)
	type timeout struct {
		task   TaskID
		reason uint8
		when   time.Duration
	}
	var got []timeout
	for _, e := range h.eventsOf(EvTimedOut) {
		got = append(got, timeout{e.Task, e.Reason, e.When})
	}
	want := []timeout{{c, TimeoutExecution, 15 * otSecond}, {b, TimeoutExecution, 15 * otSecond}, {a, TimeoutHeartbeat, 15 * otSecond}}
	if !slices.Equal(got, want) {
		t.Fatalf("timeouts %+v, want %+v", got, want)
	}
}

// The UNAVAILABLE gates for unknown tasks. The first start has none. A restart at 2s
// with a 2s replay closes the start-up gate: until 4s every unknown task answers
// UNAVAILABLE, with or without run_id. From 4s a request answers UNAVAILABLE only when it
// names a run still recovering, NOT_FOUND without run_id or for another run. Run 7's gate
// stays closed through its re-dispatch and its claim, and opens at its first accepted
// completion (6s); run 8's opens when its task's queue deadline fails it (34s).
func TestUnavailableGates(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.RecoveryTime = 2 * otSecond })
	const unknown TaskID = 999
	ask := func(at time.Duration, run RunID, want Code) {
		t.Helper()
		otReplyIs(t, h.heartbeat(at, unknown, otWorker, run, 1), want, StatusUnspecified, false)
		otReplyIs(t, h.complete(at, unknown, otWorker, run, 1, ErrUnspecified), want, StatusUnspecified, false)
	}
	ask(100*otMillisecond, 7, CodeNotFound)
	h.submit(200*otMillisecond, 1, 7, 0)
	h.submit(200*otMillisecond, 2, 8, 0)
	h.submit(200*otMillisecond, 3, 7, 0)
	h.advance(1 * otSecond)
	h.o.Crash()
	h.timers = map[TimerID]otTimer{}
	h.do(2*otSecond, h.o.Restart)
	if !h.o.StartupPending() {
		t.Fatal("start-up gate open during the replay")
	}
	ask(2500*otMillisecond, NoRun, CodeUnavailable)
	ask(3*otSecond, 7, CodeUnavailable)
	ask(3999*otMillisecond, 42, CodeUnavailable)
	h.advance(4 * otSecond)
	if h.o.StartupPending() || !h.o.Recovering(7) || !h.o.Recovering(8) {
		t.Fatalf("at 4s: start-up gate %v, run 7 %v, run 8 %v; want open, closed, closed",
			h.o.StartupPending(), h.o.Recovering(7), h.o.Recovering(8))
	}
	ask(4*otSecond, NoRun, CodeNotFound)
	ask(4*otSecond, 42, CodeNotFound)
	ask(4*otSecond, 7, CodeUnavailable)
	ask(4*otSecond, 8, CodeUnavailable)
	t1 := h.lastTask(1)
	otReplyIs(t, h.heartbeat(5*otSecond, t1, otWorker, 7, 2), CodeOK, StatusInProgress, false)
	ask(5100*otMillisecond, 7, CodeUnavailable) // a claim is no result
	otReplyIs(t, h.complete(6*otSecond, t1, otWorker, 7, 2, ErrUnspecified), CodeOK, StatusUnspecified, false)
	ask(6*otSecond, 7, CodeNotFound)
	ask(6*otSecond, 8, CodeUnavailable)
	h.advance(34 * otSecond)
	if to := h.eventsOf(EvTimedOut); len(to) != 2 || to[0].When != 34*otSecond || to[0].Reason != TimeoutQueue {
		t.Fatalf("timeouts %+v, want steps 2 and 3 at 34s", to)
	}
	ask(34*otSecond, 8, CodeNotFound)
}

// The per-run cap (2 here): run 1's steps 1-4 and run 2's step 5 arrive at 0; steps 1, 2
// and 5 are dispatched, 3 and 4 wait in the run (not in the queue, so their queue
// deadlines start only at their dispatch). Step 1's completion at 1s starts step 3. Step
// 2's component failure at 2s is retried (it stays in flight through its backoff) and,
// as the reference's loop starts at least one step per result, lets step 4 in: three in
// flight. Step 4's queue deadline fires 30s after its dispatch, at 32s.
func TestPerRunCap(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.MaxTasksPerRun = 2 })
	for s := StepID(1); s <= 4; s++ {
		h.submit(0, s, 1, 0)
	}
	h.submit(0, 5, 2, 0)
	if len(h.dispatched(3)) != 0 || len(h.dispatched(4)) != 0 || len(h.dispatched(5)) != 1 ||
		h.o.RunInFlight(1) != 2 || h.o.RunWaiting(1) != 2 || h.o.QueueDepth(0) != 3 {
		t.Fatalf("at 0: run 1 %d in flight, %d waiting; queue depth %d", h.o.RunInFlight(1), h.o.RunWaiting(1), h.o.QueueDepth(0))
	}
	h.complete(1*otSecond, h.lastTask(1), otWorker, 1, 1, ErrUnspecified)
	h.complete(2*otSecond, h.lastTask(2), otWorker, 1, 1, ErrComponentFailed)
	if h.o.RunInFlight(1) != 3 || h.o.RunWaiting(1) != 0 {
		t.Fatalf("at 2s: run 1 %d in flight, %d waiting; want 3 and 0", h.o.RunInFlight(1), h.o.RunWaiting(1))
	}
	h.advance(40 * otSecond)
	type dispatch struct {
		step   StepID
		when   time.Duration
		reason uint8
	}
	var got []dispatch
	for _, e := range h.eventsOf(EvDispatched) {
		got = append(got, dispatch{e.Step, e.When, e.Reason})
	}
	want := []dispatch{{1, 0, DispatchFirst}, {2, 0, DispatchFirst}, {5, 0, DispatchFirst},
		{3, 1 * otSecond, DispatchFirst}, {4, 2 * otSecond, DispatchFirst}, {2, 3 * otSecond, DispatchComponent}}
	if !slices.Equal(got[:len(want)], want) {
		t.Fatalf("dispatches %+v, want first %+v", got, want)
	}
	var step4 []otEvent
	for _, e := range h.eventsOf(EvTimedOut) {
		if e.Step == 4 {
			step4 = append(step4, e)
		}
	}
	if e := otOnly(t, step4, "step 4 timeouts"); e.When != 32*otSecond || e.Reason != TimeoutQueue {
		t.Fatalf("step 4 timed out at %v (reason %d), want a queue timeout at 32s", e.When, e.Reason)
	}
}

// After a restart the recovered run starts at most its cap again: steps 1 and 2 (in
// flight at the crash) are re-dispatched, step 3 (waiting) keeps waiting, and gets its
// first attempt when step 1 completes.
func TestPerRunCapAfterRecovery(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.MaxTasksPerRun = 2 })
	for s := StepID(1); s <= 3; s++ {
		h.submit(0, s, 1, 0)
	}
	h.advance(1 * otSecond)
	h.o.Crash()
	h.timers = map[TimerID]otTimer{}
	h.do(2*otSecond, h.o.Restart)
	if d := h.dispatched(3); len(d) != 0 || h.o.RunWaiting(1) != 1 || h.o.RunInFlight(1) != 2 {
		t.Fatalf("after recovery: step 3 dispatches %+v, run 1 %d waiting", d, h.o.RunWaiting(1))
	}
	for s := StepID(1); s <= 2; s++ {
		if d := h.dispatched(s); len(d) != 2 || d[1].When != 2*otSecond || d[1].Reason != DispatchRecovery || d[1].Attempt != 2 {
			t.Fatalf("step %d dispatches %+v", s, d)
		}
	}
	h.complete(3*otSecond, h.lastTask(1), otWorker, 1, 2, ErrUnspecified)
	if d := h.dispatched(3); len(d) != 1 || d[0].When != 3*otSecond || d[0].Reason != DispatchFirst || d[0].Attempt != 1 {
		t.Fatalf("step 3 dispatches %+v, want its first attempt at 3s", d)
	}
}
