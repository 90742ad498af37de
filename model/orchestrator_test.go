package model

import (
	"testing"
	"time"
)

const (
	otSecond      = time.Second
	otMillisecond = time.Millisecond
)

func TestDeadlineDetectorFailsExactlyTimeoutAfterLastHeartbeat(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.Detector = DetectorDeadline })
	h.connect(0, otWorker, 1)
	h.submit(0, 1, 1, 0)
	task := h.lastTask(1)
	otReplyIs(t, h.heartbeat(1*otSecond, task, otWorker, 1, 1), CodeOK, StatusInProgress, false)
	for _, at := range []time.Duration{2 * otSecond, 3 * otSecond, 4500 * otMillisecond} {
		otReplyIs(t, h.heartbeat(at, task, otWorker, 1, 1), CodeOK, StatusInProgress, false)
	}
	// The last heartbeat moved the one heartbeat deadline to 9.5s (same timer id).
	hbID := orchTimerID(orchTimerHeartbeat, 1, 0)
	if got, want := h.ops[len(h.ops)-1], (TimerOp{ID: hbID, At: 9500 * otMillisecond}); got != want {
		t.Fatalf("last timer op = %+v, want %+v", got, want)
	}
	h.advance(20 * otSecond)
	var hbFires []otFired
	for _, f := range h.fired {
		if kind, _, _ := splitOrchTimer(f.ID); kind == orchTimerHeartbeat {
			hbFires = append(hbFires, f)
		}
	}
	if len(hbFires) != 1 || hbFires[0] != (otFired{When: 9500 * otMillisecond, ID: hbID}) {
		t.Fatalf("heartbeat deadline fires = %+v, want one at 9.5s", hbFires)
	}
	ev := otOnly(t, h.eventsOf(EvTimedOut), "timeouts")
	want := otEvent{When: 9500 * otMillisecond, Event: Event{Kind: EvTimedOut, Reason: TimeoutHeartbeat, Node: otOrch,
		Worker: otWorker, Step: 1, Run: 1, Task: task, Attempt: 1, CurrentAttempt: 1, DeadlineAttempt: 1,
		ErrorCode: ErrTimeout, LastSeen: 4500 * otMillisecond}}
	if ev != want {
		t.Fatalf("timeout = %+v\nwant      %+v", ev, want)
	}
}

// The scan detector runs at 5s, 10s, 15s, ... from start. A task is failed on the second
// scan after its last heartbeat (or its claim, if it started less than 5s before the
// first one), so detection since the last heartbeat falls in (5s, 10s].
func TestScanDetectorFailsOnSecondScanAfterLastHeartbeat(t *testing.T) {
	tests := []struct {
		name string
		// claim is the first heartbeat; beats are the later ones (every second from the
		// claim up to lastBeat); afterScan delivers lastBeat after the scan at that instant.
		claim, lastBeat time.Duration
		afterScan       bool
		wantAt          time.Duration
	}{
		{name: "last heartbeat just before a scan: 5.001s", claim: 1 * otSecond, lastBeat: 9999 * otMillisecond, wantAt: 15 * otSecond},
		{name: "last heartbeat just after a scan: 9.999s", claim: 1 * otSecond, lastBeat: 10001 * otMillisecond, wantAt: 20 * otSecond},
		{name: "last heartbeat right after the scan at the same instant: 10s", claim: 1 * otSecond, lastBeat: 10 * otSecond, afterScan: true, wantAt: 20 * otSecond},
		{name: "claim only, 4.5s: started long enough before the second scan", claim: 4500 * otMillisecond, wantAt: 10 * otSecond},
		{name: "claim only, 5.5s: too young at 10s, failed at 15s", claim: 5500 * otMillisecond, wantAt: 15 * otSecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newOTHarness(t, nil)
			h.connect(0, otWorker, 1)
			h.submit(0, 1, 1, 0)
			task := h.lastTask(1)
			h.heartbeat(tc.claim, task, otWorker, 1, 1)
			last := tc.claim
			for at := tc.claim + otSecond; at < tc.lastBeat; at += otSecond {
				h.heartbeat(at, task, otWorker, 1, 1)
			}
			if tc.lastBeat > 0 {
				if tc.afterScan {
					h.advance(tc.lastBeat) // the scan at this instant runs first
				}
				h.heartbeat(tc.lastBeat, task, otWorker, 1, 1)
				last = tc.lastBeat
			}
			h.advance(25 * otSecond)
			ev := otOnly(t, h.eventsOf(EvTimedOut), "timeouts")
			if ev.When != tc.wantAt || ev.Reason != TimeoutHeartbeat || ev.LastSeen != last {
				t.Fatalf("timed out at %v reason %d last seen %v, want %v, %d, %v",
					ev.When, ev.Reason, ev.LastSeen, tc.wantAt, TimeoutHeartbeat, last)
			}
			if d := ev.When - ev.LastSeen; d <= 5*otSecond && tc.lastBeat > 0 || d > 10*otSecond {
				t.Fatalf("detection %v outside (5s, 10s]", d)
			}
		})
	}
}

// PROTOCOL.md hazard 2: a scan that takes time clears the seen set at its end, wiping a
// heartbeat that landed during it.
func TestScanDurationWipesHeartbeatDuringScan(t *testing.T) {
	for _, tc := range []struct {
		scanDuration time.Duration
		wantAt       time.Duration
	}{
		{scanDuration: 0, wantAt: 20 * otSecond},
		{scanDuration: 100 * otMillisecond, wantAt: 15 * otSecond},
	} {
		h := newOTHarness(t, func(c *OrchestratorConfig) { c.ScanDuration = tc.scanDuration })
		h.connect(0, otWorker, 1)
		h.submit(0, 1, 1, 0)
		task := h.lastTask(1)
		// Slow heartbeats: one per scan cycle, the last during the scan that starts at 10s.
		h.heartbeat(1*otSecond, task, otWorker, 1, 1)
		h.heartbeat(6*otSecond, task, otWorker, 1, 1)
		h.heartbeat(10050*otMillisecond, task, otWorker, 1, 1)
		h.advance(25 * otSecond)
		ev := otOnly(t, h.eventsOf(EvTimedOut), "timeouts")
		if ev.When != tc.wantAt || ev.LastSeen != 10050*otMillisecond {
			t.Fatalf("scan %v: timed out at %v (last seen %v), want %v", tc.scanDuration, ev.When, ev.LastSeen, tc.wantAt)
		}
	}
}

func TestExecutionCap(t *testing.T) {
	for _, det := range []Detector{DetectorScan, DetectorDeadline} {
		h := newOTHarness(t, func(c *OrchestratorConfig) { c.Detector = det; c.ExecutionTimeout = 12 * otSecond })
		h.connect(0, otWorker, 1)
		h.submit(0, 1, 1, 0)
		task := h.lastTask(1)
		for at := 1 * otSecond; at <= 30*otSecond; at += otSecond {
			h.heartbeat(at, task, otWorker, 1, 1)
			if len(h.eventsOf(EvTimedOut)) > 0 {
				break
			}
		}
		ev := otOnly(t, h.eventsOf(EvTimedOut), "timeouts")
		// Claimed at 1s: the scan notices at 15s (first scan with age >= 12s), the
		// deadline exactly at 13s.
		want := map[Detector]time.Duration{DetectorScan: 15 * otSecond, DetectorDeadline: 13 * otSecond}[det]
		if ev.When != want || ev.Reason != TimeoutExecution {
			t.Fatalf("detector %d: timed out at %v reason %d, want %v execution", det, ev.When, ev.Reason, want)
		}
	}
}

func TestHeartbeatClaimAndAlreadyClaimed(t *testing.T) {
	h := newOTHarness(t, nil)
	h.connect(0, otWorker, 1)
	h.submit(0, 1, 1, 0)
	task := h.lastTask(1)
	a, b := otWorker, otWorker+1
	otReplyIs(t, h.heartbeat(1*otSecond, task, a, 1, 1), CodeOK, StatusInProgress, false)
	otReplyIs(t, h.heartbeat(1500*otMillisecond, task, b, 1, 1), CodeOK, StatusAlreadyClaimed, true)
	otReplyIs(t, h.heartbeat(2*otSecond, task, a, 1, 1), CodeOK, StatusInProgress, false)
	otOnly(t, h.eventsOf(EvClaimed), "claims")
	if seen := otOnly(t, h.eventsOf(EvHeartbeatSeen), "seen"); seen.Worker != a || seen.When != 2*otSecond {
		t.Fatalf("seen = %+v", seen)
	}
	// CompleteTask from anyone is accepted, even the worker told to abort.
	otReplyIs(t, h.complete(3*otSecond, task, b, 1, 1, ErrUnspecified), CodeOK, StatusUnspecified, false)
	c := otOnly(t, h.eventsOf(EvCompleted), "completions")
	if c.Worker != b || c.Task != task {
		t.Fatalf("completed = %+v", c)
	}
	s := otOnly(t, h.eventsOf(EvStepSettled), "settled")
	if s.Reason != SettledCompleted || s.When != 3*otSecond {
		t.Fatalf("settled = %+v", s)
	}
	otReplyIs(t, h.complete(4*otSecond, task, a, 1, 1, ErrUnspecified), CodeNotFound, StatusUnspecified, false)
	if h.o.InFlight() != 0 || h.o.TrackedTasks() != 0 {
		t.Fatalf("in flight %d, tracked %d after settling", h.o.InFlight(), h.o.TrackedTasks())
	}
}

func TestCompleteTaskWithoutResultIsInvalid(t *testing.T) {
	h := newOTHarness(t, nil)
	h.submit(0, 1, 1, 0)
	got := h.rpc(1*otSecond, Message{Type: MsgComplete, From: otWorker, Task: h.lastTask(1), Run: 1})
	otReplyIs(t, got, CodeInvalidArgument, StatusUnspecified, false)
	if h.o.TrackedTasks() != 1 {
		t.Fatal("an invalid CompleteTask removed the task")
	}
}

// After a heartbeat timeout, the retry is dispatched at 7s (backoff 1s). With per_attempt
// ids the old attempt's late messages get NOT_FOUND; with reused ids the late heartbeat
// claims the retry and the late result is accepted as the retry's (a stale result).
func TestLateMessagesAfterTimeout(t *testing.T) {
	for _, perAttempt := range []bool{false, true} {
		h := newOTHarness(t, func(c *OrchestratorConfig) { c.Detector = DetectorDeadline; c.PerAttemptIDs = perAttempt })
		h.submit(0, 1, 1, 0)
		old := h.lastTask(1)
		h.heartbeat(1*otSecond, old, otWorker, 1, 1)
		h.advance(7 * otSecond)
		if ev := otOnly(t, h.eventsOf(EvTimedOut), "timeouts"); ev.When != 6*otSecond {
			t.Fatalf("timed out at %v, want 6s", ev.When)
		}
		retry := h.dispatched(1)
		if len(retry) != 2 || retry[1].When != 7*otSecond || retry[1].Attempt != 2 || retry[1].Reason != DispatchTransport {
			t.Fatalf("dispatches = %+v", retry)
		}
		if (retry[1].Task == old) == perAttempt {
			t.Fatalf("per_attempt=%v: retry task %d, old %d", perAttempt, retry[1].Task, old)
		}
		hb := h.heartbeat(7500*otMillisecond, old, otWorker, 1, 1)
		done := h.complete(8*otSecond, old, otWorker, 1, 1, ErrUnspecified)
		completed := h.eventsOf(EvCompleted)
		if perAttempt {
			otReplyIs(t, hb, CodeNotFound, StatusUnspecified, false)
			otReplyIs(t, done, CodeNotFound, StatusUnspecified, false)
			if len(completed) != 0 {
				t.Fatalf("per_attempt accepted a late result: %+v", completed)
			}
			continue
		}
		otReplyIs(t, hb, CodeOK, StatusInProgress, false)
		otReplyIs(t, done, CodeOK, StatusUnspecified, false)
		c := otOnly(t, completed, "completions")
		if c.Attempt != 1 || c.CurrentAttempt != 2 || c.When != 8*otSecond {
			t.Fatalf("stale result = %+v, want attempt 1 accepted for attempt 2 at 8s", c)
		}
	}
}

// Attempt 1 fails at 2s; its retry is dispatched at 3s and nobody claims it. With reused
// ids attempt 1's queue deadline (30s) fails attempt 2 early; with per_attempt ids attempt
// 2 times out on its own deadline at 33s.
func TestQueueDeadlineNeverCancelledUnderReuse(t *testing.T) {
	for _, tc := range []struct {
		perAttempt bool
		want       otEvent
	}{
		{false, otEvent{When: 30 * otSecond, Event: Event{Attempt: 2, DeadlineAttempt: 1}}},
		{true, otEvent{When: 33 * otSecond, Event: Event{Attempt: 2, DeadlineAttempt: 2}}},
	} {
		h := newOTHarness(t, func(c *OrchestratorConfig) { c.PerAttemptIDs = tc.perAttempt })
		h.connect(0, otWorker, 1)
		h.submit(0, 1, 1, 0)
		h.heartbeat(1*otSecond, h.lastTask(1), otWorker, 1, 1)
		h.complete(2*otSecond, h.lastTask(1), otWorker, 1, 1, ErrComponentFailed)
		h.advance(40 * otSecond)
		ev := h.eventsOf(EvTimedOut)[0]
		if ev.When != tc.want.When || ev.Reason != TimeoutQueue || ev.Attempt != tc.want.Attempt || ev.DeadlineAttempt != tc.want.DeadlineAttempt {
			t.Fatalf("per_attempt=%v: first timeout %+v, want at %v attempt %d deadline attempt %d", tc.perAttempt,
				ev, tc.want.When, tc.want.Attempt, tc.want.DeadlineAttempt)
		}
	}
}

// Each attempt is claimed at once and completes with the next error code, 100ms after it
// was dispatched; the table gives the outcome of each failure.
func TestRetryBudgets(t *testing.T) {
	const (
		retried = "retry"
		failed  = "fail"
	)
	type failure struct {
		code ErrorCode
		want string
	}
	tr := failure{ErrUnreachable, retried}
	to := failure{ErrTimeout, retried}
	co := failure{ErrComponentFailed, retried}
	ru := failure{ErrResourceUnavailable, retried}
	tests := []struct {
		name      string
		component int32 // 0 retriable, 1 not
		failures  []failure
	}{
		{"fourth transport failure fails the step", 0, []failure{tr, to, tr, {ErrTimeout, failed}}},
		{"component budget apart from transport", 0, []failure{co, tr, ru, tr, co, tr, {ErrComponentFailed, failed}}},
		{"transport spent, component left", 0, []failure{tr, tr, tr, co, co, co, {ErrUnreachable, failed}}},
		{"non-retriable component fails at once", 1, []failure{{ErrComponentFailed, failed}}},
		{"non-retriable component still retries transport", 1, []failure{tr, {ErrResourceUnavailable, failed}}},
		{"other codes fail the step", 0, []failure{co, {ErrInvalidInput, failed}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newOTHarness(t, nil)
			h.submit(0, 1, 1, tc.component)
			for i, f := range tc.failures {
				d := h.dispatched(1)
				if len(d) != i+1 {
					t.Fatalf("failure %d: %d dispatches, want %d", i+1, len(d), i+1)
				}
				last := d[i]
				if last.Attempt != uint32(i+1) {
					t.Fatalf("dispatch %d has attempt %d", i+1, last.Attempt)
				}
				h.heartbeat(last.When+50*otMillisecond, last.Task, otWorker, 1, last.Attempt)
				h.complete(last.When+100*otMillisecond, last.Task, otWorker, 1, last.Attempt, f.code)
				settled := h.eventsOf(EvStepSettled)
				switch f.want {
				case failed:
					s := otOnly(t, settled, "settled")
					if s.Reason != SettledFailed || s.ErrorCode != f.code || i != len(tc.failures)-1 {
						t.Fatalf("failure %d: settled %+v", i+1, s)
					}
				case retried:
					if len(settled) != 0 {
						t.Fatalf("failure %d (%d) settled the step", i+1, f.code)
					}
					r := h.eventsOf(EvRetryScheduled)
					wantReason := RetryTransport
					if classifyError(f.code) == errorComponent {
						wantReason = RetryComponent
					}
					got := r[len(r)-1]
					if got.Reason != wantReason || got.Attempt != uint32(i+2) {
						t.Fatalf("failure %d: retry %+v, want reason %d attempt %d", i+1, got, wantReason, i+2)
					}
					h.advance(got.At)
				}
			}
			if h.o.InFlight() != 0 {
				t.Fatal("step still in flight")
			}
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		name string
		b    Backoff
		want []time.Duration // retries 1, 2, ...
	}{
		{"fibonacci (reference)", Backoff{Kind: BackoffFibonacci, Min: otSecond, Max: 10 * otSecond},
			[]time.Duration{1 * otSecond, 1 * otSecond, 2 * otSecond, 3 * otSecond, 5 * otSecond, 8 * otSecond, 10 * otSecond, 10 * otSecond}},
		{"exponential factor 2", Backoff{Kind: BackoffExponential, Min: otSecond, Max: 10 * otSecond},
			[]time.Duration{1 * otSecond, 2 * otSecond, 4 * otSecond, 8 * otSecond, 10 * otSecond, 10 * otSecond}},
		{"exponential factor 1.5", Backoff{Kind: BackoffExponential, Min: 2 * otSecond, Max: time.Minute, Factor: 1.5},
			[]time.Duration{2 * otSecond, 3 * otSecond, 4500 * otMillisecond}},
		{"constant", Backoff{Kind: BackoffConstant, Min: 3 * otSecond, Max: 10 * otSecond},
			[]time.Duration{3 * otSecond, 3 * otSecond, 3 * otSecond}},
		{"uncapped fibonacci", Backoff{Min: otMillisecond},
			[]time.Duration{otMillisecond, otMillisecond, 2 * otMillisecond, 3 * otMillisecond, 5 * otMillisecond, 8 * otMillisecond, 13 * otMillisecond, 21 * otMillisecond}},
	}
	for _, tc := range tests {
		for i, want := range tc.want {
			if got := tc.b.Delay(i + 1); got != want {
				t.Errorf("%s: Delay(%d) = %v, want %v", tc.name, i+1, got, want)
			}
		}
	}
	if got := (Backoff{Min: otSecond}).Delay(500); got <= 0 {
		t.Errorf("uncapped Delay(500) overflowed: %v", got)
	}
}

// The reference schedule between a failure and its retry: 1, 1, 2, 3, 5, 8, 10s.
func TestRetryBackoffSchedule(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.MaxTransportRetries = 7 })
	h.submit(0, 1, 1, 0)
	var waits []time.Duration
	for i := range 8 {
		d := h.dispatched(1)[i]
		h.complete(d.When+100*otMillisecond, d.Task, otWorker, 1, d.Attempt, ErrUnreachable)
		if i == 7 {
			break
		}
		r := h.eventsOf(EvRetryScheduled)[i]
		waits = append(waits, r.At-(d.When+100*otMillisecond))
		h.advance(r.At)
		if next := h.dispatched(1)[i+1]; next.When != r.At {
			t.Fatalf("retry %d dispatched at %v, announced for %v", i+1, next.When, r.At)
		}
	}
	want := []time.Duration{1 * otSecond, 1 * otSecond, 2 * otSecond, 3 * otSecond, 5 * otSecond, 8 * otSecond, 10 * otSecond}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits = %v, want %v", waits, want)
		}
	}
}

// UnhealthyAfter 5: the flag comes at exactly the 5th consecutive failed completion,
// once per streak; a success resets the streak; timeouts neither count nor reset.
func TestComponentHealth(t *testing.T) {
	h := newOTHarness(t, nil)
	step := StepID(0)
	at := time.Duration(0)
	run := func(outcome string) {
		step++
		at += 10 * otMillisecond
		h.submit(at, step, 1, 1) // component 1: not retriable, so each step settles at once
		task := h.lastTask(step)
		switch outcome {
		case "fail":
			h.complete(at, task, otWorker, 1, 1, ErrComponentFailed)
		case "ok":
			h.complete(at, task, otWorker, 1, 1, ErrUnspecified)
		case "timeout":
			// Fire this step's queue deadline now rather than 30s later, so the other
			// steps' deadlines stay out of the way.
			h.do(at, func(now time.Duration, out *Effects) {
				h.o.Fire(now, orchTimerID(orchTimerQueue, h.o.deadlines[len(h.o.deadlines)-1].gen, int32(len(h.o.deadlines)-1)), out)
			})
		}
	}
	for _, o := range []string{"fail", "fail", "fail", "fail", "ok"} {
		run(o)
	}
	if n := len(h.eventsOf(EvUnhealthy)); n != 0 {
		t.Fatalf("flagged after a success reset the streak: %d", n)
	}
	for _, o := range []string{"fail", "fail", "timeout", "fail", "fail"} {
		run(o)
	}
	if n := len(h.eventsOf(EvUnhealthy)); n != 0 {
		t.Fatal("flagged after 4 failures and a timeout")
	}
	run("fail")
	ev := otOnly(t, h.eventsOf(EvUnhealthy), "unhealthy")
	if ev.Component != 1 || ev.Step != 0 || ev.When != at {
		t.Fatalf("unhealthy = %+v at %v, want component 1 at %v", ev, ev.When, at)
	}
	if !h.o.Unhealthy(1) || h.o.Unhealthy(0) {
		t.Fatal("Unhealthy gauge wrong")
	}
	run("fail")
	otOnly(t, h.eventsOf(EvUnhealthy), "unhealthy, once per streak")
	run("ok")
	for range 5 {
		run("fail")
	}
	if n := len(h.eventsOf(EvUnhealthy)); n != 2 {
		t.Fatalf("a new streak flags again: %d flags, want 2", n)
	}
}

// A crash at 2s and a restart at 3s with a 2s recovery: until 5s every unknown task
// answers UNAVAILABLE (the start-up gate); at 5s each unfinished step, the one waiting
// for its backoff included, is re-dispatched with attempt+1 and fresh budgets.
func TestRestartRecovery(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.RecoveryTime = 2 * otSecond; c.MaxTransportRetries = 1 })
	h.connect(0, otWorker, 10)
	h.submit(0, 2, 7, 0)
	h.submit(0, 1, 7, 0)
	h.submit(0, 3, 8, 0)
	t1, t2, t3 := h.lastTask(1), h.lastTask(2), h.lastTask(3)
	h.heartbeat(500*otMillisecond, t1, otWorker, 7, 1)
	h.complete(1*otSecond, t3, otWorker, 8, 1, ErrUnreachable) // step 3 waits for its retry at 2s
	h.complete(1*otSecond, t2, otWorker, 7, 1, ErrUnspecified) // step 2 settles
	h.advance(1500 * otMillisecond)
	h.o.Crash()
	h.timers = map[TimerID]otTimer{} // the driver drops the crashed process's timers
	h.events = nil
	h.do(3*otSecond, h.o.Restart)

	otReplyIs(t, h.heartbeat(3500*otMillisecond, t1, otWorker, 7, 1), CodeUnavailable, StatusUnspecified, false)
	otReplyIs(t, h.complete(3600*otMillisecond, t2, otWorker, 7, 1, ErrUnspecified), CodeUnavailable, StatusUnspecified, false)
	otReplyIs(t, h.heartbeat(3700*otMillisecond, t3, otWorker, 9, 1), CodeUnavailable, StatusUnspecified, false)
	otReplyIs(t, h.heartbeat(3750*otMillisecond, t3, otWorker, NoRun, 1), CodeUnavailable, StatusUnspecified, false)
	otReplyIs(t, h.heartbeat(3800*otMillisecond, t3, otWorker, 8, 1), CodeUnavailable, StatusUnspecified, false)
	h.advance(5 * otSecond)

	var got []Event
	for _, e := range h.events {
		if e.Kind == EvDispatched || e.Kind == EvRecovered {
			if e.When != 5*otSecond {
				t.Fatalf("recovery event at %v", e.When)
			}
			got = append(got, Event{Kind: e.Kind, Reason: e.Reason, Step: e.Step, Run: e.Run, Task: e.Task, Attempt: e.Attempt})
		}
	}
	want := []Event{
		{Kind: EvDispatched, Reason: DispatchRecovery, Step: 1, Run: 7, Task: t1, Attempt: 2},
		{Kind: EvRecovered, Run: 7},
		// Step 3's retry (attempt 2) was journaled before its backoff: restored, plus one.
		{Kind: EvDispatched, Reason: DispatchRecovery, Step: 3, Run: 8, Task: t3, Attempt: 3},
		{Kind: EvRecovered, Run: 8},
	}
	if len(got) != len(want) {
		t.Fatalf("recovery events = %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("recovery event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// After recovery: the settled step's id is NOT_FOUND without run_id (run 7's own gate
	// is closed until its first result); the recovered one is Queued again under the
	// same id, so the old worker's heartbeat claims it.
	otReplyIs(t, h.complete(5500*otMillisecond, t2, otWorker, NoRun, 1, ErrUnspecified), CodeNotFound, StatusUnspecified, false)
	otReplyIs(t, h.heartbeat(5500*otMillisecond, t1, otWorker, 7, 1), CodeOK, StatusInProgress, false)
	// Recovery reset the budget: step 1 has its one transport retry again.
	h.complete(6*otSecond, t1, otWorker, 7, 2, ErrUnreachable)
	if len(h.eventsOf(EvRetryScheduled)) != 1 || len(h.eventsOf(EvStepSettled)) != 0 {
		t.Fatal("a transport failure after recovery was not retried")
	}
	// Workers reconnect after a restart; the pull queue was lost and is refilled.
	if h.o.ConnectedWorkers(0) != 0 || h.o.QueueDepth(0) != 2 {
		t.Fatalf("after restart: %d workers, depth %d", h.o.ConnectedWorkers(0), h.o.QueueDepth(0))
	}
}

// Pull dispatch: per pool FIFO of assignments, round robin over ready streams, one
// assignment per send; a stream takes the next only after SendDone (the harness gives it
// while the pipe has room).
func TestPullDispatchCreditAndFIFO(t *testing.T) {
	h := newOTHarness(t, nil)
	a, b := otWorker, otWorker+1
	h.connect(0, a, 1)
	h.connect(0, b, 2)
	for s := StepID(1); s <= 5; s++ {
		h.submit(time.Duration(s)*otMillisecond, s, 1, 0)
	}
	if h.o.QueueDepth(0) != 2 || h.o.ConnectedWorkers(0) != 2 {
		t.Fatalf("depth %d, workers %d", h.o.QueueDepth(0), h.o.ConnectedWorkers(0))
	}
	h.credit(10*otMillisecond, b, 1)
	h.credit(11*otMillisecond, a, 5)
	type delivery struct {
		step StepID
		to   NodeID
	}
	var got []delivery
	for _, m := range h.sentOf(MsgAssignment) {
		got = append(got, delivery{m.Step, m.To})
		if m.HeartbeatSecs != 1 || m.PayloadBytes != 512 || m.Attempt != 1 || m.From != otOrch {
			t.Fatalf("assignment %+v", m)
		}
	}
	want := []delivery{{1, a}, {2, b}, {3, b}, {4, b}, {5, a}}
	if len(got) != len(want) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("deliveries %v, want %v", got, want)
		}
	}
	if d := h.eventsOf(EvDelivered); len(d) != 5 || d[4].Worker != a || d[4].Reason != DeliveryFirst || d[4].When != 11*otMillisecond {
		t.Fatalf("delivered events %+v", d)
	}
}

// Every PullTasks connect enqueues one list_components task at the back of the queue's
// FIFO, untargeted: whichever stream pops it answers it. It times out 5s after its
// dispatch and settles nothing; a reconnect enqueues another.
func TestDiscoveryOnConnect(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.Discovery = true })
	a, b := otWorker, otWorker+1
	h.submit(0, 1, 1, 0)
	h.connect(1*otSecond, a, 1) // FIFO: step 1, then a's discovery task; a takes step 1
	h.connect(2*otSecond, b, 2) // FIFO: a's discovery, b's discovery; b takes both
	as := h.sentOf(MsgAssignment)
	if len(as) != 3 || as[0].Step != 1 || as[0].To != a || !as[1].Discovery || as[1].To != b ||
		!as[2].Discovery || as[2].To != b || as[1].HeartbeatSecs != 0 {
		t.Fatalf("assignments %+v", as)
	}
	disp := h.eventsOf(EvDispatched)
	if len(disp) != 3 || !disp[1].Discovery || disp[1].Worker != 0 || disp[1].When != 1*otSecond {
		t.Fatalf("dispatches %+v", disp)
	}
	h.complete(2500*otMillisecond, as[1].Task, b, 0, 1, ErrUnspecified) // b answers a's one
	h.advance(10 * otSecond)
	// b's own discovery task, dispatched at 2s, times out at 7s; nothing settles and
	// nothing is retried.
	ev := otOnly(t, h.eventsOf(EvTimedOut), "timeouts")
	if !ev.Discovery || ev.When != 7*otSecond || ev.Reason != TimeoutQueue || ev.Task != as[2].Task {
		t.Fatalf("timeout %+v", ev)
	}
	if len(h.eventsOf(EvStepSettled)) != 0 || len(h.eventsOf(EvRetryScheduled)) != 0 || len(h.eventsOf(EvUnhealthy)) != 0 {
		t.Fatal("discovery settled or retried something")
	}
	// A reconnect is a new PullTasks: one more discovery task.
	h.connect(11*otSecond, a, 1)
	as = h.sentOf(MsgAssignment)
	if len(as) != 4 || !as[3].Discovery || as[3].To != a {
		t.Fatalf("assignments after a reconnect %+v", as)
	}
}

// With JetStream every assignment goes to the queue node; NATS workers open no stream to
// the orchestrator, so a PullTasks it might see triggers nothing.
func TestJetStreamModeSendsAssignmentsToQueue(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.JetStream = true; c.Queue = otQueue; c.Discovery = true })
	h.submit(0, 1, 1, 0)
	h.do(1*otSecond, func(now time.Duration, out *Effects) {
		h.o.Receive(now, Message{Type: MsgPullTasks, From: otWorker, To: otOrch, Worker: otWorker}, out)
	})
	as := h.sentOf(MsgAssignment)
	if len(as) != 1 || as[0].To != otQueue || as[0].Step != 1 || as[0].Discovery {
		t.Fatalf("assignments %+v", as)
	}
	if len(h.eventsOf(EvDelivered)) != 0 {
		t.Fatal("the orchestrator reported a delivery the queue makes")
	}
}

// A step submitted while the orchestrator is down waits in the journal and gets its first
// attempt when recovery ends.
func TestSubmitWhileDown(t *testing.T) {
	h := newOTHarness(t, func(c *OrchestratorConfig) { c.RecoveryTime = otSecond })
	h.o.Crash()
	h.timers = map[TimerID]otTimer{}
	h.submit(1*otSecond, 4, 9, 0)
	if len(h.dispatched(4)) != 0 {
		t.Fatal("dispatched while down")
	}
	h.do(2*otSecond, h.o.Restart)
	h.advance(3 * otSecond)
	d := h.dispatched(4)
	if len(d) != 1 || d[0].When != 3*otSecond || d[0].Reason != DispatchFirst || d[0].Attempt != 1 {
		t.Fatalf("dispatches %+v", d)
	}
	if r := otOnly(t, h.eventsOf(EvRecovered), "recovered"); r.Run != 9 {
		t.Fatalf("recovered %+v", r)
	}
}

// A worker whose stream broke gets nothing more; the others take its share.
func TestDisconnectStopsDelivery(t *testing.T) {
	h := newOTHarness(t, nil)
	a, b := otWorker, otWorker+1
	h.connect(0, a, 5)
	h.connect(0, b, 5)
	h.do(1*otSecond, func(now time.Duration, out *Effects) { h.o.Disconnect(now, a, out) })
	for s := StepID(1); s <= 3; s++ {
		h.submit(2*otSecond, s, 1, 0)
	}
	for _, m := range h.sentOf(MsgAssignment) {
		if m.To != b {
			t.Fatalf("assignment to %d after its disconnect", m.To)
		}
	}
	if h.o.ConnectedWorkers(0) != 1 {
		t.Fatalf("connected %d", h.o.ConnectedWorkers(0))
	}
}

// The orchestrator's side of a pull stream: an open stream takes one assignment, then
// waits for the driver's SendDone before it takes the next; a SendDone for a stream that
// broke does nothing, and a new stream is ready at once.
func TestStreamSendWaitsForSendDone(t *testing.T) {
	h := newOTHarness(t, nil)
	a := otWorker
	h.do(0, func(now time.Duration, out *Effects) {
		h.o.Receive(now, Message{Type: MsgPullTasks, From: a, To: otOrch, Worker: a}, out)
	})
	for s := StepID(1); s <= 3; s++ {
		h.submit(otMillisecond, s, 1, 0)
	}
	if n := len(h.sentOf(MsgAssignment)); n != 1 || h.o.QueueDepth(0) != 2 {
		t.Fatalf("%d sent, depth %d; want 1 and 2", n, h.o.QueueDepth(0))
	}
	h.do(2*otMillisecond, func(now time.Duration, out *Effects) { h.o.SendDone(now, a, out) })
	if as := h.sentOf(MsgAssignment); len(as) != 2 || as[1].Step != 2 || as[1].To != a {
		t.Fatalf("assignments %+v", as)
	}
	h.do(3*otMillisecond, func(now time.Duration, out *Effects) { h.o.Disconnect(now, a, out) })
	h.do(4*otMillisecond, func(now time.Duration, out *Effects) { h.o.SendDone(now, a, out) })
	if n := len(h.sentOf(MsgAssignment)); n != 2 || h.o.ConnectedWorkers(0) != 0 {
		t.Fatalf("%d sent after the break, %d connected", n, h.o.ConnectedWorkers(0))
	}
	h.do(5*otMillisecond, func(now time.Duration, out *Effects) {
		h.o.Receive(now, Message{Type: MsgPullTasks, From: a, To: otOrch, Worker: a}, out)
	})
	if as := h.sentOf(MsgAssignment); len(as) != 3 || as[2].Step != 3 || as[2].When != 5*otMillisecond {
		t.Fatalf("assignments after the reconnect %+v", as)
	}
}
