package model

import (
	"testing"
	"time"
)

// pullMsg is the PullTasks a rig's worker sends.
var pullMsg = Message{Type: MsgPullTasks, From: selfNode, To: orchNode, Worker: selfNode}

func (r workerRig) opened(now time.Duration) Effects {
	var out Effects
	r.w.StreamOpened(now, &out)
	return out
}

func exited(code Code) Event {
	return Event{Kind: EvWorkerExited, Node: selfNode, Worker: selfNode, Code: code}
}

// Python (run_grpc_worker) sleeps 2s after every failure and exits at the 15th in a row.
// Opens that succeed and assignments do not reset the count: only a stream the
// orchestrator ended with OK does. Its stream fails at 1s, with a read outstanding;
// every reconnect is refused 5ms after it is made.
func TestPythonReconnectsEvery2sAndExitsAtThe15thFailure(t *testing.T) {
	r := newRig(t, FlavourPython, nil)
	r.start(0)
	now := sec(1)
	for n := 1; n <= 14; n++ {
		expectEffects(t, "failure", r.broken(now, CodeUnavailable), Effects{
			Timers: []TimerOp{{ID: reconnectTimer, At: now + sec(2)}}})
		now += sec(2)
		expectEffects(t, "reconnect", r.fire(now, reconnectTimer), Effects{Send: []Message{pullMsg}, Recv: true})
		if n == 7 {
			// An open stream and an assignment halfway do not reset the count.
			r.opened(now + ms(1))
			r.recv(now+ms(2), assignment(100, 1, 1))
		}
		now += ms(5)
	}
	expectEffects(t, "15th failure", r.broken(now, CodeUnavailable), Effects{Events: []Event{exited(CodeUnavailable)}})
	if !r.w.Exited() {
		t.Fatal("not exited after the 15th failure in a row")
	}
	expectEffects(t, "after exit", r.broken(now+sec(1), CodeUnavailable), Effects{})
}

// A stream the orchestrator ends with OK resets python's count and is opened again at
// once; from then on an UNAVAILABLE failure means the server went away and it exits.
func TestPythonCleanEndThenUnavailableExits(t *testing.T) {
	r := newRig(t, FlavourPython, nil)
	r.start(0)
	expectEffects(t, "failure", r.broken(sec(1), CodeUnavailable), Effects{
		Timers: []TimerOp{{ID: reconnectTimer, At: sec(3)}}})
	expectEffects(t, "reconnect", r.fire(sec(3), reconnectTimer), Effects{Send: []Message{pullMsg}, Recv: true})
	expectEffects(t, "ended OK", r.broken(sec(10), CodeOK), Effects{Send: []Message{pullMsg}, Recv: true})
	expectEffects(t, "UNAVAILABLE after OK", r.broken(sec(11), CodeUnavailable), Effects{Events: []Event{exited(CodeUnavailable)}})

	// A clean end on its own only reconnects, as often as it happens.
	r = newRig(t, FlavourPython, nil)
	r.start(0)
	for i := 1; i <= 20; i++ {
		expectEffects(t, "ended OK", r.broken(sec(i), CodeOK), Effects{Send: []Message{pullMsg}, Recv: true})
	}
}

// Rust (Worker::run): a stream that opened and then failed is opened again at once; an
// open that fails waits 2^failures s (4s after the second failure, 8s, 16s, 32s, then
// 60s) and the 10th failure in a row ends the worker. Its stream fails at 1s after an
// assignment arrived; each reconnect is refused 5ms after it is made.
func TestRustReconnectsAtOnceThenBacksOffAndGivesUpAtThe10thFailure(t *testing.T) {
	r := newRig(t, FlavourRust, nil)
	r.start(0)
	r.recv(ms(1), assignment(100, 1, 1))
	now := sec(1)
	expectEffects(t, "opened stream fails", r.broken(now, CodeUnavailable), Effects{Send: []Message{pullMsg}, Recv: true})
	now += ms(5)
	for _, pause := range []time.Duration{sec(4), sec(8), sec(16), sec(32), sec(60), sec(60), sec(60), sec(60)} {
		expectEffects(t, "open fails", r.broken(now, CodeUnavailable), Effects{
			Timers: []TimerOp{{ID: reconnectTimer, At: now + pause}}})
		now += pause
		expectEffects(t, "reconnect", r.fire(now, reconnectTimer), Effects{Send: []Message{pullMsg}, Recv: true})
		now += ms(5)
	}
	expectEffects(t, "10th failure", r.broken(now, CodeUnavailable), Effects{Events: []Event{exited(CodeUnavailable)}})
}

// A rust stream that opens (its headers arrive) resets the count: the next failure of
// that stream reconnects at once, and a refused open after it waits 4s, not more.
func TestRustOpenResetsTheCount(t *testing.T) {
	r := newRig(t, FlavourRust, nil)
	r.start(0)
	expectEffects(t, "open fails", r.broken(ms(5), CodeUnavailable), Effects{
		Timers: []TimerOp{{ID: reconnectTimer, At: ms(5) + sec(2)}}})
	r.fire(ms(5)+sec(2), reconnectTimer)
	expectEffects(t, "open fails again", r.broken(ms(10)+sec(2), CodeUnavailable), Effects{
		Timers: []TimerOp{{ID: reconnectTimer, At: ms(10) + sec(6)}}})
	r.fire(ms(10)+sec(6), reconnectTimer)
	expectEffects(t, "opened", r.opened(sec(7)), Effects{})
	expectEffects(t, "opened stream ends", r.broken(sec(20), CodeOK), Effects{Send: []Message{pullMsg}, Recv: true})
	expectEffects(t, "open fails", r.broken(sec(21), CodeUnavailable), Effects{
		Timers: []TimerOp{{ID: reconnectTimer, At: sec(25)}}})
}

// A worker learns its stream broke only when its read loop reads: a rust worker with its
// one slot busy finds out when the task is over (CompleteTask answered at 5.002s) and
// reconnects then, at once; the break at 2s changes nothing before that.
func TestRustNoticesABreakWhenASlotFrees(t *testing.T) {
	r := claimed(t, FlavourRust, ms(2), func(c *WorkerConfig) { c.Concurrency = 1 })
	if r.w.Reading() {
		t.Fatal("reading with its only slot busy")
	}
	expectEffects(t, "break while busy", r.broken(sec(2), CodeUnavailable), Effects{})
	got := r.done(sec(5), 1, false, 10)
	if len(got.Send) != 1 || got.Send[0].Type != MsgComplete || got.Recv {
		t.Fatalf("component done: %+v, want CompleteTask and no read", got)
	}
	got = r.recv(sec(5)+ms(2), completeAnswer(got.Send[0].Call, CodeOK))
	if len(got.Send) != 1 || got.Send[0] != pullMsg || !got.Recv || hasTimer(got, reconnectTimer) {
		t.Fatalf("slot freed: %+v, want PullTasks at once and a read", got)
	}
}

// Python reads one ahead: with its slot full and one assignment waiting, the break at
// 2s is noticed when the waiting one gets the slot (task 100's CompleteTask is answered
// at 5.002s), and the 2s pause starts then.
func TestPythonNoticesABreakWhenItReadsAgain(t *testing.T) {
	r := claimed(t, FlavourPython, ms(2), func(c *WorkerConfig) { c.Concurrency = 1 })
	r.recv(ms(3), assignment(101, 2, 1)) // the one ahead: waits for the slot
	if r.w.Reading() || r.w.Waiting() != 1 {
		t.Fatalf("reading %v, waiting %d; want a full worker", r.w.Reading(), r.w.Waiting())
	}
	expectEffects(t, "break while full", r.broken(sec(2), CodeUnavailable), Effects{})
	got := r.done(sec(5), 1, false, 10)
	if len(got.Send) != 1 || got.Send[0].Type != MsgComplete || got.Recv || hasTimer(got, reconnectTimer) {
		t.Fatalf("component done: %+v, want CompleteTask only", got)
	}
	got = r.recv(sec(5)+ms(2), completeAnswer(got.Send[0].Call, CodeOK))
	var reconnectAt time.Duration
	for _, op := range got.Timers {
		if op.ID == reconnectTimer {
			reconnectAt = op.At
		}
	}
	if got.Recv || reconnectAt != sec(7)+ms(2) || len(got.Send) != 1 || got.Send[0].Type != MsgHeartbeat {
		t.Fatalf("slot freed: %+v, want the waiting task's claim, no read, the reconnect at 7.002s", got)
	}
}

func hasTimer(e Effects, id TimerID) bool {
	for _, op := range e.Timers {
		if op.ID == id {
			return true
		}
	}
	return false
}
