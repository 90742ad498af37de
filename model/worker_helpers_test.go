package model

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Nodes of the single-worker tests.
const (
	orchNode  NodeID = 1
	queueNode NodeID = 2
	selfNode  NodeID = 7
)

const testComponent int32 = 3

func ms(n int) time.Duration  { return time.Duration(n) * time.Millisecond }
func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// workerRig drives one worker alone and returns what each input produced.
type workerRig struct {
	t *testing.T
	w *Worker
}

func newRig(t *testing.T, f Flavour, tweak func(*WorkerConfig)) workerRig {
	t.Helper()
	cfg := WorkerConfig{Node: selfNode, Orchestrator: orchNode, Source: orchNode, Pool: 0, Flavour: f}
	if tweak != nil {
		tweak(&cfg)
	}
	return workerRig{t: t, w: NewWorker(cfg)}
}

func (r workerRig) start(now time.Duration) Effects {
	var out Effects
	r.w.Start(now, &out)
	return out
}

func (r workerRig) recv(now time.Duration, m Message) Effects {
	var out Effects
	Deliver(r.w, now, m, &out)
	return out
}

func (r workerRig) fire(now time.Duration, id TimerID) Effects {
	var out Effects
	r.w.Fire(now, id, &out)
	return out
}

func (r workerRig) done(now time.Duration, exec uint32, failed bool, bytes int32) Effects {
	var out Effects
	r.w.ComponentDone(now, exec, failed, bytes, &out)
	return out
}

// expectEffects fails unless got is exactly want (nil and empty slices are the same).
func expectEffects(t *testing.T, what string, got, want Effects) {
	t.Helper()
	var diffs []string
	cmp := func(name string, g, w any, n, m int) {
		if n == 0 && m == 0 {
			return
		}
		if !reflect.DeepEqual(g, w) {
			diffs = append(diffs, fmt.Sprintf("%s:\n   got  %+v\n   want %+v", name, g, w))
		}
	}
	cmp("Send", got.Send, want.Send, len(got.Send), len(want.Send))
	cmp("Timers", got.Timers, want.Timers, len(got.Timers), len(want.Timers))
	cmp("Runs", got.Runs, want.Runs, len(got.Runs), len(want.Runs))
	cmp("Events", got.Events, want.Events, len(got.Events), len(want.Events))
	if got.Recv != want.Recv {
		diffs = append(diffs, fmt.Sprintf("Recv: got %v, want %v", got.Recv, want.Recv))
	}
	if len(diffs) > 0 {
		t.Fatalf("%s:\n%s", what, strings.Join(diffs, "\n"))
	}
}

func assignment(task TaskID, step StepID, attempt uint32) Message {
	return Message{Type: MsgAssignment, From: orchNode, To: selfNode, Task: task, Run: 1, Step: step,
		Attempt: attempt, Component: testComponent, PayloadBytes: 512, HeartbeatSecs: 1}
}

func discoveryAssignment(task TaskID) Message {
	return Message{Type: MsgAssignment, From: orchNode, To: selfNode, Task: task, Discovery: true}
}

// sentRun is the run_id the rig's worker puts on its heartbeats and completions of an
// execute assignment (whose run is 1): the run when its flavour sends one.
func (r workerRig) sentRun() RunID {
	if r.w.cfg.Flavour.Policy().SendsRunID {
		return 1
	}
	return NoRun
}

func (r workerRig) heartbeatMsg(call uint32, task TaskID, step StepID, attempt uint32) Message {
	return Message{Type: MsgHeartbeat, From: selfNode, To: orchNode, Call: call, Worker: selfNode,
		Task: task, Run: r.sentRun(), Truth: Truth{Step: step, Attempt: attempt}}
}

func heartbeatAnswer(call uint32, code Code, status TaskStatus, abort bool) Message {
	return Message{Type: MsgHeartbeatReply, From: orchNode, To: selfNode, Call: call, Code: code,
		Status: status, ShouldAbort: abort}
}

func inProgress(call uint32) Message { return heartbeatAnswer(call, CodeOK, StatusInProgress, false) }
func alreadyClaimed(call uint32) Message {
	return heartbeatAnswer(call, CodeOK, StatusAlreadyClaimed, true)
}

func (r workerRig) completeMsg(call uint32, task TaskID, step StepID, attempt uint32, bytes int32) Message {
	return Message{Type: MsgComplete, From: selfNode, To: orchNode, Call: call, Task: task, Run: r.sentRun(),
		Result: ResultResponse, PayloadBytes: bytes, Truth: Truth{Step: step, Attempt: attempt}}
}

func discoveryComplete(call uint32, task TaskID) Message {
	return Message{Type: MsgComplete, From: selfNode, To: orchNode, Call: call, Task: task, Run: NoRun,
		Discovery: true, Result: ResultListComponents}
}

func completeAnswer(call uint32, code Code) Message {
	return Message{Type: MsgCompleteReply, From: orchNode, To: selfNode, Call: call, Code: code}
}

// deadline is the RPC deadline timer a claim or CompleteTask of execution exec sent at
// `at` sets: 10s in the strict flavour, none in the reference flavours (PROTOCOL.md).
func deadline(f Flavour, exec uint32, at time.Duration) []TimerOp {
	if f != FlavourStrict {
		return nil
	}
	return []TimerOp{setTimer(exec, timerRPC, at+sec(10))}
}

// undeadline is the cancellation of that deadline when the answer comes.
func undeadline(f Flavour, exec uint32) []TimerOp {
	if f != FlavourStrict {
		return nil
	}
	return []TimerOp{cancelTimer(exec, timerRPC)}
}

func setTimer(exec uint32, kind workerTimerKind, at time.Duration) TimerOp {
	return TimerOp{ID: workerTimerID(exec, kind), At: at}
}

func cancelTimer(exec uint32, kind workerTimerKind) TimerOp {
	return TimerOp{ID: workerTimerID(exec, kind), Cancel: true}
}

func startRun(exec uint32, task TaskID, step StepID, attempt uint32) RunOp {
	return RunOp{Task: task, Step: step, Attempt: attempt, Component: testComponent, Exec: exec}
}

func stopRun(exec uint32, task TaskID, step StepID, attempt uint32) RunOp {
	r := startRun(exec, task, step, attempt)
	r.Stop = true
	return r
}

// execEvent is an event of execution exec running task/step/attempt of the test run.
func execEvent(kind EventKind, exec uint32, task TaskID, step StepID, attempt uint32) Event {
	return Event{Kind: kind, Node: selfNode, Worker: selfNode, Step: step, Run: 1, Task: task,
		Attempt: attempt, Component: testComponent, Exec: exec}
}

func replyEvent(exec uint32, task TaskID, step StepID, attempt uint32, m Message) Event {
	e := execEvent(EvReply, exec, task, step, attempt)
	e.Reason, e.Code, e.Status = uint8(m.Type), m.Code, m.Status
	return e
}

func endedEvent(exec uint32, task TaskID, step StepID, attempt uint32, reason uint8) Event {
	e := execEvent(EvExecEnded, exec, task, step, attempt)
	e.Reason = reason
	return e
}

func droppedEvent(exec uint32, task TaskID, step StepID, attempt uint32, reason uint8, code Code, status TaskStatus) Event {
	e := execEvent(EvTaskDropped, exec, task, step, attempt)
	e.Reason, e.Code, e.Status = reason, code, status
	return e
}

func discoveryEvent(kind EventKind, exec uint32, task TaskID) Event {
	return Event{Kind: kind, Node: selfNode, Worker: selfNode, Task: task, Exec: exec, Discovery: true}
}

// claimed brings a fresh worker to the state where execution 1 (task 100, step 5,
// attempt 1) was assigned at 0 and claimed by an answer at claimAt; its first loop
// heartbeat is due one interval (1s unless configured) later.
func claimed(t *testing.T, f Flavour, claimAt time.Duration, tweak func(*WorkerConfig)) workerRig {
	t.Helper()
	r := newRig(t, f, tweak)
	r.start(0)
	expectEffects(t, "assignment", r.recv(0, assignment(100, 5, 1)), Effects{
		Send:   []Message{r.heartbeatMsg(1, 100, 5, 1)},
		Timers: deadline(f, 1, 0),
		Recv:   r.w.slots > 1 || f == FlavourPython,
	})
	interval := time.Second
	if r.w.cfg.HeartbeatInterval > 0 {
		interval = r.w.cfg.HeartbeatInterval
	}
	expectEffects(t, "claim answer", r.recv(claimAt, inProgress(1)), Effects{
		Timers: append(undeadline(f, 1), setTimer(1, timerBeat, claimAt+interval)),
		Runs:   []RunOp{startRun(1, 100, 5, 1)},
		Events: []Event{replyEvent(1, 100, 5, 1, inProgress(1)), execEvent(EvExecStarted, 1, 100, 5, 1)},
	})
	return r
}
