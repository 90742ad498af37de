package model

import (
	"slices"
	"testing"
	"time"
)

func (r workerRig) terminate(now time.Duration) Effects {
	var out Effects
	r.w.Terminate(now, &out)
	return out
}

func (r workerRig) raised(now time.Duration, exec uint32, kind ComponentError) Effects {
	var out Effects
	r.w.ComponentRaised(now, exec, kind, &out)
	return out
}

func (r workerRig) broken(now time.Duration, code Code) Effects {
	var out Effects
	r.w.StreamBroken(now, code, &out)
	return out
}

func exitedEvent() Event {
	return Event{Kind: EvWorkerExited, Reason: ExitTerminated, Node: selfNode, Worker: selfNode}
}

func graceSet(at time.Duration) TimerOp { return TimerOp{ID: graceTimer, At: at} }

var graceCancel = TimerOp{ID: graceTimer, Cancel: true}

// droppedAssignment is the event for an assignment given up unclaimed because of SIGTERM.
func droppedAssignment(m Message) Event {
	return Event{Kind: EvTaskDropped, Reason: DropTerminated, Node: selfNode, Worker: selfNode,
		Step: m.Step, Run: m.Run, Task: m.Task, Attempt: m.Attempt, Component: m.Component}
}

// sent returns the messages of type t in out.
func sent(out Effects, t MsgType) []Message {
	var ms []Message
	for _, m := range out.Send {
		if m.Type == t {
			ms = append(ms, m)
		}
	}
	return ms
}

func hasEventKind(out Effects, k EventKind) bool {
	return slices.ContainsFunc(out.Events, func(e Event) bool { return e.Kind == k })
}

// A python worker acts on SIGTERM only when its next assignment arrives: that assignment
// is dropped, the stream is closed, and the task it runs may finish within 10s, still
// heartbeating; its CompleteTask goes out as usual and the worker exits when it is over.
func TestWorkerPythonSigtermNoticedOnNextAssignment(t *testing.T) {
	r := claimed(t, FlavourPython, ms(10), nil)
	expectEffects(t, "SIGTERM at 1.5s: only a flag is set", r.terminate(ms(1500)), Effects{})
	if !r.w.Terminating() || r.w.Exited() {
		t.Fatalf("terminating %v exited %v, want true, false", r.w.Terminating(), r.w.Exited())
	}
	probe := assignment(200, 6, 1)
	expectEffects(t, "next assignment at 3s", r.recv(sec(3), probe), Effects{
		Timers:      []TimerOp{graceSet(sec(13))},
		Events:      []Event{droppedAssignment(probe)},
		CloseStream: true,
	})
	if r.w.Reading() || r.w.Held() != 1 {
		t.Fatalf("reading %v held %d after the notice, want false, 1", r.w.Reading(), r.w.Held())
	}
	// It heartbeats on while it waits (the loop's first beat is due at 1.01s).
	if out := r.fire(ms(3010), workerTimerID(1, timerBeat)); len(sent(out, MsgHeartbeat)) != 1 {
		t.Fatalf("no heartbeat during the grace: %+v", out)
	}
	r.recv(ms(3020), inProgress(2))
	out := r.done(sec(5), 1, false, 64)
	if c := sent(out, MsgComplete); len(c) != 1 || c[0].Call != 3 || hasEventKind(out, EvWorkerExited) {
		t.Fatalf("component done at 5s: %+v", out)
	}
	out = r.recv(ms(5010), completeAnswer(3, CodeOK))
	if !slices.Contains(out.Timers, graceCancel) || !slices.Contains(out.Events, exitedEvent()) || len(out.Send) != 0 {
		t.Fatalf("CompleteTask answered at 5.01s: want the grace cancelled and the exit, got %+v", out)
	}
	if !r.w.Exited() || r.w.Terminating() {
		t.Fatal("not exited")
	}
	expectEffects(t, "the process is gone", r.recv(sec(6), assignment(300, 7, 1)), Effects{})
}

// When the grace runs out, python cancels what still runs: the component stops and no
// CompleteTask is sent, ever; the orchestrator finds out by its heartbeat timer.
func TestWorkerSigtermGraceRunsOut(t *testing.T) {
	for _, tt := range []struct {
		flavour          Flavour
		sigterm, noticed time.Duration
		grace            time.Duration
	}{
		{FlavourPython, sec(1), sec(2), 10 * time.Second},
		{FlavourRust, sec(1), sec(1), 30 * time.Second},
		{FlavourStrict, sec(1), sec(1), 30 * time.Second},
	} {
		t.Run(tt.flavour.String(), func(t *testing.T) {
			r := claimed(t, tt.flavour, ms(10), nil)
			out := r.terminate(tt.sigterm)
			if tt.noticed > tt.sigterm {
				expectEffects(t, "SIGTERM", out, Effects{})
				probe := assignment(200, 6, 1)
				out = r.recv(tt.noticed, probe)
				if !slices.Contains(out.Events, droppedAssignment(probe)) {
					t.Fatalf("probe not dropped: %+v", out)
				}
			}
			if !out.CloseStream || !slices.Contains(out.Timers, graceSet(tt.noticed+tt.grace)) || len(out.Send) != 0 {
				t.Fatalf("notice at %s: want the stream closed and the grace until %s, got %+v", tt.noticed, tt.noticed+tt.grace, out)
			}
			end := tt.noticed + tt.grace
			// The loop's first beat (due 1s after the claim) never fired: it is cancelled.
			expectEffects(t, "grace over", r.fire(end, graceTimer), Effects{
				Timers: []TimerOp{cancelTimer(1, timerBeat)},
				Runs:   []RunOp{stopRun(1, 100, 5, 1)},
				Events: []Event{endedEvent(1, 100, 5, 1, ExecCancelled),
					droppedEvent(1, 100, 5, 1, DropTerminated, CodeOK, StatusUnspecified), exitedEvent()},
			})
			expectEffects(t, "a late component end", r.done(end+sec(1), 1, false, 64), Effects{})
			expectEffects(t, "a late beat timer", r.fire(end+sec(1), workerTimerID(1, timerBeat)), Effects{})
		})
	}
}

// Rust notices SIGTERM at once: it closes its stream and lets the running task finish
// (its CompleteTask goes out), then exits; an idle worker exits at once.
func TestWorkerRustSigtermWaitsForRunningTasks(t *testing.T) {
	r := claimed(t, FlavourRust, ms(10), nil)
	expectEffects(t, "SIGTERM at 2s", r.terminate(sec(2)), Effects{
		Timers:      []TimerOp{graceSet(sec(32))},
		CloseStream: true,
	})
	expectEffects(t, "an assignment already on its way is dropped", r.recv(ms(2001), assignment(200, 6, 1)), Effects{
		Events: []Event{droppedAssignment(assignment(200, 6, 1))},
	})
	out := r.done(sec(20), 1, false, 64)
	if c := sent(out, MsgComplete); len(c) != 1 || hasEventKind(out, EvWorkerExited) {
		t.Fatalf("component done at 20s: %+v", out)
	}
	out = r.recv(ms(20010), completeAnswer(c0(out), CodeOK))
	if !slices.Contains(out.Events, exitedEvent()) || !slices.Contains(out.Timers, graceCancel) {
		t.Fatalf("CompleteTask answered: want the exit, got %+v", out)
	}

	idle := newRig(t, FlavourRust, nil)
	idle.start(0)
	expectEffects(t, "idle rust worker", idle.terminate(sec(1)), Effects{
		Events:      []Event{exitedEvent()},
		CloseStream: true,
	})
}

// c0 is the call number of the one CompleteTask in out.
func c0(out Effects) uint32 { return sent(out, MsgComplete)[0].Call }

// A python worker in its reconnect pause, or whose stream fails, notices SIGTERM there
// (the loop checks the flag) instead of reconnecting.
func TestWorkerPythonSigtermAtReconnect(t *testing.T) {
	r := newRig(t, FlavourPython, nil)
	r.start(0)
	expectEffects(t, "stream fails at 1s", r.broken(sec(1), CodeUnavailable), Effects{
		Timers: []TimerOp{{ID: reconnectTimer, At: sec(3)}},
	})
	expectEffects(t, "SIGTERM at 2s", r.terminate(sec(2)), Effects{})
	expectEffects(t, "the pause ends at 3s: exit, no PullTasks", r.fire(sec(3), reconnectTimer), Effects{
		Events: []Event{exitedEvent()},
	})

	r = claimed(t, FlavourPython, ms(10), nil)
	r.terminate(sec(1))
	expectEffects(t, "stream fails at 4s after SIGTERM", r.broken(sec(4), CodeUnavailable), Effects{
		Timers: []TimerOp{graceSet(sec(14))},
	})
}

// The python NATS worker installs no SIGTERM handler: the signal ends it at once, its
// running task cancelled with no CompleteTask.
func TestWorkerPythonNATSSigtermKills(t *testing.T) {
	r := newRig(t, FlavourPython, func(c *WorkerConfig) { c.JetStream, c.Source = true, queueNode })
	r.start(0)
	a := assignment(100, 5, 1)
	a.From = queueNode
	r.recv(0, a)
	r.recv(ms(10), inProgress(1))
	out := r.terminate(sec(1))
	if !out.CloseStream || len(out.Send) != 0 || !slices.Equal(out.Runs, []RunOp{stopRun(1, 100, 5, 1)}) ||
		!slices.Contains(out.Events, endedEvent(1, 100, 5, 1, ExecCancelled)) || !slices.Contains(out.Events, exitedEvent()) ||
		slices.Contains(out.Timers, graceSet(sec(1))) {
		t.Fatalf("SIGTERM: want the task cancelled and the process gone at once, got %+v", out)
	}
}

// python maps the exception a component raised to a TaskErrorCode; rust reports
// COMPONENT_FAILED whatever it was; strict maps like python (tasksim's choice). An
// unknown component is claimed, then completed COMPONENT_FAILED by all.
func TestWorkerComponentErrorCodes(t *testing.T) {
	want := map[Flavour][NumComponentErrors]ErrorCode{
		FlavourPython: {ErrComponentFailed, ErrInvalidInput, ErrResourceUnavailable, ErrComponentFailed},
		FlavourRust:   {ErrComponentFailed, ErrComponentFailed, ErrComponentFailed, ErrComponentFailed},
		FlavourStrict: {ErrComponentFailed, ErrInvalidInput, ErrResourceUnavailable, ErrComponentFailed},
	}
	for f, codes := range want {
		for k := ComponentError(0); k < NumComponentErrors; k++ {
			r := claimed(t, f, ms(10), nil)
			out := r.raised(sec(2), 1, k)
			c := sent(out, MsgComplete)
			ended := slices.IndexFunc(out.Events, func(e Event) bool { return e.Kind == EvExecEnded })
			if len(c) != 1 || c[0].Result != ResultError || c[0].ErrorCode != codes[k] || ended < 0 || out.Events[ended].ErrorCode != codes[k] {
				t.Errorf("%s %s: want CompleteTask error %d, got %+v", f, k, codes[k], out)
			}
		}
	}
}
